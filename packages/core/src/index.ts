/**
 * @polymongo/core: the driver-agnostic heart of PolyMongo 2. Applications normally use `@polymongo/native` or
 * `@polymongo/mongoose`; this entry holds what they re-export (errors, tenant context, classifyError, types) and
 * the one interface adapters use to talk to core (`AdapterHost`). Everything else is internal.
 */

export type { AdapterHost, CoreHost, HostSettings, PoolView, TenantHandle } from './client/AdapterHost.js';
export { describeError } from './client/OperationRunner.js';
export { createCore } from './client/PolyMongoCore.js';
export type { CloseOptions } from './client/Shutdown.js';
export {
  type ClusterConfig,
  type ClusterOptions,
  configIssues,
  type DedicatedConfig,
  type DedicatedOptions,
  type LoggerLike,
  type PolyMongoOptions,
  type PoolOptions,
  type PoolSettings,
  PROFILES,
  type ProfileName,
  parseMongoUri,
  type ResolvedConfig,
  type RetryOptions,
  type RoutingOptions,
  redactText,
  redactUri,
  requireLazily,
  resolveConfig,
  type ShutdownOptions,
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
/** @internal Backoff and sleep for adapters' own retries (transactions), so there is one of each. */
export { backoffDelay, type RetryPolicy, sleep } from './lifecycle/backoff.js';
export { classifyError, type ErrorClass, hasErrorLabel } from './lifecycle/classifyError.js';
export { CONNECTION_STATES, type ConnectionState } from './lifecycle/states.js';
export type { StatsSnapshot } from './observability/stats.js';
export type { DriverPort, PoolHealth, PoolMonitor, PoolNumbers, PoolSpec } from './pools/DriverPort.js';
export { currentTenant, runWithTenant } from './tenancy/context.js';
export type { TenantNaming } from './tenancy/naming.js';
export {
  enterRequestTenant,
  requireTenantFromRequest,
  type TenantFromRequestOptions,
  type TenantRequest,
  type TenantSource,
  tenantFromRequest,
} from './tenancy/requestTenant.js';
export type { Route, TenantForDatabaseOptions } from './tenancy/TenantRouter.js';
