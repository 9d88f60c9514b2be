import dns from 'node:dns';
import { createPolyMongo, type PolyMongo } from '@polymongo/native';
import { EmbeddedMongo } from '@polymongo/testkit';
import mongoose, { Schema } from 'mongoose';
import { afterEach, describe, expect, test } from 'vitest';
import { createMongooseAdapter } from '../src/index.js';
import { tenantId } from './helpers.js';

// A first connect can fail before the MongoClient has a topology: a mongodb+srv URI whose DNS lookup fails (DNS not
// up yet as the application starts), or a TLS file that cannot be read. Mongoose's setClient refuses such a client,
// so the adapter binds its base connection later. DNS is stubbed (both the 7.x driver's `resolve(name, type)` and
// the 6.x driver's `resolveSrv`/`resolveTxt`); every host name resolves to 127.0.0.1, where the server listens.

const realDns = { resolve: dns.promises.resolve, resolveSrv: dns.promises.resolveSrv, resolveTxt: dns.promises.resolveTxt };
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  Object.assign(dns.promises, realDns);
  await Promise.all(cleanup.splice(0).map((fn) => fn()));
});

/** DNS for cluster0.pm.example: fails with ENOTFOUND while `dns.up` is false, then one SRV record to `port`. */
function fakeSrv(port: number): { up: boolean } {
  const state = { up: false };
  const answer = async (name: string, type: string) => {
    if (!state.up) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    if (type === 'SRV') return [{ name: 'node1.pm.example', port, priority: 0, weight: 0 }];
    return [['']];
  };
  Object.assign(dns.promises, {
    resolve: answer,
    resolveSrv: (name: string) => answer(name, 'SRV'),
    resolveTxt: (name: string) => answer(name, 'TXT'),
  });
  return state;
}

const lookup = (_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) =>
  options?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4);

const Item = mongoose.model('FirstConnectItem', new Schema({ n: Number }));

async function setup(): Promise<{ poly: PolyMongo; dnsState: { up: boolean } }> {
  const server = await new EmbeddedMongo().start();
  cleanup.push(() => server.stop());
  const dnsState = fakeSrv(Number(new URL(server.uri).port));
  const poly = createPolyMongo({
    uri: 'mongodb+srv://cluster0.pm.example/?tls=false&serverSelectionTimeoutMS=2000',
    logger: { level: 'silent' },
    mongodb: mongoose.mongo,
    retry: { attempts: 1 },
    driverOptions: { lookup } as never,
  });
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
});
