// The server under every scenario: the embedded test server in its own process (or MONGODB_URI), so the client
// process measured holds nothing but the client.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export async function startServer() {
  if (process.env.MONGODB_URI) return { uri: process.env.MONGODB_URI, kind: 'external', pid: undefined, stop: async () => {} };
  const require = createRequire(import.meta.url);
  const cli = join(dirname(require.resolve('@polymongo/testkit/package.json')), 'dist', 'cli.js');
  const child = spawn(process.execPath, [cli, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const uri = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(String(d).trim()));
    child.once('exit', (code) => reject(new Error(`embedded server exited with ${code}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    uri,
    kind: 'embedded (own process)',
    pid: child.pid,
    // SIGKILL and wait: a server still working through a backlog must not compete for the CPU with what comes next.
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
