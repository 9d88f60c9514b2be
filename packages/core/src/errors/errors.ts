/** Stable machine-readable codes carried by every error PolyMongo throws. */
export type PolyMongoErrorCode =
  | 'CONFIG_INVALID'
  | 'INVALID_TENANT'
  | 'TENANT_REQUIRED'
  | 'UNKNOWN_CLUSTER'
  | 'CLIENT_CLOSED'
  | 'AUTH_FAILED'
  | 'CONNECTION_FAILED'
  | 'DEDICATED_POOL_LIMIT'
  | 'TRANSACTIONS_UNSUPPORTED'
  | 'CROSS_CLUSTER_TRANSACTION'
  | 'VALIDATION_FAILED'
  | 'CLOSE_TIMEOUT'
  | 'TENANT_OVERLOADED'
  | 'TENANT_QUOTA_EXCEEDED'
  // @polymongo/fleet
  | 'TENANT_NOT_EMPTY'
  | 'DUPLICATE_MIGRATION'
  | 'MIGRATION_NOT_REVERSIBLE'
  | 'UNKNOWN_MIGRATION'
  | 'MIGRATION_LOCKED'
  | 'MIGRATION_STATE_UNKNOWN'
  | 'FLEET_SPEC_INVALID'
  | 'DRIVER_MISMATCH'
  | 'INVALID_MODEL'
  | 'PING_TIMEOUT'
  | 'INVALID_CLIENT'
  | 'CROSS_TENANT_WRITE'
  // @polymongo/mongoose/compat
  | 'ACTION_FAILED';

/** Marks PolyMongo errors process-wide (`Symbol.for`), so every loaded copy of the package recognises them. */
const ERROR_BRAND = Symbol.for('polymongo.error');

/**
 * Base class of every error PolyMongo throws. `code` is stable across releases; match on it, not on the message.
 * Messages say what to do next and never contain a password or a URI with credentials.
 *
 * @example
 * try { poly.db('bad.tenant'); } catch (err) {
 *   if (err instanceof PolyMongoError && err.code === 'INVALID_TENANT') res.status(400).json({ code: err.code });
 * }
 */
export class PolyMongoError extends Error {
  readonly code: PolyMongoErrorCode;

  /**
   * `instanceof` works across copies of this package (an app loading both the ESM and the CJS build, or two
   * versions): an error is a PolyMongoError when it carries the process-wide brand, and a given subclass when its
   * prototype chain has a class of that name.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class `instanceof` asked about, maybe a subclass
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if ((value as { [ERROR_BRAND]?: unknown })[ERROR_BRAND] !== true) return false;
    for (let p = Object.getPrototypeOf(value); p !== null; p = Object.getPrototypeOf(p)) {
      // biome-ignore lint/complexity/noThisInStatic: as above
      if ((p as { constructor?: { name?: string } }).constructor?.name === this.name) return true;
    }
    return false;
  }

  constructor(code: PolyMongoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }

  toJSON(): { name: string; code: PolyMongoErrorCode; message: string } {
    return { name: this.name, code: this.code, message: this.message };
  }
}
Object.defineProperty(PolyMongoError.prototype, ERROR_BRAND, { value: true });

/** One invalid option: where it is and what is wrong with it. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** Options failed validation at construction. `issues` lists every bad field. */
export class ConfigError extends PolyMongoError {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    const list = issues.map((i) => `  - ${i.path || '(options)'}: ${i.message}`).join('\n');
    super('CONFIG_INVALID', `Invalid PolyMongo options; fix these fields:\n${list}`);
    this.issues = issues;
  }
}

/** Which database-name rule a tenant id broke. */
export type TenantRule = 'type' | 'empty' | 'unicode' | 'control' | 'characters' | 'case' | 'length' | 'reserved';

export class InvalidTenantError extends PolyMongoError {
  readonly rule: TenantRule;

  constructor(rule: TenantRule, message: string) {
    super('INVALID_TENANT', message);
    this.rule = rule;
  }
}

export class TenantRequiredError extends PolyMongoError {
  constructor(message = 'No tenant given and strictTenancy is on: pass a tenant id, or run the code inside runWithTenant(id, fn).') {
    super('TENANT_REQUIRED', message);
  }
}

export class ClientClosedError extends PolyMongoError {
  constructor() {
    super('CLIENT_CLOSED', 'This PolyMongo client is closing or closed; create a new client to run more operations.');
  }
}

export class AuthFailedError extends PolyMongoError {
  constructor(target: string, options?: { cause?: unknown }) {
    super('AUTH_FAILED', `Authentication to ${target} failed; check the user name, password and authSource in the URI.`, options);
  }
}

export class ConnectionFailedError extends PolyMongoError {
  constructor(target: string, attempts: number, reason: string, options?: { cause?: unknown }) {
    super(
      'CONNECTION_FAILED',
      `Could not connect to ${target} after ${attempts} attempt(s): ${reason}. Check that the server is reachable, or raise retry.attempts.`,
      options,
    );
  }
}

export class DedicatedPoolLimitError extends PolyMongoError {
  constructor(limit: number) {
    super(
      'DEDICATED_POOL_LIMIT',
      `Cannot open another dedicated pool: maxDedicatedPools (${limit}) is reached. Raise maxDedicatedPools, or let idle dedicated pools close (autoClose).`,
    );
  }
}

export class UnknownClusterError extends PolyMongoError {
  constructor(clusterId: string) {
    super('UNKNOWN_CLUSTER', `Cluster "${clusterId}" is not configured; add it under clusters, or fix the routing rule that names it.`);
  }
}

export class TransactionsUnsupportedError extends PolyMongoError {
  constructor(detail = 'the server is a standalone') {
    super(
      'TRANSACTIONS_UNSUPPORTED',
      `Transactions need a replica set or a sharded cluster, but ${detail}. Start mongod with --replSet (a single-node replica set is enough) or connect to a cluster.`,
    );
  }
}

/** A repository pipeline tried to write (`$out`, `$merge`) into a database other than its tenant's; nothing ran. */
export class CrossTenantWriteError extends PolyMongoError {
  readonly tenantId: string;
  readonly target: string;

  constructor(tenantId: string, target: string) {
    super(
      'CROSS_TENANT_WRITE',
      `A pipeline of tenant "${tenantId}" may not write into database "${target}"; repositories stay inside their tenant. Write into the tenant's own database, or use poly.db() deliberately for cross-database work.`,
    );
    this.tenantId = tenantId;
    this.target = target;
  }
}

export class CrossClusterTransactionError extends PolyMongoError {
  constructor(tenants: string[], pools: string[]) {
    super(
      'CROSS_CLUSTER_TRANSACTION',
      `Tenants ${tenants.map((t) => `"${t}"`).join(', ')} live on different pools (${pools.join(', ')}); one transaction can only span tenants of one cluster's shared pool.`,
    );
  }
}

export class CloseTimeoutError extends PolyMongoError {
  constructor(timeoutMS: number, inFlight: number) {
    super(
      'CLOSE_TIMEOUT',
      `close() waited ${timeoutMS} ms and ${inFlight} operation(s) were still running; they were cut off. Raise timeoutMS to let them finish.`,
    );
  }
}

/** Why a tenant's operation was refused a slot: its queue was full, or it waited longer than `queueTimeoutMS`. */
export type OverloadReason = 'queue_full' | 'queue_timeout';

/** The tenant already has `fairness.maxConcurrentPerTenant` operations running and its queue is full or timed out. */
export class TenantOverloadedError extends PolyMongoError {
  readonly tenantId: string;
  readonly reason: OverloadReason;

  constructor(tenantId: string, reason: OverloadReason, limit: number) {
    super(
      'TENANT_OVERLOADED',
      reason === 'queue_full'
        ? `Tenant "${tenantId}" has too many operations waiting (fairness.maxQueuedPerTenant = ${limit}); retry later, or raise the limit.`
        : `An operation of tenant "${tenantId}" waited ${limit} ms for a slot (fairness.queueTimeoutMS); retry later, or raise fairness.maxConcurrentPerTenant.`,
    );
    this.tenantId = tenantId;
    this.reason = reason;
  }
}

/** The tenant used up its `quotas` token bucket; `retryAfterMS` says when one more operation would be allowed. */
export class TenantQuotaExceededError extends PolyMongoError {
  readonly tenantId: string;
  readonly retryAfterMS: number;

  constructor(tenantId: string, retryAfterMS: number) {
    super(
      'TENANT_QUOTA_EXCEEDED',
      `Tenant "${tenantId}" is over its operation quota; retry after ${retryAfterMS} ms, or raise quotas.opsPerSecond / burst.`,
    );
    this.tenantId = tenantId;
    this.retryAfterMS = retryAfterMS;
  }
}

/** PolyMongo's pools and Mongoose would run on two copies of the `mongodb` driver, which cannot share a client. */
export class DriverMismatchError extends PolyMongoError {
  constructor(detail: string) {
    super(
      'DRIVER_MISMATCH',
      `${detail} Mongoose only accepts clients of its own driver copy. Create the client with createPolyMongo({ ..., mongodb: mongoose.mongo }), or let createMongooseAdapter create it, or dedupe mongodb so both resolve one copy.`,
    );
  }
}

export class PingTimeoutError extends PolyMongoError {
  constructor(timeoutMS: number, state: string) {
    super(
      'PING_TIMEOUT',
      `The server did not answer a ping within ${timeoutMS} ms (pool state: ${state}). Check that it is reachable; health() reports ok: false meanwhile.`,
    );
  }
}

/** Something other than a compiled Mongoose model was given where a model is expected. */
export class InvalidModelError extends PolyMongoError {
  constructor(what: string) {
    super(
      'INVALID_MODEL',
      `wrapModel needs a compiled Mongoose model (with modelName and schema), got ${what}. Pass mongoose.model(name, schema).`,
    );
  }
}

export class InvalidClientError extends PolyMongoError {
  constructor() {
    super(
      'INVALID_CLIENT',
      'Expected a PolyMongo client created by createPolyMongo() from @polymongo/native; pass that client (e.g. { poly }).',
    );
  }
}

/**
 * A PolyMongo 1.x call of `@polymongo/mongoose/compat` failed. The message is the one polymongo@1.3.0 gave
 * (`Failed to <what>: <reason>`), so 1.x code matching on it keeps working; `cause` is the original error.
 */
export class ActionFailedError extends PolyMongoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ACTION_FAILED', message, options);
  }
}
