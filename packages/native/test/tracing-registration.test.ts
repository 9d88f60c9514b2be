import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { tenantId, useServer } from './helpers.js';

// When PolyMongo traces, relative to when the application registers its tracer provider. Each test registers (or
// not) the provider itself; `trace.disable()` takes it away again.
const env = useServer();
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const register = () => expect(trace.setGlobalTracerProvider(provider)).toBe(true);
const polySpans = () => exporter.getFinishedSpans().filter((s) => s.instrumentationScope.name === '@polymongo/native');

afterEach(() => {
  trace.disable();
  exporter.reset();
});
afterAll(() => provider.shutdown());

describe('tracing and the registered tracer provider', () => {
  test('by default, with @opentelemetry/api installed but no provider registered, a pool has no command monitoring and makes no span', async () => {
    trace.disable();
    const poly = env.make();
    const tenant = tenantId('noprov');
    await poly.db(tenant).collection('c').insertOne({});
    expect(poly.client(tenant).options.monitorCommands).toBe(false);
    const started: string[] = [];
    poly.client(tenant).on('commandStarted', (e) => started.push(e.commandName));
    // A provider registered once the pool is open does not change it: the pool decided when its client was created.
    register();
    await poly.db(tenant).collection('c').find({}).toArray();
    expect(started).toEqual([]);
    expect(polySpans()).toEqual([]);
  });

  test('by default, a pool whose client is created after the provider is registered is traced', async () => {
    trace.disable();
    const shared = tenantId('early');
    const dedicated = tenantId('late');
    const poly = env.make({ dedicated: [{ tenants: [dedicated] }] });
    await poly.db(shared).collection('c').insertOne({});
    register();
    // The dedicated pool's client is created at its tenant's first use, now with a provider: traced.
    await poly.db(dedicated).collection('c').insertOne({});
    await poly.db(shared).collection('c').insertOne({});
    expect(poly.client(dedicated).options.monitorCommands).toBe(true);
    expect(poly.client(shared).options.monitorCommands).toBe(false);
    expect(polySpans().map((s) => [s.name, s.attributes['polymongo.tenant']])).toEqual([['insert c', dedicated]]);
  });

  test('tracing: true traces a pool opened before the provider was registered, into that provider', async () => {
    trace.disable();
    const poly = env.make({ tracing: true });
    const tenant = tenantId('forced');
    await poly.db(tenant).collection('c').insertOne({});
    expect(poly.client(tenant).options.monitorCommands).toBe(true);
    register();
    await poly.db(tenant).collection('c').find({}).toArray();
    expect(polySpans().map((s) => [s.name, s.attributes['polymongo.tenant']])).toEqual([['find c', tenant]]);
  });

  test('tracing: false makes no span and keeps command monitoring off, with a provider registered', async () => {
    register();
    const poly = env.make({ tracing: false });
    const tenant = tenantId('off');
    await poly.db(tenant).collection('c').insertOne({});
    expect(poly.client(tenant).options.monitorCommands).toBe(false);
    expect(polySpans()).toEqual([]);
  });
});
