import {
  type AdapterHost,
  backoffDelay,
  ConfigError,
  CrossClusterTransactionError,
  hasErrorLabel,
  sleep,
  TransactionsUnsupportedError,
} from '@polymongo/core';
import type { ClientSession, Db, MongoClient, TransactionOptions } from 'mongodb';
import type { NativePool } from '../driver/MongoDriverPort.js';
import { holdTransactionSlots } from '../fairness/transactionSlots.js';
import { isForeignSessionError, registerTransaction } from './transactionSessions.js';

export interface WithTransactionOptions extends TransactionOptions {
  /**
   * The tenants the callback touches. They must share one pool (one cluster); the session is started on it and they
   * are pinned until it ends. Default: the current tenant (argument-free `poly.db()` resolution).
   * A tenant not listed but used through a repository with the session joins the transaction if it is on the same
   * pool (and is pinned from then on); on another pool that use throws CROSS_CLUSTER_TRANSACTION before anything is
   * sent. Through a raw `poly.db(t)` the driver refuses a foreign session, and withTransaction rejects with
   * CROSS_CLUSTER_TRANSACTION (the driver's error as `cause`).
   */
  tenants?: string[];
  /** How often the whole callback may run on TransientTransactionError (default 5). */
  maxAttempts?: number;
  /** How often the commit may be retried on UnknownTransactionCommitResult (default 5). */
  maxCommitAttempts?: number;
  /**
   * Runs the transaction on this session instead of a new one, and leaves it open: several transactions one after
   * another (a loop over batches, a fleet run) then need one session between them. It must come from the client of
   * the tenants' pool (`poly.db(tenant).client.startSession()`), not be ended, and not be in a transaction; the caller
   * ends it. An ended or busy session is CONFIG_INVALID; one of another client, CROSS_CLUSTER_TRANSACTION.
   *
   * @example
   * const session = poly.db('acme').client.startSession();
   * try {
   *   for (const batch of batches) await poly.withTransaction((s) => applyBatch(batch, s), { tenants: ['acme'], session });
   * } finally {
   *   await session.endSession();
   * }
   */
  session?: ClientSession;
}

const supportCache = new WeakMap<MongoClient, Promise<boolean>>();

/** Whether the deployment behind a client supports transactions (a replica set member or mongos). */
function supportsTransactions(client: MongoClient): Promise<boolean> {
  let known = supportCache.get(client);
  if (!known) {
    known = client
      .db('admin')
      .command({ hello: 1 })
      .then((hello) => typeof hello.setName === 'string' || hello.msg === 'isdbgrid');
    known.catch(() => supportCache.delete(client));
    supportCache.set(client, known);
  }
  return known;
}

const RETRY_POLICY = { attempts: 5, initialDelayMS: 10, maxDelayMS: 500 };

/**
 * Runs `fn` in a transaction on the pool of `tenants`: commits on success, aborts on throw, retries the whole
 * callback on TransientTransactionError and the commit on UnknownTransactionCommitResult (bounded, with
 * backoff), and always ends the session.
 */
export async function runTransaction<T>(
  host: AdapterHost<NativePool, Db>,
  fn: (session: ClientSession) => Promise<T>,
  options: WithTransactionOptions = {},
): Promise<T> {
  const { tenants, maxAttempts = 5, maxCommitAttempts = 5, session: given, ...transactionOptions } = options;
  const handles = (tenants && tenants.length > 0 ? tenants : [undefined]).map((t) => host.acquire(t));
  const pools = [...new Set(handles.map((h) => h.route.poolKey))];
  if (pools.length > 1)
    throw new CrossClusterTransactionError(
      handles.map((h) => h.route.tenantId),
      pools,
    );
  const { client } = (handles[0] as (typeof handles)[number]).pool.pool;
  if (given !== undefined) checkGivenSession(given);
  if (!(await supportsTransactions(client))) throw new TransactionsUnsupportedError();
  const releases = handles.map((h) => host.pin(h.route));
  const session = given ?? client.startSession();
  const tenantsIn = new Set(handles.map((h) => h.route.tenantId));
  // Tenants used through a repository with this session but not listed join it (same pool) or are refused there.
  const unregister = registerTransaction(session, {
    poolKey: pools[0] as string,
    tenants: tenantsIn,
    pin: (route) => releases.push(host.pin(route)),
  });
  const first = handles[0]?.route;
  let releaseSlots: (() => void) | undefined;
  try {
    releaseSlots = await holdTransactionSlots(host, handles, session);
    return await host.runOperation(
      { tenantId: first?.tenantId, dbName: first?.dbName ?? '', command: 'withTransaction', poolKey: first?.poolKey },
      async () => {
        for (let attempt = 1; ; attempt++) {
          session.startTransaction(transactionOptions);
          let result: T;
          try {
            result = await fn(session);
          } catch (error) {
            if (session.inTransaction()) await session.abortTransaction().catch(() => undefined);
            if (isForeignSessionError(error)) {
              // The session reached a Db of another cluster's client: the driver's refusal, with our code.
              throw Object.assign(
                new CrossClusterTransactionError([...tenantsIn], [pools[0] as string, 'the pool of a Db used with this session']),
                { cause: error },
              );
            }
            if (hasErrorLabel(error, 'TransientTransactionError') && attempt < maxAttempts) {
              await sleep(backoffDelay(RETRY_POLICY, attempt));
              continue;
            }
            throw error;
          }
          const committed = await commit(session, maxCommitAttempts);
          if (committed.ok) return result;
          if (hasErrorLabel(committed.error, 'TransientTransactionError') && attempt < maxAttempts) {
            await sleep(backoffDelay(RETRY_POLICY, attempt));
            continue;
          }
          throw committed.error;
        }
      },
    );
  } finally {
    unregister();
    releaseSlots?.();
    if (given === undefined) await session.endSession().catch(() => undefined);
    for (const release of releases) release();
  }
}

/**
 * A caller's session: not ended, not in a transaction (else nothing runs). One of another client is refused by the
 * driver at the first command, which runTransaction reports as CROSS_CLUSTER_TRANSACTION.
 */
function checkGivenSession(session: ClientSession): void {
  if (typeof session?.startTransaction !== 'function') {
    throw new ConfigError([{ path: 'session', message: 'must be a ClientSession from client.startSession()' }]);
  }
  if (session.hasEnded) throw new ConfigError([{ path: 'session', message: 'has ended: start a new one with client.startSession()' }]);
  if (session.inTransaction()) {
    throw new ConfigError([{ path: 'session', message: 'is in a transaction already: pass a session whose transaction has ended' }]);
  }
}

async function commit(session: ClientSession, maxCommitAttempts: number): Promise<{ ok: true } | { ok: false; error: unknown }> {
  for (let attempt = 1; ; attempt++) {
    try {
      await session.commitTransaction();
      return { ok: true };
    } catch (error) {
      if (hasErrorLabel(error, 'UnknownTransactionCommitResult') && attempt < maxCommitAttempts) {
        await sleep(backoffDelay(RETRY_POLICY, attempt));
        continue;
      }
      return { ok: false, error };
    }
  }
}
