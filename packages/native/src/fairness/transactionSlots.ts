import type { AdapterHost, TenantHandle } from '@polymongo/core';
import type { ClientSession, Db } from 'mongodb';
import type { NativePool } from '../driver/MongoDriverPort.js';
import { markTransactionSession } from './TenantAdmission.js';

/**
 * Holds a slot of every tenant of a transaction for its whole run, taken in tenant-id order so two multi-tenant
 * transactions cannot deadlock; operations in its session are then not admitted again. Returns the release function,
 * or undefined when neither fairness nor quotas is configured.
 */
export async function holdTransactionSlots(
  host: AdapterHost<NativePool, Db>,
  handles: Array<TenantHandle<NativePool, Db>>,
  session: ClientSession,
): Promise<(() => void) | undefined> {
  const controller = host.admission;
  if (controller === undefined) return undefined;
  const release = await controller.acquireAll(
    handles.map((h) => controller.gate(h.route.tenantId, h.pool.spec.key, h.pool.spec.maxPoolSize)),
  );
  const unmark = markTransactionSession(session);
  return () => {
    unmark();
    release();
  };
}
