export { type PoolSettings, PROFILES, type ProfileName } from './profiles.js';
export {
  type ClusterConfig,
  type DedicatedConfig,
  type DedicatedOptions,
  expandDedicated,
  type LoggerLike,
  type PolyMongoOptions,
  parseDedicatedOptions,
  type ResolvedConfig,
  resolveConfig,
  toIssues as configIssues,
} from './schema.js';
export { type ParsedUri, parseMongoUri, redactText, redactUri } from './uri.js';
