import { describeError, type LoggerLike, redactText } from '@polymongo/core';
import type { Db } from 'mongodb';

/** What was done. Native: `tenant.*`; `@polymongo/fleet` (and the CLI through it): `fleet.*`. */
export type AuditAction =
  | 'tenant.drop'
  | 'tenant.placement'
  | 'tenant.dedicated'
  | 'fleet.migrate'
  | 'fleet.indexes.sync'
  | 'fleet.validators.sync'
  | 'fleet.export'
  | 'fleet.import'
  | 'fleet.copy';

/**
 * `success`: it did all it was asked; `partial`: a fleet operation failed on some tenants (counted in `details`);
 * `failure`: it threw, or failed everywhere it ran.
 */
export type AuditOutcome = 'success' | 'partial' | 'failure';

/** Scalar facts about an administrative action: counts, cluster ids, flags. Never document contents or URIs. */
export type AuditDetails = Record<string, string | number | boolean | null>;

/** One administrative action: who did what, when, to which tenant, and how it ended. */
export interface AuditEvent {
  action: AuditAction;
  /** Who: `audit.actor()` at the time of the action (e.g. the signed-in operator), or undefined. */
  actor: string | undefined;
  /** When it started. */
  at: Date;
  durationMS: number;
  /** The tenant acted on; undefined for a fleet-wide operation (see `details`). */
  tenant: string | undefined;
  outcome: AuditOutcome;
  /** Why it failed: the error's name, code and message, credentials redacted. */
  error?: { name: string; code?: string | number; message: string };
  details?: AuditDetails;
}

/** The `audit` option of `createPolyMongo`. Events go to the logger and `poly.on('audit')` without it. */
export interface AuditOptions {
  /**
   * Also insert every event into this tenant's collection (default collection: `audit`). A failed insert is logged
   * (warn) and never fails the action. Default: no sink.
   * @example audit: { sink: { tenant: 'ops', collection: 'audit' } }
   */
  sink?: { tenant: string; collection?: string };
  /**
   * Who is acting, asked once per event (e.g. from your request context). Default: `actor` is undefined.
   * @example audit: { actor: () => requestContext.getStore()?.user.email }
   */
  actor?: () => string | undefined;
}

/** What a caller says of an action before running it. */
export interface AuditEntry {
  action: AuditAction;
  tenant?: string;
  details?: AuditDetails;
}

/** How an action that returned ended: `success` unless the summary says otherwise; extra details merged. */
export interface AuditSummary {
  outcome?: AuditOutcome;
  details?: AuditDetails;
}

const DEFAULT_COLLECTION = 'audit';

/**
 * Records administrative actions: an `audit` event, an info log line with `audit: true`, and the sink collection when
 * configured. One per client; `@polymongo/fleet` reaches it with `auditLog(poly)`.
 */
export class AuditLog {
  readonly #listeners = new Set<(event: AuditEvent) => void>();
  readonly #options: AuditOptions;
  readonly #logger: LoggerLike;
  readonly #sinkDb: (tenant: string) => Db;

  constructor(options: AuditOptions | undefined, logger: LoggerLike, sinkDb: (tenant: string) => Db) {
    this.#options = options ?? {};
    this.#logger = logger;
    this.#sinkDb = sinkDb;
  }

  /** Subscribes to events; returns the unsubscribe function. */
  on(listener: (event: AuditEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Runs `fn`, then records one event with its outcome (and rethrows its error). The sink insert is awaited. */
  async run<T>(entry: AuditEntry, fn: () => Promise<T>, summarize?: (result: T) => AuditSummary): Promise<T> {
    const at = new Date();
    const actor = this.#actor();
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      await this.#record(entry, at, actor, { outcome: 'failure' }, error);
      throw error;
    }
    await this.#record(entry, at, actor, summarize?.(result) ?? {});
    return result;
  }

  /** As `run`, for synchronous actions: the event is emitted before it returns; the sink insert runs on. */
  runSync<T>(entry: AuditEntry, fn: () => T): T {
    const at = new Date();
    const actor = this.#actor();
    let result: T;
    try {
      result = fn();
    } catch (error) {
      void this.#record(entry, at, actor, { outcome: 'failure' }, error);
      throw error;
    }
    void this.#record(entry, at, actor, {});
    return result;
  }

  /** Records an action that ended elsewhere (a stream's end or error); `at` is when it started. */
  record(entry: AuditEntry, at: Date, summary: AuditSummary, error?: unknown): Promise<void> {
    return this.#record(entry, at, this.#actor(), summary, error);
  }

  #actor(): string | undefined {
    try {
      return this.#options.actor?.() ?? undefined;
    } catch {
      return undefined;
    }
  }

  async #record(entry: AuditEntry, at: Date, actor: string | undefined, summary: AuditSummary, error?: unknown): Promise<void> {
    const details = entry.details || summary.details ? { ...entry.details, ...summary.details } : undefined;
    const event: AuditEvent = {
      action: entry.action,
      actor,
      at,
      durationMS: Date.now() - at.getTime(),
      tenant: entry.tenant,
      outcome: error === undefined ? (summary.outcome ?? 'success') : 'failure',
      ...(error === undefined ? {} : { error: describeError(error) }),
      ...(details ? { details } : {}),
    };
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not turn a finished action into a failed one.
      }
    }
    this.#logger.info({ audit: true, ...event }, `audit ${event.action} ${event.outcome}`);
    const sink = this.#options.sink;
    if (!sink) return;
    try {
      await this.#sinkDb(sink.tenant)
        .collection(sink.collection ?? DEFAULT_COLLECTION)
        .insertOne({ ...event });
    } catch (err) {
      this.#logger.warn({ action: event.action, error: redactText(String((err as Error)?.message ?? err)) }, 'audit sink insert failed');
    }
  }
}
