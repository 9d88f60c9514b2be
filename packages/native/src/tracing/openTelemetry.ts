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
