import { describe, expect, test } from 'vitest';
import { PolyMongoCore } from '../src/client/PolyMongoCore.js';
import { HashRing } from '../src/routing/HashRing.js';
import { FakePort } from './fakePort.js';

const clusters = {
  eu: { uri: 'mongodb://eu.example:27017' },
  us: { uri: 'mongodb://us.example:27017' },
  ap: { uri: 'mongodb://ap.example:27017' },
};

describe('routing across clusters', () => {
  test('rules apply in order: override, explicit tenant, prefix, hash ring, default', () => {
    const core = new PolyMongoCore(
      {
        clusters,
        defaultCluster: 'eu',
        routing: {
          tenants: { acme: 'us' },
          prefixes: [
            { prefix: 'ap-', cluster: 'ap' },
            { prefix: 'ap-special', cluster: 'us' },
          ],
          overrides: { moving: 'ap' },
        },
      },
      new FakePort(),
    );
    expect(core.route('acme').clusterId).toBe('us');
    expect(core.route('ap-1').clusterId).toBe('ap');
    expect(core.route('ap-special').clusterId).toBe('ap');
    expect(core.route('moving').clusterId).toBe('ap');
    expect(core.route('someone').clusterId).toBe('eu');
    expect(core.route('acme').poolKey).toBe('cluster:us');
  });

  test('a hash ring spreads tenants over its clusters', () => {
    const core = new PolyMongoCore({ clusters, routing: { hashRing: { clusters: ['eu', 'us', 'ap'] } } }, new FakePort());
    const counts: Record<string, number> = { eu: 0, us: 0, ap: 0 };
    for (let i = 0; i < 30_000; i++) (counts[core.route(`t${i}`).clusterId] as number)++;
    for (const n of Object.values(counts)) expect(n).toBeGreaterThan(7_000);
  });

  test('setPlacement moves one tenant ahead of every rule, and back', () => {
    const core = new PolyMongoCore({ clusters, defaultCluster: 'eu' }, new FakePort());
    expect(core.route('acme').clusterId).toBe('eu');
    core.setPlacement('acme', 'us');
    expect(core.route('acme').clusterId).toBe('us');
    core.setPlacement('acme', undefined);
    expect(core.route('acme').clusterId).toBe('eu');
    expect(() => core.setPlacement('acme', 'mars')).toThrow(/not configured/);
  });

  test.each([2, 4, 8])('adding a cluster to a ring of %i moves about 1/(N+1) of 100,000 tenants', (n) => {
    const nodes = Array.from({ length: n }, (_, i) => `c${i}`);
    const before = new HashRing(nodes);
    const after = new HashRing([...nodes, `c${n}`]);
    let moved = 0;
    for (let i = 0; i < 100_000; i++) {
      const id = `tenant-${i}`;
      const from = before.nodeFor(id);
      const to = after.nodeFor(id);
      if (from !== to) {
        moved += 1;
        // Keys only ever move to the new node.
        expect(to).toBe(`c${n}`);
      }
    }
    const share = moved / 100_000;
    const expected = 1 / (n + 1);
    expect(Math.abs(share - expected) / expected).toBeLessThan(0.2);
  });
});
