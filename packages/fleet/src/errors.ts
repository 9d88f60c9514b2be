import { PolyMongoError } from '@polymongo/core';

/** A fleet spec (indexes, validators, migrations, options) is malformed; nothing was run. */
export class FleetSpecError extends PolyMongoError {
  constructor(message: string) {
    super('FLEET_SPEC_INVALID', message);
  }
}

/** Two migrations share an id; ids must be unique because they are the keys of the per-tenant records. */
export class DuplicateMigrationError extends PolyMongoError {
  readonly migrationId: string;

  constructor(id: string) {
    super('DUPLICATE_MIGRATION', `Migration id "${id}" is used twice; give every migration its own id (for example a date prefix).`);
    this.migrationId = id;
  }
}

/** A migration would have to be reverted but defines no `down`. */
export class MigrationNotReversibleError extends PolyMongoError {
  readonly migrationId: string;

  constructor(id: string) {
    super('MIGRATION_NOT_REVERSIBLE', `Migration "${id}" has no down(); add one to revert it, or migrate down to a later target.`);
    this.migrationId = id;
  }
}

/** `to` names a migration that is not in the list. */
export class UnknownMigrationError extends PolyMongoError {
  readonly migrationId: string;

  constructor(id: string, known: readonly string[]) {
    const hint =
      known.length > 0 ? `known ids: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', ...' : ''}` : 'no migrations were given';
    super('UNKNOWN_MIGRATION', `No migration has the id "${id}" (${hint}); pass one of them as the target.`);
    this.migrationId = id;
  }
}

/** Another runner holds the tenant's migration lease and did not release it in time. */
export class MigrationLockedError extends PolyMongoError {
  constructor(tenant: string, waitedMS: number) {
    super(
      'MIGRATION_LOCKED',
      `Tenant "${tenant}" is being migrated by another runner (waited ${waitedMS} ms for its lease); rerun later, or raise lockWaitMS.`,
    );
  }
}

/**
 * A tenant's `_polymongo_migrations` holds a document that is neither a migration record nor the lease (an id starting
 * with "__", such as the `__migrations__` document of an unreleased pre-alpha layout): nothing is run on that tenant.
 */
export class MigrationStateError extends PolyMongoError {
  constructor(tenant: string, id: string) {
    super(
      'MIGRATION_STATE_UNKNOWN',
      `Tenant "${tenant}" has a document "${id}" in _polymongo_migrations that is not a migration record (a state layout this version does not read); nothing was run on it. Convert it (insert { _id: <migration id>, appliedAt } for each migration it lists as applied), then delete it and rerun.`,
    );
  }
}

/** importTenant into a tenant that already has collections, without `drop: true`. */
export class TenantNotEmptyError extends PolyMongoError {
  constructor(tenant: string) {
    super('TENANT_NOT_EMPTY', `Tenant "${tenant}" already has data; import into an empty tenant, or pass drop: true to replace it.`);
  }
}

/** A collection's validator refused a document of an import or copy (server code 121); nothing after it was written. */
export class ImportValidationError extends PolyMongoError {
  constructor(tenant: string, collection: string, cause: unknown) {
    super(
      'VALIDATION_FAILED',
      `The validator of ${collection} in tenant "${tenant}" refused a document of the import; pass bypassDocumentValidation: true (CLI: --bypass-document-validation) to copy the documents as they are, or fix them in the source first.`,
      { cause },
    );
  }
}
