// Runs a script in a fresh Node process and returns the JSON object it prints last, with the process's wall time.
import { spawn } from 'node:child_process';

export function runFresh(script, args, { nodeArgs = [], env } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: env ? { ...process.env, ...env } : process.env,
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const processMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`${script} ${args.join(' ')} exited with ${code}`));
      const last = out.trim().split('\n').at(-1);
      try {
        resolve({ ...JSON.parse(last), processMs });
      } catch {
        reject(new Error(`${script} printed no JSON result: ${last}`));
      }
    });
  });
}
