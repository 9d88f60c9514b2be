export type { DiscoverOption, OnSkip, SkippedDatabase, TenantSource } from './discovery/discoverTenants.js';
export {
  DuplicateMigrationError,
  FleetSpecError,
  ImportValidationError,
  MigrationLockedError,
  MigrationNotReversibleError,
  MigrationStateError,
  TenantNotEmptyError,
  UnknownMigrationError,
} from './errors.js';
export { type CopyOptions, createFleet, Fleet, type FleetOptions, type ForEachResult } from './Fleet.js';
export type { IndexDifference, IndexDrift } from './indexes/compareIndexes.js';
export type { IndexSyncOptions, IndexSyncResult, PlanResult, SyncSummary } from './indexes/IndexFleet.js';
export type { CollectionIndexes, IndexShape, IndexSpec, MongooseModelLike } from './indexes/indexSpec.js';
export { defineMigration, type Migration, type MigrationContext } from './migrations/defineMigration.js';
export { MIGRATIONS_COLLECTION, type MigrateOptions, type MigrateResult, type MigrationStatus } from './migrations/Migrator.js';
export type { FleetRunOptions } from './runner/FleetContext.js';
export { fileCheckpoint } from './runner/fileCheckpoint.js';
export type { Checkpoint, FailureInfo, FleetFailure, FleetProgress, RunOptions } from './runner/runTenants.js';
export type { FieldDiff, MongooseSchemaLike, SchemaDiffOptions, SchemaDiffResult } from './schema/schemaDiff.js';
export type { ExportOptions, ImportOptions, ImportResult } from './transfer/tenantExport.js';
export type {
  CollectionValidator,
  ValidatorDrift,
  ValidatorSpec,
  ValidatorSyncOptions,
  ValidatorSyncResult,
} from './validators/ValidatorFleet.js';
export { zodToJsonSchema } from './validators/zodToJsonSchema.js';
