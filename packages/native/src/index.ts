export {
  type AdmissionStats,
  AuthFailedError,
  ClientClosedError,
  CloseTimeoutError,
  ConfigError,
  ConnectionFailedError,
  type ConnectionState,
  CrossClusterTransactionError,
  classifyError,
  currentTenant,
  DedicatedPoolLimitError,
  type ErrorClass,
  hasErrorLabel,
  InvalidClientError,
  InvalidTenantError,
  type OperationInfo,
  PingTimeoutError,
  PolyMongoError,
  type PolyMongoErrorCode,
  type PolyMongoEvents,
  type PolyMongoPlugin,
  type Route,
  redactText,
  redactUri,
  runWithTenant,
  type StatsSnapshot,
  type TenantForDatabaseOptions,
  TenantOverloadedError,
  TenantQuotaExceededError,
  TenantRequiredError,
  type TenantThrottledEvent,
  TransactionsUnsupportedError,
  UnknownClusterError,
} from '@polymongo/core';
export type {
  AuditAction,
  AuditDetails,
  AuditEntry,
  AuditEvent,
  AuditLog,
  AuditOptions,
  AuditOutcome,
  AuditSummary,
} from './audit/AuditLog.js';
export type { MongoDriverModule, NativePool } from './driver/MongoDriverPort.js';
export {
  adapterHost,
  auditLog,
  createPolyMongo,
  type HealthOptions,
  type HealthReport,
  type NativeBinding,
  type NativeEvents,
  type NativeHost,
  type NativeOptions,
  type NativeStats,
  PolyMongo,
} from './PolyMongo.js';
export { defineRepository, type RepositoryDefinition, type RepositoryOptions } from './repositories/defineRepository.js';
export { type DocumentOf, type InputOf, Repository } from './repositories/Repository.js';
export { ValidationError } from './repositories/ValidationError.js';
export type { Change, FlowOptions } from './streams/ChangePump.js';
export { InMemoryResumeTokenStore, MongoResumeTokenStore, type ResumeTokenStore } from './streams/ResumeTokenStore.js';
export { type FanOutEvents, TenantFanOut } from './streams/TenantFanOut.js';
export type { ClosableStream } from './streams/trackStream.js';
export type {
  CommitMode,
  ResumableWatchOptions,
  StreamStats,
  WatchAllOptions,
  WatchOptions,
} from './streams/WatchManager.js';
export { TenantScope } from './tenancy/TenantScope.js';
export type { WithTransactionOptions } from './transactions/withTransaction.js';
