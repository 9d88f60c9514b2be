import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mongoose from 'mongoose';

const pkgDir = fileURLToPath(new URL('../..', import.meta.url));

/** The Mongoose major this vitest project runs (`mongoose` is aliased to Mongoose 8 in the `mongoose8` project). */
export const mongooseMajor = Number(mongoose.version.split('.')[0]) as 8 | 9;

/**
 * These tests run what users load, the built files: build when dist is missing or older than a source file. Under a
 * lock, so the default and mongoose8 projects running at once never copy a dist the other is rebuilding.
 */
export function ensureBuilt(): void {
  // turbo builds the workspace packages it depends on too (cached when they are fresh).
  const script =
    '[ -f dist/compat/index.cjs ] && [ -z "$(find src -newer dist/compat/index.cjs -type f | head -1)" ] || pnpm turbo run build --filter=@polymongo/mongoose';
  execFileSync('flock', [join(tmpdir(), 'polymongo-mongoose-build.lock'), 'sh', '-c', script], { cwd: pkgDir, stdio: 'ignore' });
}

/**
 * A throwaway app laid out as `npm install` would: node_modules/@polymongo/mongoose is a copy of this package's
 * package.json and dist (a copy, so its `require('mongoose')` resolves in the app, not in the workspace), `mongoose`
 * is the major under test, `polymongo` is the published 1.3.0 (with its own Mongoose 8 and Winston).
 */
export function installedProject(files: Record<string, string>, major: 8 | 9 = mongooseMajor): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-installed-'));
  const modules = join(dir, 'node_modules');
  const own = join(modules, '@polymongo/mongoose');
  mkdirSync(own, { recursive: true });
  cpSync(join(pkgDir, 'package.json'), join(own, 'package.json'));
  cpSync(join(pkgDir, 'dist'), join(own, 'dist'), { recursive: true });
  const link = (name: string, from = name) => {
    mkdirSync(dirname(join(modules, name)), { recursive: true });
    symlinkSync(realpathSync(join(pkgDir, 'node_modules', from)), join(modules, name), 'dir');
  };
  for (const name of ['@polymongo/core', '@polymongo/native', 'zod', 'express']) link(name);
  link('mongoose', major === 8 ? 'mongoose8' : 'mongoose');
  link('polymongo', 'polymongo-v1');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** A running child process with its output collected line by line. */
export interface Child {
  process: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the first stdout line matching `pattern`; rejects after `timeoutMS` or when the child exits first. */
  line(pattern: RegExp, timeoutMS?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs `node <args>` in `dir` asynchronously (the embedded server answers from this process, so it must not block).
 */
export function runNode(dir: string, args: string[]): Child {
  const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  const collect = (into: string[]) => {
    let rest = '';
    return (chunk: Buffer) => {
      const parts = (rest + chunk.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      into.push(...parts);
      for (const wake of waiters) wake();
    };
  };
  child.stdout?.on('data', collect(stdout));
  child.stderr?.on('data', collect(stderr));
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      done = true;
      // Let the pipes drain before the exit is reported.
      setImmediate(() => {
        for (const wake of waiters) wake();
        resolve({ code, signal });
      });
    }),
  );
  const line = (pattern: RegExp, timeoutMS = 20_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = stdout.find((l) => pattern.test(l));
        if (found !== undefined) return finish(() => resolve(found));
        if (done)
          finish(() =>
            reject(new Error(`exited before printing ${pattern}\nstdout:\n${stdout.join('\n')}\nstderr:\n${stderr.join('\n')}`)),
          );
      };
      const timer = setTimeout(
        () =>
          finish(() => reject(new Error(`no ${pattern} in ${timeoutMS} ms\nstdout:\n${stdout.join('\n')}\nstderr:\n${stderr.join('\n')}`))),
        timeoutMS,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });
  return { process: child, stdout, stderr, line, exited };
}
