import PolyMongo1x from '@polymongo/mongoose/compat';
import { adapterHost, createPolyMongo, type PolyMongo } from '@polymongo/native';
import { EmbeddedMongo } from '@polymongo/testkit';
import mongoose, { Schema } from 'mongoose';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { createMongooseAdapter } from '../src/index.js';
import { fakeSrv, restoreDns, SRV_URI } from './fakeSrv.js';
import { tenantId } from './helpers.js';

// The base connection of a pool whose first connect failed before its client had a topology (see fakeSrv.ts):
// Mongoose's setClient refuses such a client, so the adapter binds it on the pool's next successful connect.

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  restoreDns();
  await Promise.all(cleanup.splice(0).map((fn) => fn()));
});

const Item = mongoose.model('FirstConnectItem', new Schema({ n: Number }));

async function setup(): Promise<{ poly: PolyMongo; dnsState: { up: boolean } }> {
  const server = await new EmbeddedMongo().start();
  cleanup.push(() => server.stop());
  const dnsState = fakeSrv(Number(new URL(server.uri).port));
  const poly = createPolyMongo({ uri: SRV_URI, logger: { level: 'silent' }, mongodb: mongoose.mongo, retry: { attempts: 1 } });
  cleanup.push(() => poly.forceClose());
  return { poly, dnsState };
}

describe('a first connect that fails before the client has a topology', () => {
  test('models work once a later poly.connect() succeeds', async () => {
    const { poly, dnsState } = await setup();
    const Model = createMongooseAdapter({ poly }).wrapModel(Item);
    const t = tenantId('fc');
    const conn = Model.db(t).db;
    await expect(poly.connect()).rejects.toThrow(/ENOTFOUND/);
    dnsState.up = true;
    await poly.connect();
    // Unbound, the tenant's Mongoose connection would buffer this until bufferTimeoutMS, then fail.
    await Model.db(t).create({ n: 1 });
    expect(await Model.db(t).countDocuments()).toBe(1);
    expect(conn.readyState).toBe(mongoose.ConnectionStates.connected);
    // On the pool's client: native access sees the document.
    expect(await poly.db(t).collection(Item.collection.collectionName).countDocuments()).toBe(1);
  });

  test('an operation buffered meanwhile runs once a new tenant reconnects the pool, without another connect()', async () => {
    const { poly, dnsState } = await setup();
    const Model = createMongooseAdapter({ poly }).wrapModel(Item);
    const [t, later] = [tenantId('fc'), tenantId('fc2')];
    await expect(poly.connect()).rejects.toThrow(/ENOTFOUND/);
    // The tenant's first use tries the failed pool again (core), and fails again: DNS is still down.
    const buffered = Model.db(t).create({ n: 1 });
    await expect.poll(() => poly.state).toBe('failed');
    dnsState.up = true;
    // A tenant's first use tries a failed pool again (core), and that connect binds the base.
    expect(await Model.db(later).countDocuments()).toBe(0);
    await buffered;
    expect(await Model.db(t).countDocuments()).toBe(1);
    expect(poly.state).toBe('connected');
  });

  test('a buffered operation runs once a cached tenant is used again, without connect() or a new tenant', async () => {
    const { poly, dnsState } = await setup();
    const Model = createMongooseAdapter({ poly }).wrapModel(Item);
    const t = tenantId('fcc');
    // The tenant's first use creates the pool; its connect fails (DNS down) and the operation waits, buffered.
    const buffered = Model.db(t).create({ n: 1 });
    await expect.poll(() => poly.state).toBe('failed');
    dnsState.up = true;
    // Only the tenant the app already has: each use of a failed pool's cached tenant tries it again (at most once a
    // second), and that connect binds the base.
    await expect
      .poll(
        () => {
          Model.db(t);
          return poly.state;
        },
        { timeout: 10_000, interval: 100 },
      )
      .toBe('connected');
    await buffered;
    expect(await Model.db(t).countDocuments()).toBe(1);
  });

  test('one pool connect listener whatever the failed attempts, removed once bound', async () => {
    const { poly, dnsState } = await setup();
    // Counts the live `connect` subscriptions made through the host (the adapter's way to wait for the pool).
    const host = adapterHost(poly);
    const on = host.on.bind(host);
    let live = 0;
    vi.spyOn(host, 'on').mockImplementation(((event: 'connect', listener: (payload: { poolKey: string; clusterId: string }) => void) => {
      const off = on(event, listener);
      if (event !== 'connect') return off;
      live += 1;
      let done = false;
      return () => {
        if (!done) live -= 1;
        done = true;
        off();
      };
    }) as typeof host.on);
    const Model = createMongooseAdapter({ poly }).wrapModel(Item);
    const t = tenantId('fcl');
    expect(Model.db(t).db.readyState).toBe(mongoose.ConnectionStates.disconnected);
    for (let i = 0; i < 3; i++) await expect(poly.connect()).rejects.toThrow(/ENOTFOUND/);
    expect(live).toBe(1);
    dnsState.up = true;
    await poly.connect();
    expect(live).toBe(0);
    expect(await Model.db(t).countDocuments()).toBe(0);
  });

  test('1.x compat: connect() called again after recovery resolves, and models work', async () => {
    const server = await new EmbeddedMongo().start();
    cleanup.push(() => server.stop());
    const dnsState = fakeSrv(Number(new URL(server.uri).port));
    const wrapper = PolyMongo1x.createWrapper({ mongoURI: SRV_URI.replace('/?', '/app?') });
    cleanup.push(() => wrapper.forceCloseAll());
    // As a 1.x app does at start-up: its models are used before (or while) it connects.
    const Model = wrapper.wrapModel(Item);
    const t = tenantId('fc1x');
    const buffered = Model.db(t).create({ n: 1 });
    await expect(wrapper.connect()).rejects.toThrow(/ENOTFOUND/);
    dnsState.up = true;
    // 1.x's connect() waits for the primary Mongoose connection to open: unbound, it never would.
    const { connection } = await wrapper.connect();
    expect(connection.readyState).toBe(mongoose.ConnectionStates.connected);
    await buffered;
    expect(await Model.db(t).countDocuments()).toBe(1);
  });
});

describe('a first connect that fails with a topology (a plain host list, the server down)', () => {
  // The driver makes the topology before it selects a server, and PolyMongo keeps it open: the base is bound at the
  // failure, so operations fail with their own cause meanwhile (not a buffering timeout) and work once it is up.
  test('models fail with a server selection error meanwhile, then work once it is up', async () => {
    const server = await new EmbeddedMongo().start();
    const port = Number(new URL(server.uri).port);
    await server.stop();
    const poly = createPolyMongo({
      uri: `mongodb://127.0.0.1:${port}/?serverSelectionTimeoutMS=500`,
      logger: { level: 'silent' },
      mongodb: mongoose.mongo,
      retry: { attempts: 1 },
    });
    cleanup.push(() => poly.forceClose());
    const Model = createMongooseAdapter({ poly }).wrapModel(Item);
    const t = tenantId('down');
    await expect(poly.connect()).rejects.toThrow();
    await expect(Model.db(t).countDocuments()).rejects.toMatchObject({ name: 'MongoServerSelectionError' });
    const restarted = await new EmbeddedMongo({ port }).start();
    cleanup.push(() => restarted.stop());
    await poly.connect();
    await Model.db(t).create({ n: 1 });
    expect(await Model.db(t).countDocuments()).toBe(1);
  });
});
