// Why writes fail across a dropAllConnections() blip although the driver retries writes (issue #10).
// Concurrent inserts on the raw driver, all sockets dropped mid-flight, per round; prints failures, their labels and
// how many writes the driver sent twice (its retry). With `--label-stale`, the driver's command-error decoration is
// patched to label network errors from connections of an already-cleared pool generation as retryable, as it does
// for the first one: the failures vanish, which shows where they come from (client side, not the server).
// Run after a build: pnpm turbo run build --filter=@polymongo/testkit && node packages/native/scripts/measure-blip-retries.mjs [rounds] [--label-stale]
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EmbeddedMongo } from '@polymongo/testkit';
import { MongoClient } from 'mongodb';

const rounds = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5);
const labelStale = process.argv.includes('--label-stale');
const PER_ROUND = 60;

if (labelStale) {
  // Driver-internal (6.x and 7.x): Server#decorateCommandError returns early for a stale connection, before labelling.
  const driverLib = dirname(createRequire(import.meta.url).resolve('mongodb'));
  const { Server } = await import(pathToFileURL(join(driverLib, 'sdam', 'server.js')).href);
  const decorate = Server.prototype.decorateCommandError;
  Server.prototype.decorateCommandError = function (conn, cmd, options, error) {
    const decorated = decorate.call(this, conn, cmd, options, error);
    if (decorated?.name === 'MongoNetworkError' && cmd.insert && !decorated.hasErrorLabel('RetryableWriteError'))
      decorated.addErrorLabel('RetryableWriteError');
    return decorated;
  };
}

const server = await new EmbeddedMongo().start();
const client = new MongoClient(server.uri, { monitorCommands: true });
await client.connect();
const sent = new Map();
client.on('commandStarted', (e) => {
  if (e.commandName === 'insert') for (const d of e.command.documents) sent.set(d.n, (sent.get(d.n) ?? 0) + 1);
});
const coll = client.db('blip').collection('c');
const failures = new Map();
for (let round = 0; round < rounds; round++) {
  const writes = Array.from({ length: PER_ROUND }, (_, i) => coll.insertOne({ n: round * PER_ROUND + i }).catch((e) => e));
  setTimeout(() => server.dropAllConnections(), 2);
  for (const result of await Promise.all(writes)) {
    if (!(result instanceof Error)) continue;
    const key = `${result.name}, labels [${result.errorLabels?.join(',') ?? ''}]`;
    failures.set(key, (failures.get(key) ?? 0) + 1);
  }
}
const topology = client.topology?.description.type;
const failed = [...failures.values()].reduce((a, b) => a + b, 0);
console.log(`topology ${topology}; ${labelStale ? 'stale-connection errors labelled' : 'driver as shipped'}`);
console.log(
  `failed ${failed} of ${rounds * PER_ROUND} inserts; sent twice by the driver's retry: ${[...sent.values()].filter((v) => v > 1).length}`,
);
for (const [kind, n] of failures) console.log(`  ${n} × ${kind}`);
await client.close();
await server.stop();
