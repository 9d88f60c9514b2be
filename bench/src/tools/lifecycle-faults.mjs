// Lifecycle under faults (issue #10 items 1-4): time for state to leave and return to connected across a server
// stop/start, health answer time during the outage, operations failed under a dedicated pool's TTL, writes cut by
// close() at cold start. Usage: pnpm --filter @polymongo/bench lifecycle-faults (after pnpm build)
import { setTimeout as delay } from 'node:timers/promises';
import { createPolyMongo } from '@polymongo/native';
import { EmbeddedMongo } from '@polymongo/testkit';

const driverOptions = { heartbeatFrequencyMS: 500, serverSelectionTimeoutMS: 30_000 };
const until = async (check) => {
  for (let i = 0; i < 2_000 && !check(); i++) await delay(5);
};
const server = await new EmbeddedMongo().start();

// 1. State and health across a stop/start.
const poly = createPolyMongo({ uri: server.uri, logger: { level: 'silent' }, driverOptions });
await poly.connect();
let t0 = performance.now();
await server.stop();
await until(() => poly.state !== 'connected');
const leaveMS = performance.now() - t0;
t0 = performance.now();
const health = await poly.health();
const healthMS = performance.now() - t0;
await delay(1000);
await server.start();
t0 = performance.now();
await until(() => poly.state === 'connected');
const returnMS = performance.now() - t0;
await poly.close();

// 3. A dedicated pool's TTL under steady traffic.
const ded = createPolyMongo({
  uri: server.uri,
  logger: { level: 'silent' },
  dedicated: [{ tenants: 'busy', autoClose: true, ttlMS: 300 }],
});
const ticks = ded.db('busy').collection('ticks');
let ttlFailures = 0;
for (let i = 0; i < 40; i++) {
  await ticks.insertOne({ i }).catch(() => (ttlFailures += 1));
  await delay(50);
}
await ded.close();

// 4. close() right after 10 inserts on a cold client, 20 rounds.
let cut = 0;
for (let round = 0; round < 20; round++) {
  const cold = createPolyMongo({ uri: server.uri, logger: { level: 'silent' } });
  const coll = cold.db('cold').collection(`r${round}`);
  const inserts = Array.from({ length: 10 }, (_, i) => coll.insertOne({ i }));
  await cold.close();
  cut += (await Promise.allSettled(inserts)).filter((r) => r.status === 'rejected').length;
}
await server.stop();

console.log(
  JSON.stringify(
    {
      stateLeavesConnectedMS: Math.round(leaveMS),
      stateReturnsToConnectedMS: Math.round(returnMS),
      heartbeatFrequencyMS: driverOptions.heartbeatFrequencyMS,
      healthDuringOutage: { ok: health.ok, state: health.state, answeredMS: Math.round(healthMS), timeoutMS: 2000 },
      dedicatedTtlFailures: `${ttlFailures} of 40 inserts (ttlMS 300, one insert every 50 ms)`,
      writesCutByColdClose: `${cut} of 200`,
    },
    null,
    2,
  ),
);
