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
  context: { active(): unknown };
  SpanKind: { CLIENT: number };
  SpanStatusCode: { ERROR: number };
}

let loaded: OtelApi | null | undefined;

/**
 * `@opentelemetry/api` when the application has it installed, else undefined. Resolved once, from this package's
 * location, with a `require` that exists in both builds: the CJS build's own, the ESM build's from createRequire.
 */
export function openTelemetryApi(): OtelApi | undefined {
  if (loaded === undefined) {
    try {
      const load = typeof require === 'function' ? require : createRequire(import.meta.url);
      loaded = load('@opentelemetry/api') as OtelApi;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}
