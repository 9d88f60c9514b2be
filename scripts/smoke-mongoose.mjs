#!/usr/bin/env node
// Consumer smoke test of the Mongoose adapter and the 1.x compat entry on each Mongoose major, from packed tarballs:
// pack core, native and mongoose, install them into a fresh npm project with mongoose@8 (driver 6.x) and then
// mongoose@9 (driver 7.x), and run a real create + find through createMongooseAdapter and through
// require('@polymongo/mongoose/compat') against startMongo() of the testkit.
// Usage (after `pnpm build`): node scripts/smoke-mongoose.mjs [8] [9]
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const root = resolve(import.meta.dirname, '..');
// The testkit is not a dependency of the root package: load its build directly.
const { startMongo } = await import(pathToFileURL(join(root, 'packages/testkit/dist/index.js')).href);
const majors = process.argv.slice(2).length ? process.argv.slice(2) : ['8', '9'];
const packDir = mkdtempSync(join(tmpdir(), 'pm-pack-'));
for (const pkg of ['core', 'native', 'mongoose-adapter']) {
  execFileSync('pnpm', ['pack', '--pack-destination', packDir], { cwd: join(root, 'packages', pkg), stdio: 'ignore' });
}
const tarballs = readdirSync(packDir).map((f) => join(packDir, f));

const program = `
const assert = require('node:assert');
const mongoose = require('mongoose');
const { createMongooseAdapter } = require('@polymongo/mongoose');
const PolyMongo = require('@polymongo/mongoose/compat');
(async () => {
  const uri = process.env.MONGODB_URI;
  const adapter = createMongooseAdapter({ uri, logger: { level: 'silent' } });
  const Item = adapter.wrapModel(mongoose.model('Item', new mongoose.Schema({ name: String })));
  await Item.db(process.env.SMOKE_DB + '_a').create({ name: 'via adapter' });
  assert.deepStrictEqual((await Item.db(process.env.SMOKE_DB + '_a').find().lean()).map((d) => d.name), ['via adapter']);
  await adapter.close();
  const wrapper = PolyMongo.createWrapper({ mongoURI: uri, gracefulShutdown: false });
  const User = wrapper.wrapModel(mongoose.model('User', new mongoose.Schema({ name: String })));
  await User.db(process.env.SMOKE_DB + '_b').create({ name: 'via compat' });
  assert.deepStrictEqual((await User.db(process.env.SMOKE_DB + '_b').find().lean()).map((d) => d.name), ['via compat']);
  await wrapper.closeAll();
  console.log('mongoose', mongoose.version, 'ok');
})().catch((error) => { console.error(error); process.exit(1); });
`;

const server = await startMongo({ replSet: true, quiet: true });
let failed = false;
try {
  for (const major of majors) {
    const dir = mkdtempSync(join(tmpdir(), `pm-smoke-m${major}-`));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `smoke-m${major}`, private: true }));
    writeFileSync(join(dir, 'main.cjs'), program);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', ...tarballs, `mongoose@^${major}`], { cwd: dir, stdio: 'inherit' });
    try {
      // Asynchronous: the embedded server answers from this process's event loop.
      const { stdout } = await promisify(execFile)(process.execPath, ['main.cjs'], {
        cwd: dir,
        env: { ...process.env, MONGODB_URI: server.uri, SMOKE_DB: `smoke_m${major}` },
      });
      process.stdout.write(stdout);
    } catch (error) {
      console.error(error);
      failed = true;
      console.error(`smoke: Mongoose ${major} failed (project left in ${dir})`);
    }
  }
} finally {
  await server.stop();
}
process.exit(failed ? 1 : 0);
