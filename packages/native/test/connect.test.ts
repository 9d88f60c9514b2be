import { EmbeddedMongo, type EmbeddedMongoOptions } from '@polymongo/testkit';
import { afterEach, describe, expect, test } from 'vitest';
import { createPolyMongo, type PolyMongo } from '../src/index.js';

// What `poly.connect()` checks, as the README's "Connecting" section states it: without credentials (and no load
// balancer, see srvLoadBalanced.test.ts) server selection only, as driver 6.x's connect; with credentials one
// connection checked out, so bad credentials reject at connect().

const servers: EmbeddedMongo[] = [];
const polys: PolyMongo[] = [];
afterEach(async () => {
  await Promise.all(polys.splice(0).map((p) => p.forceClose()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function server(options: EmbeddedMongoOptions = {}): Promise<EmbeddedMongo> {
  const s = await new EmbeddedMongo(options).start();
  servers.push(s);
  return s;
}

/** A client, and the pool connections its driver creates (CMAP `connectionCreated`; monitors are not counted). */
function make(uri: string): { poly: PolyMongo; created: unknown[] } {
  const poly = createPolyMongo({ uri, logger: { level: 'silent' } });
  polys.push(poly);
  const created: unknown[] = [];
  poly.client().on('connectionCreated', (e) => created.push(e.connectionId));
  return { poly, created };
}

describe('poly.connect()', () => {
  test('without credentials it resolves once a server is selected and opens no pool connection; a ping opens one', async () => {
    const s = await server();
    const { poly, created } = make(s.uri);
    await poly.connect();
    expect(poly.state).toBe('connected');
    expect(created).toHaveLength(0);
    expect(poly.stats().pools[0]?.connections.open).toBe(0);
    await poly.ping();
    expect(created).toHaveLength(1);
  });

  test('with credentials it checks out one connection: a wrong password rejects it with AUTH_FAILED', async () => {
    const s = await server({ auth: { users: [{ user: 'app', password: 's3cret' }] } });
    await expect(make(`mongodb://app:wrong@${s.host}/?authSource=admin`).poly.connect()).rejects.toMatchObject({
      code: 'AUTH_FAILED',
    });
    const { poly, created } = make(`mongodb://app:s3cret@${s.host}/?authSource=admin`);
    await poly.connect();
    expect(created).toHaveLength(1);
    // Checked back in: the first operation uses it.
    expect(poly.stats().pools[0]?.connections.open).toBe(1);
    await poly.db('acme').collection('c').findOne({});
    expect(created).toHaveLength(1);
  });
});
