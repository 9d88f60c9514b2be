// A load scenario: every contender alive in one process, each measured for a slice of time per round, 32 operations
// in flight, paired interleaved rounds.
import { contenders } from '../contenders.mjs';
import { log } from './cli.mjs';
import { closedLoop } from './load.mjs';
import { pairedRounds, summarise } from './paired.mjs';

export const IN_FLIGHT = 32;

export async function throughput({ uri, quick, tenants, tenant, op, only }) {
  const config = quick ? { rounds: 3, seconds: 0.2, warmupSeconds: 0.1 } : { rounds: 16, seconds: 0.5, warmupSeconds: 0.5 };
  const entries = Object.entries(contenders).filter(([name]) => !only || only.includes(name));
  const live = new Map();
  for (const [name, def] of entries) {
    const c = def.make(uri);
    await c.ready();
    for (let t = 0; t < tenants; t++) c.handle(tenant(t));
    await closedLoop(config.warmupSeconds, IN_FLIGHT, (n) => op(c, n));
    live.set(name, c);
  }
  const rounds = await pairedRounds(
    entries.map(([name]) => name),
    config.rounds,
    (name) => closedLoop(config.seconds, IN_FLIGHT, (n) => op(live.get(name), n)),
    log,
  );
  for (const c of live.values()) await c.close();
  return {
    config: { ...config, tenants, inFlight: IN_FLIGHT },
    ...summarise(rounds, entries, { opsPerSec: { higherIsBetter: true }, cpuUsPerOp: { higherIsBetter: false } }),
  };
}
