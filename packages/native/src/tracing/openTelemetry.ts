import { createRequire } from 'node:module';

/** The part of `@opentelemetry/api` PolyMongo uses (typed here so the package is not needed to build or run). */
export interface OtelSpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}

export interface OtelTracer {
  startSpan(name: string, options: { kind: number; attributes: Record<string, string | number> }, context: unknown): OtelSpan;
}

export interface OtelApi {
  trace: { getTracer(name: string, version?: string): OtelTracer };
  /** The tracer `trace.getTracer` returns while no provider is registered (exported since 1.0, deprecated in 1.x). */
  ProxyTracer?: unknown;
  context: { active(): unknown };
  SpanKind: { CLIENT: number };
  SpanStatusCode: { ERROR: number };
}

// Defined in the CJS build (and by Node for CommonJS modules); undefined in the ESM build.
declare const __filename: string | undefined;

let loaded: OtelApi | null | undefined;

/**
 * `@opentelemetry/api` when the application has it installed, else undefined. Resolved once, from this file's
 * location: `__filename` in the CJS build, `import.meta.url` in the ESM build (where a bare `require` is the
 * bundler's shim, which throws).
 */
export function openTelemetryApi(): OtelApi | undefined {
  if (loaded === undefined) {
    try {
      const here = typeof __filename === 'string' ? __filename : import.meta.url;
      loaded = createRequire(here)('@opentelemetry/api') as OtelApi;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/**
 * Whether the application registered a tracer provider. While none is, the API's global provider (a
 * ProxyTracerProvider) hands out ProxyTracers, whose spans are no-op; once one is registered, it hands out that
 * provider's tracers. A global registered through another copy of the API is another copy's provider: its tracers are
 * no ProxyTracer of this copy, so it counts as registered. When this cannot be told (an API without ProxyTracer), it
 * also counts as registered: better spans that may go nowhere than spans silently dropped.
 */
export function tracerProviderRegistered(api: OtelApi): boolean {
  try {
    const ProxyTracer = api.ProxyTracer;
    if (typeof ProxyTracer !== 'function') return true;
    return !(api.trace.getTracer('@polymongo/native') instanceof ProxyTracer);
  } catch {
    return true;
  }
}
