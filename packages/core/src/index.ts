/**
 * @polymongo/core: the driver-agnostic heart of PolyMongo 2. Applications normally use `@polymongo/native` or
 * `@polymongo/mongoose`; this package is for adapters and for the types and helpers they re-export.
 */
export { type CloseOptions, PolyMongoCore, type TenantHandle } from './client/PolyMongoCore.js';
export {
  type ClusterConfig,
  configIssues,
  type DedicatedConfig,
  type DedicatedOptions,
  type LoggerLike,
  type PolyMongoOptions,
  type PoolSettings,
  PROFILES,
  type ProfileName,
  parseMongoUri,
  type ResolvedConfig,
  redactText,
  redactUri,
  resolveConfig,
} from './config/index.js';
export * from './errors/index.js';
export type { OperationInfo, PolyMongoEventName, PolyMongoEvents, StateChangeEvent } from './events/events.js';
export type { OperationStart, PolyMongoPlugin } from './events/plugins.js';
/** @internal The one event emitter of PolyMongo, for adapters' own event sources (stream fan-outs). */
export { TypedEmitter } from './events/TypedEmitter.js';
export {
  AdmissionController,
  type AdmissionStats,
  type SlotKind,
  type TenantAdmissionNumbers,
  type TenantGate,
  type TenantThrottledEvent,
} from './fairness/AdmissionController.js';
export type { FairnessOptions, QuotaOptions, TenantQuota } from './fairness/options.js';
export { backoffDelay, type RetryPolicy } from './lifecycle/backoff.js';
export { classifyError, type ErrorClass } from './lifecycle/classifyError.js';
export { CONNECTION_STATES, type ConnectionState } from './lifecycle/states.js';
export type { StatsSnapshot } from './observability/stats.js';
export type { DriverPort, PoolNumbers, PoolSpec } from './pools/DriverPort.js';
export { LruCache } from './pools/LruCache.js';
export type { PoolEntry } from './pools/PoolRegistry.js';
export { ClusterRouter } from './routing/ClusterRouter.js';
export { HashRing } from './routing/HashRing.js';
export { currentTenant, runWithTenant } from './tenancy/context.js';
export type { TenantNaming } from './tenancy/naming.js';
export {
  requireTenantFromRequest,
  type TenantFromRequestOptions,
  type TenantRequest,
  type TenantSource,
  tenantFromRequest,
} from './tenancy/requestTenant.js';
export { type Route, TenantRouter } from './tenancy/TenantRouter.js';
