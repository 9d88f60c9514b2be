import type { LoggerLike } from '@polymongo/core';
import { describe, expect, test } from 'vitest';
import type { AuditEvent, NativeOptions, PolyMongo } from '../src/index.js';
import { databaseNames, tenantId, useServer } from './helpers.js';

const env = useServer();

/** A logger that keeps every line it is given, as JSON, so tests can read what reached the log. */
function capturingLogger(): LoggerLike & { level: string; lines: string[] } {
  const lines: string[] = [];
  const keep = (obj: object, msg?: string) => lines.push(JSON.stringify({ ...obj, msg }));
  const logger = { level: 'info', lines, trace: keep, debug: keep, info: keep, warn: keep, error: keep, child: () => logger };
  return logger;
}

function audited(options: Partial<NativeOptions> = {}): { poly: PolyMongo; events: AuditEvent[] } {
  const poly = env.make(options);
  const events: AuditEvent[] = [];
  poly.on('audit', (e) => events.push(e));
  return { poly, events };
}

async function failNext(command: string, errorCode = 13): Promise<void> {
  await env.observer.db('admin').command({
    configureFailPoint: 'failCommand',
    mode: { times: 1 },
    data: { failCommands: [command], errorCode },
  });
}

describe('audit events', () => {
  test('dropTenant emits one success event with who, what, when, tenant and outcome', async () => {
    const { poly, events } = audited({ audit: { actor: () => 'alice@example.com' } });
    const tenant = tenantId('drop');
    await poly.db(tenant).collection('c').insertOne({ secret: 'document contents' });
    const before = Date.now();
    await poly.dropTenant(tenant);
    expect(events).toHaveLength(1);
    const [event] = events as [AuditEvent];
    expect(event).toMatchObject({ action: 'tenant.drop', actor: 'alice@example.com', tenant, outcome: 'success' });
    expect(event.at).toBeInstanceOf(Date);
    expect(event.at.getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(event.durationMS).toBeGreaterThanOrEqual(0);
    expect(event.error).toBeUndefined();
    expect(JSON.stringify(event)).not.toContain('document contents');
  });

  test('a dropTenant the server refuses emits a failure event with the code, and still throws', async () => {
    const { poly, events } = audited();
    const tenant = tenantId('dropfail');
    await poly.db(tenant).collection('c').insertOne({});
    await failNext('dropDatabase');
    await expect(poly.dropTenant(tenant)).rejects.toMatchObject({ code: 13 });
    expect(events).toMatchObject([{ action: 'tenant.drop', tenant, outcome: 'failure', error: { code: 13 } }]);
    expect(await databaseNames(env.observer)).toContain(tenant);
  });

  test('setPlacement emits the move with its target cluster; an unknown cluster is a failure', () => {
    const { poly, events } = audited({ clusters: { eu: { uri: env.mongo.uri } } });
    poly.setPlacement('acme', 'eu');
    expect(() => poly.setPlacement('acme', 'mars')).toThrow();
    expect(events).toMatchObject([
      { action: 'tenant.placement', tenant: 'acme', outcome: 'success', details: { cluster: 'eu' } },
      { action: 'tenant.placement', tenant: 'acme', outcome: 'failure', details: { cluster: 'mars' } },
    ]);
    expect(events[1]?.error?.code).toBe('UNKNOWN_CLUSTER');
  });

  test('setDedicated and connectDedicated emit dedicated pool changes; bad options are a failure', async () => {
    const { poly, events } = audited();
    const tenant = tenantId('ded');
    poly.setDedicated(tenant, { maxConnections: 3 });
    await poly.connectDedicated(tenant, { maxConnections: 4 });
    expect(() => poly.setDedicated(tenant, { maxConnections: -1 })).toThrow();
    expect(events).toMatchObject([
      { action: 'tenant.dedicated', tenant, outcome: 'success', details: { maxConnections: 3, connect: false } },
      { action: 'tenant.dedicated', tenant, outcome: 'success', details: { maxConnections: 4, connect: true } },
      { action: 'tenant.dedicated', tenant, outcome: 'failure', error: { code: 'CONFIG_INVALID' } },
    ]);
  });

  test('events reach the logger at info level with audit: true', async () => {
    const logger = capturingLogger();
    const { poly } = audited({ logger });
    const tenant = tenantId('log');
    await poly.dropTenant(tenant);
    const line = logger.lines.map((l) => JSON.parse(l)).find((l) => l.audit === true);
    expect(line).toMatchObject({ audit: true, action: 'tenant.drop', tenant, outcome: 'success' });
  });

  test('the sink collection receives every event, failures included', async () => {
    const sinkTenant = tenantId('ops');
    const { poly } = audited({ audit: { sink: { tenant: sinkTenant, collection: 'audit_log' }, actor: () => 'ops-bot' } });
    const tenant = tenantId('sunk');
    await poly.dropTenant(tenant);
    expect(() => poly.setPlacement(tenant, 'nowhere')).toThrow();
    const sink = env.observer.db(sinkTenant).collection('audit_log');
    await expect.poll(() => sink.countDocuments()).toBe(2);
    const docs = await sink
      .find({}, { projection: { _id: 0 } })
      .sort({ at: 1 })
      .toArray();
    expect(docs).toMatchObject([
      { action: 'tenant.drop', tenant, actor: 'ops-bot', outcome: 'success' },
      { action: 'tenant.placement', tenant, outcome: 'failure' },
    ]);
    expect(docs[0]?.at).toBeInstanceOf(Date);
  });

  test('the sink defaults to the collection "audit"', async () => {
    const sinkTenant = tenantId('ops2');
    const { poly } = audited({ audit: { sink: { tenant: sinkTenant } } });
    await poly.dropTenant(tenantId('x'));
    expect(await env.observer.db(sinkTenant).collection('audit').countDocuments()).toBe(1);
  });

  test('a dedicated URI with a password never appears in the event, the log or the sink', async () => {
    const logger = capturingLogger();
    const sinkTenant = tenantId('ops3');
    const { poly, events } = audited({ logger, audit: { sink: { tenant: sinkTenant } } });
    const port = new URL(env.mongo.uri.replace(/^mongodb:/, 'http:')).port;
    const uri = `mongodb://admin:Sup3rS3cret@127.0.0.1:${port}/?serverSelectionTimeoutMS=500&connectTimeoutMS=500`;
    const tenant = tenantId('pw');
    await poly.connectDedicated(tenant, { uri }).catch(() => undefined);
    poly.setDedicated(tenantId('pw2'), { uri });
    expect(events).toHaveLength(2);
    const sunk = await env.observer.db(sinkTenant).collection('audit').find().toArray();
    for (const text of [JSON.stringify(events), logger.lines.join('\n'), JSON.stringify(sunk)]) {
      expect(text).not.toContain('Sup3rS3cret');
    }
  });

  test('a throwing audit listener does not fail the action', async () => {
    const { poly } = audited();
    poly.on('audit', () => {
      throw new Error('listener bug');
    });
    await expect(poly.dropTenant(tenantId('l'))).resolves.toBeUndefined();
  });
});
