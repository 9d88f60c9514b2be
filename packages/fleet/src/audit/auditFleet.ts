import type { Readable } from 'node:stream';
import { type AuditAction, type AuditDetails, type AuditSummary, auditLog, type PolyMongo } from '@polymongo/native';

/** A fleet result: tenants that failed, and how many it acted on without failing. */
export interface FleetOutcome {
  failed: readonly unknown[];
  succeeded: number;
  details: AuditDetails;
}

/** `success` when no tenant failed, `failure` when every tenant it ran on did, else `partial`. */
export function fleetSummary({ failed, succeeded, details }: FleetOutcome): AuditSummary {
  const outcome = failed.length === 0 ? 'success' : succeeded === 0 ? 'failure' : 'partial';
  return { outcome, details: { ...details, failed: failed.length } };
}

/** Runs a fleet-wide operation as one audit event on the client's audit log (a dry run writes nothing: no event). */
export function auditFleet<R>(
  poly: PolyMongo,
  action: AuditAction,
  entry: { tenant?: string; details?: AuditDetails; dryRun?: boolean },
  fn: () => Promise<R>,
  outcome: (result: R) => FleetOutcome,
): Promise<R> {
  if (entry.dryRun === true) return fn();
  const { dryRun: _dryRun, ...rest } = entry;
  return auditLog(poly).run({ action, ...rest }, fn, (result) => fleetSummary(outcome(result)));
}

/** Records an export when its stream ends (success), fails, or is closed before its end (failure). */
export function auditExport(poly: PolyMongo, tenant: string, stream: Readable): Readable {
  const at = new Date();
  let done = false;
  const finish = (error?: unknown) => {
    if (done) return;
    done = true;
    void auditLog(poly).record({ action: 'fleet.export', tenant }, at, {}, error);
  };
  stream.once('end', () => finish());
  stream.once('error', (error) => finish(error));
  stream.once('close', () => finish(new Error('the export stream was closed before its end')));
  return stream;
}
