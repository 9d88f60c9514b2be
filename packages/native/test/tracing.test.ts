import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { tenantId, useServer } from './helpers.js';

const env = useServer();
const exporter = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const app = () => trace.getTracer('test-app');

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
});
afterEach(() => exporter.reset());
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

/** Runs `fn` in an application span and returns that span's id and trace id. */
async function inAppSpan(fn: () => Promise<unknown>): Promise<{ spanId: string; traceId: string }> {
  return app().startActiveSpan('request', async (span: Span) => {
    try {
      await fn();
    } finally {
      span.end();
    }
    return { spanId: span.spanContext().spanId, traceId: span.spanContext().traceId };
  });
}

const polySpans = () => exporter.getFinishedSpans().filter((s) => s.instrumentationScope.name === '@polymongo/native');
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('tracing with @opentelemetry/api', () => {
  test("spans of poly.db(t) operations are children of the application's span and carry the tenant, cluster, pool and namespace", async () => {
    const poly = env.make({ tenantDb: { prefix: 'pmn_tr_' } });
    const tenant = tenantId('trace');
    const parent = await inAppSpan(async () => {
      await poly.db(tenant).collection('orders').insertOne({ total: 10, secret: 'do-not-trace' });
      await poly.db(tenant).collection('orders').find({ total: 10 }).toArray();
    });
    const spans = polySpans();
    expect(spans.map((s) => s.name)).toEqual(['insert orders', 'find orders']);
    for (const span of spans) {
      expect(span.spanContext().traceId).toBe(parent.traceId);
      expect(parentOf(span)).toBe(parent.spanId);
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.attributes).toMatchObject({
        'polymongo.tenant': tenant,
        'polymongo.cluster': 'default',
        'polymongo.pool': 'cluster:default',
        'db.namespace': `pmn_tr_${tenant}`,
        'db.collection.name': 'orders',
        'db.system.name': 'mongodb',
      });
      expect(JSON.stringify(span.attributes)).not.toContain('do-not-trace');
    }
  });

  test('concurrent requests of different tenants each get their own spans under their own parent', async () => {
    const poly = env.make();
    const tenants = [tenantId('a'), tenantId('b'), tenantId('c')];
    const parents = await Promise.all(tenants.map((t) => inAppSpan(() => poly.db(t).collection('c').insertOne({ t }))));
    const spans = polySpans();
    expect(spans).toHaveLength(3);
    tenants.forEach((t, i) => {
      const span = spans.find((s) => s.attributes['polymongo.tenant'] === t);
      expect(parentOf(span as ReadableSpan)).toBe(parents[i]?.spanId);
    });
  });

  test('a dedicated tenant reports its own pool', async () => {
    const tenant = tenantId('ded');
    const poly = env.make({ dedicated: [{ tenants: [tenant] }] });
    await inAppSpan(() => poly.db(tenant).collection('c').insertOne({}));
    expect(polySpans()[0]?.attributes['polymongo.pool']).toBe(`dedicated:${tenant}`);
  });

  test('a failed command ends its span with an error status and the server code', async () => {
    const poly = env.make();
    const tenant = tenantId('dup');
    await inAppSpan(async () => {
      await poly
        .db(tenant)
        .collection('c')
        .insertOne({ _id: 1 } as never);
      await poly
        .db(tenant)
        .collection('c')
        .insertOne({ _id: 1 } as never)
        .catch(() => undefined);
    });
    const [ok, failed] = polySpans();
    expect(ok?.status.code).toBe(SpanStatusCode.UNSET);
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.attributes['db.response.status_code']).toBe('11000');
  });

  test('commands outside tenant databases (ping, listDatabases) make no span', async () => {
    const poly = env.make();
    await inAppSpan(async () => {
      await poly.ping();
      await poly.tenantExists(tenantId('none'));
    });
    expect(polySpans()).toEqual([]);
  });

  test('tracing: false makes no span', async () => {
    const poly = env.make({ tracing: false });
    await inAppSpan(() => poly.db(tenantId('off')).collection('c').insertOne({}));
    expect(polySpans()).toEqual([]);
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['request']);
  });
});
