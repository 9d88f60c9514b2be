import { EventEmitter } from 'node:events';
import { MongoClient } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { adapterHost, createPolyMongo, InvalidClientError, type PolyMongo } from '../src/index.js';

describe('the adapter seam', () => {
  const make = (): PolyMongo => createPolyMongo({ uri: 'mongodb://127.0.0.1:1', logger: { level: 'silent' } });

  test('the core is not a property of the client: not enumerable, not reachable by name', async () => {
    const poly = make();
    expect(Object.keys(poly)).not.toContain('core');
    expect(Object.values(poly)).not.toContain(adapterHost(poly));
    expect('core' in poly).toBe(false);
    expect((poly as unknown as { core?: unknown }).core).toBeUndefined();
    // What adapters need beyond the host (the driver module, the stream tracker) is in host.binding, not on poly.
    for (const member of ['driver', 'trackStream']) expect(member in poly).toBe(false);
    await poly.forceClose();
  });

  test("the host's binding names the driver module the pools are built from, and tracks foreign streams", async () => {
    const poly = make();
    const { binding } = adapterHost(poly);
    expect(binding.driver.MongoClient).toBe(MongoClient);
    const custom = { MongoClient: class extends MongoClient {} };
    const other = createPolyMongo({ uri: 'mongodb://127.0.0.1:1', logger: { level: 'silent' }, mongodb: custom });
    expect(adapterHost(other).binding.driver).toBe(custom);
    let closed = 0;
    const stream = Object.assign(new EventEmitter(), {
      closed: false,
      async close() {
        closed += 1;
        stream.closed = true;
        stream.emit('close');
      },
    });
    binding.trackStream('acme', stream as never);
    expect(poly.stats().openStreams).toBe(1);
    expect(await poly.closeStreams('acme')).toBe(1);
    expect(closed).toBe(1);
    await Promise.all([poly.forceClose(), other.forceClose()]);
  });

  test('adapterHost(poly) gives adapters the host interface of that client', async () => {
    const poly = make();
    const host = adapterHost(poly);
    expect(host.settings.defaultCluster).toBe('default');
    expect(host.route('acme')).toEqual(poly.route('acme'));
    expect(host.acquire('acme').handle).toBe(poly.db('acme'));
    await poly.forceClose();
  });

  test('adapterHost refuses anything that is not a PolyMongo client with INVALID_CLIENT', () => {
    expect(() => adapterHost({} as PolyMongo)).toThrow(InvalidClientError);
  });
});
