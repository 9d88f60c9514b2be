// Lints every publishable package as users receive it (packed): publint --strict and @arethetypeswrong/cli
// (node10, node16 CJS/ESM and bundler resolution for every entry point). Run after `pnpm build`:
//   node scripts/check-packages.mjs
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const failures = [];
for (const dir of readdirSync('packages').sort()) {
  let pkg;
  try {
    pkg = JSON.parse(readFileSync(join('packages', dir, 'package.json'), 'utf8'));
  } catch {
    continue;
  }
  if (pkg.private) continue;
  const cwd = join('packages', dir);
  for (const [tool, args] of [
    ['publint', ['publint', '--strict']],
    // An ESM-only package (no `require` condition, e.g. the CLI) is checked as such: CJS consumers use import().
    [
      'attw',
      [
        'attw',
        '--pack',
        '.',
        '--format',
        'ascii',
        ...(JSON.stringify(pkg.exports ?? {}).includes('"require"') ? [] : ['--profile', 'esm-only']),
      ],
    ],
  ]) {
    const run = spawnSync('pnpm', ['exec', ...args], { cwd, encoding: 'utf8' });
    const output = `${run.stdout}${run.stderr}`.replace(/npm warn Unknown user config.*\n/g, '');
    const ok = run.status === 0;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${tool.padEnd(8)} ${pkg.name}`);
    if (!ok) {
      console.log(output.trim().replace(/^/gm, '     '));
      failures.push(`${tool} ${pkg.name}`);
    }
  }
}
if (failures.length > 0) {
  console.error(`\n${failures.length} package check(s) failed: ${failures.join(', ')}`);
  process.exit(1);
}
console.log('\nevery package passes publint --strict and attw');
