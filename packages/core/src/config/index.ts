export { requireLazily } from './lazyRequire.js';
export type {
  ClusterOptions,
  DedicatedOptions,
  LoggerLike,
  PolyMongoOptions,
  PoolOptions,
  RetryOptions,
  RoutingOptions,
  ShutdownOptions,
} from './options.js';
export { type PoolSettings, PROFILES, type ProfileName } from './profiles.js';
export {
  type ClusterConfig,
  type DedicatedConfig,
  expandDedicated,
  parseDedicatedOptions,
  type ResolvedConfig,
  resolveConfig,
  toIssues as configIssues,
} from './schema.js';
export { type ParsedUri, parseMongoUri, redactText, redactUri } from './uri.js';
