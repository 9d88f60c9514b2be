import { redactText } from '@polymongo/core';
import type { CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent, MongoClient } from 'mongodb';
import { type OtelApi, type OtelSpan, type OtelTracer, openTelemetryApi, tracerProviderRegistered } from './openTelemetry.js';

/** Where a command ran, as PolyMongo knows it: the pool's cluster and key, and the tenant of a database. */
export interface CommandOrigin {
  clusterId: string;
  poolKey: string;
  tenantForDatabase(dbName: string): string | undefined;
}

/** The tracer one pool's spans come from. */
export interface CommandTracer {
  readonly api: OtelApi;
  readonly tracer: OtelTracer;
}

/** Asked once per pool, as its client is created: the pool's tracer, or undefined (no spans, no command monitoring). */
export type PoolTracing = () => CommandTracer | undefined;

const TRACER_NAME = '@polymongo/native';

/**
 * How pools are traced, or undefined when nothing is (`tracing: false`, or `@opentelemetry/api` not installed).
 * Default (`undefined`): a pool is traced when a tracer provider is registered as its client is created — with the
 * API installed but no provider, spans would go nowhere while command monitoring costs CPU on every command.
 * `true`: every pool is traced; spans go to whichever provider is registered when each command starts.
 */
export function commandTracing(enabled: boolean | undefined): PoolTracing | undefined {
  if (enabled === false) return undefined;
  const api = openTelemetryApi();
  if (!api) return undefined;
  if (enabled === true) return () => ({ api, tracer: lateTracer(api) });
  return () => (tracerProviderRegistered(api) ? { api, tracer: api.trace.getTracer(TRACER_NAME) } : undefined);
}

/**
 * A tracer that looks for the application's provider until one is registered, then keeps its tracer. Not the API's
 * own ProxyTracer: that one follows only the provider registered through the same copy of the API, and the
 * application's copy may be another (ESM beside CJS, or another version).
 */
function lateTracer(api: OtelApi): OtelTracer {
  let found: OtelTracer | undefined;
  return {
    startSpan(name, options, context) {
      if (found) return found.startSpan(name, options, context);
      const tracer = api.trace.getTracer(TRACER_NAME);
      if (tracerProviderRegistered(api)) found = tracer;
      return tracer.startSpan(name, options, context);
    },
  };
}

/**
 * One CLIENT span per command on a tenant's database, from the driver's command monitoring. `commandStarted` runs in
 * the async context of the operation that sent the command, so the span's parent is the span active there: the
 * application's. Commands on databases that are no tenant's (admin: hello, ping, listDatabases) get no span.
 */
export function traceCommands(client: MongoClient, origin: CommandOrigin, { api, tracer }: CommandTracer): void {
  const open = new Map<number, OtelSpan>();
  client.on('commandStarted', (e: CommandStartedEvent) => {
    const tenant = origin.tenantForDatabase(e.databaseName);
    if (tenant === undefined) return;
    const collection = collectionOf(e);
    const attributes: Record<string, string | number> = {
      'db.system.name': 'mongodb',
      'db.system': 'mongodb',
      'db.namespace': e.databaseName,
      'db.operation.name': e.commandName,
      'polymongo.tenant': tenant,
      'polymongo.cluster': origin.clusterId,
      'polymongo.pool': origin.poolKey,
    };
    if (collection !== undefined) attributes['db.collection.name'] = collection;
    const [host, port] = splitAddress(e.address);
    if (host) attributes['server.address'] = host;
    if (port !== undefined) attributes['server.port'] = port;
    const name = collection === undefined ? e.commandName : `${e.commandName} ${collection}`;
    open.set(e.requestId, tracer.startSpan(name, { kind: api.SpanKind.CLIENT, attributes }, api.context.active()));
  });
  client.on('commandSucceeded', (e: CommandSucceededEvent) => {
    const span = open.get(e.requestId);
    if (!span) return;
    open.delete(e.requestId);
    // Write errors (duplicate keys, bad update operators) come back in an ok:1 reply.
    const writeError = (e.reply as { writeErrors?: Array<{ code?: number; errmsg?: string }> } | undefined)?.writeErrors?.[0];
    if (writeError) fail(api, span, writeError.code, writeError.errmsg ?? 'write error');
    span.end();
  });
  client.on('commandFailed', (e: CommandFailedEvent) => {
    const span = open.get(e.requestId);
    if (!span) return;
    open.delete(e.requestId);
    const code = (e.failure as { code?: unknown }).code;
    fail(api, span, typeof code === 'number' || typeof code === 'string' ? code : undefined, e.failure.message);
    span.end();
  });
}

function fail(api: OtelApi, span: OtelSpan, code: string | number | undefined, message: string): void {
  if (code !== undefined) span.setAttribute('db.response.status_code', String(code));
  span.setStatus({ code: api.SpanStatusCode.ERROR, message: redactText(message) });
}

/** The collection a command names (`{ find: 'orders' }`), never any other part of the command. */
function collectionOf(e: CommandStartedEvent): string | undefined {
  const value = (e.command as Record<string, unknown>)[e.commandName];
  if (typeof value === 'string') return value;
  // getMore names its collection apart from its cursor id.
  const named = (e.command as { collection?: unknown }).collection;
  return typeof named === 'string' ? named : undefined;
}

function splitAddress(address: string): [string | undefined, number | undefined] {
  const at = address.lastIndexOf(':');
  if (at <= 0) return [address || undefined, undefined];
  const port = Number(address.slice(at + 1));
  return [address.slice(0, at).replace(/^\[|\]$/g, ''), Number.isInteger(port) ? port : undefined];
}
