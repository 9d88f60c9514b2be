import { appendFile, readFile } from 'node:fs/promises';
import type { Checkpoint } from './runTenants.js';

/**
 * A checkpoint kept as one tenant id a line in `path`: a rerun with the same file skips the tenants already done.
 * Delete the file to start over.
 *
 * @example
 * await fleet.forEach(work, { checkpoint: fileCheckpoint('.polymongo-backfill.done') });
 */
export function fileCheckpoint(path: string): Checkpoint {
  let loaded: Promise<Set<string>> | undefined;
  const load = () => {
    loaded ??= readFile(path, 'utf8').then(
      (text) => new Set(text.split('\n').filter((line) => line.length > 0)),
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return new Set<string>();
        throw error;
      },
    );
    return loaded;
  };
  return {
    has: async (tenant) => (await load()).has(tenant),
    add: async (tenant) => {
      (await load()).add(tenant);
      await appendFile(path, `${tenant}\n`);
    },
  };
}
