import dns from 'node:dns';
import net from 'node:net';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, test } from 'vitest';
import { ownTopology } from '../src/driver/openTopology.js';
import { createPolyMongo } from '../src/index.js';

// Whether an open checks a connection is first decided from the options at construction, but a mongodb+srv URI
// learns `loadBalanced=true` from its TXT record only when the client connects. Behind a load balancer there is no
// monitor: the server is "selected" at once, so without the connection check an open of an unreachable load balancer
// would succeed. DNS is stubbed; every host resolves to 127.0.0.1, to a port nothing listens on.

const realResolve = dns.promises.resolve;
afterEach(() => {
  dns.promises.resolve = realResolve;
});

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** SRV and TXT answers for lb.review.example: one load balancer (on `port` of 127.0.0.1), loadBalanced=true. */
function fakeSrvWithLoadBalancer(port: number): void {
  dns.promises.resolve = (async (name: string, type: string) => {
    if (type === 'SRV') return [{ name: 'lb1.review.example', port, priority: 0, weight: 0 }];
    if (type === 'TXT') return [['loadBalanced=true']];
    throw Object.assign(new Error(`unexpected lookup ${type} ${name}`), { code: 'ENOTFOUND' });
  }) as typeof dns.promises.resolve;
}

// Every host name resolves to 127.0.0.1 (the driver passes `lookup` on to net.connect).
const lookup = (_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) =>
  options?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4);

const URI = 'mongodb+srv://lb.review.example/?tls=false&serverSelectionTimeoutMS=2000';

describe('SRV URI whose TXT record sets loadBalanced=true', () => {
  test('opening the topology of an unreachable load balancer fails (the connection check is still made)', async () => {
    fakeSrvWithLoadBalancer(await closedPort());
    const client = new MongoClient(URI, { lookup } as never);
    const opener = ownTopology(client);
    try {
      await expect(opener.open()).rejects.toThrow();
    } finally {
      await client.close(true);
    }
  });

  test('poly.connect() rejects when the load balancer is unreachable', async () => {
    fakeSrvWithLoadBalancer(await closedPort());
    const poly = createPolyMongo({ uri: URI, logger: { level: 'silent' }, driverOptions: { lookup } as never });
    try {
      await expect(poly.connect()).rejects.toThrow();
    } finally {
      await poly.forceClose();
    }
  });
});
