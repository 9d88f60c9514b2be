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
    await poly.forceClose();
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
