import type { Db, Document } from 'mongodb';
import type { z } from 'zod';
import { auditFleet } from '../audit/auditFleet.js';
import { FleetSpecError } from '../errors.js';
import type { PlanResult, SyncSummary } from '../indexes/IndexFleet.js';
import { compareIds } from '../runner/compareIds.js';
import type { FleetContext, FleetRunOptions } from '../runner/FleetContext.js';
import { zodToJsonSchema } from './zodToJsonSchema.js';

/** One collection's wanted validator, given as `$jsonSchema` or derived from a `defineRepository` zod schema. */
export interface CollectionValidator {
  collection: string;
  validator: { $jsonSchema: Document };
  validationLevel?: 'off' | 'strict' | 'moderate';
  validationAction?: 'error' | 'warn';
}

/** Items of a validator spec: `defineRepository` definitions with a zod schema, or literal validators. */
export type ValidatorSpec = ReadonlyArray<CollectionValidator | { collection: string; schema: z.ZodType | undefined }>;

/** One collection of one tenant whose validator differs from the spec. */
export interface ValidatorDrift {
  tenant: string;
  collection: string;
  /** The collection, or its validator, does not exist. */
  missing: boolean;
  /** The collection has a validator but the spec names no validator for it (removed only with `dropExtra`). */
  extra: boolean;
  /** A validator exists but is not the spec's (or its level/action differ). */
  different: boolean;
  /** The spec's validator; undefined when `extra`. */
  expected: Document | undefined;
  actual: Document | undefined;
}

export interface ValidatorSyncOptions extends FleetRunOptions {
  /** Remove validators of collections the spec does not name (`collMod` with an empty validator). Default false. */
  dropExtra?: boolean;
  /** Report what would change and change nothing. */
  dryRun?: boolean;
}

export interface ValidatorSyncResult extends SyncSummary<ValidatorDrift> {
  /** Collections created with their validator (with dryRun: that would be). */
  created: number;
  /** Validators set or replaced with collMod. */
  modified: number;
  /** Extra validators removed (`dropExtra`). */
  dropped: number;
  dryRun: boolean;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object' || value.constructor !== Object) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, canonical((value as Document)[k])]),
  );
}

const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

export function normaliseValidatorSpec(spec: unknown): CollectionValidator[] {
  if (!Array.isArray(spec)) {
    throw new FleetSpecError(
      'A validator spec is an array of defineRepository definitions (with a zod schema) or { collection, validator: { $jsonSchema } }.',
    );
  }
  const seen = new Set<string>();
  return spec.map((item: unknown, i) => {
    const entry = item as Partial<CollectionValidator> & { schema?: z.ZodType };
    if (typeof entry?.collection !== 'string' || entry.collection.length === 0) {
      throw new FleetSpecError(`validator spec item ${i}: a collection name is required.`);
    }
    if (seen.has(entry.collection))
      throw new FleetSpecError(`validator spec: ${entry.collection} appears twice; keep one validator a collection.`);
    seen.add(entry.collection);
    if (entry.validator?.$jsonSchema && typeof entry.validator.$jsonSchema === 'object') return entry as CollectionValidator;
    if (entry.schema && typeof (entry.schema as { safeParse?: unknown }).safeParse === 'function') {
      return { collection: entry.collection, validator: { $jsonSchema: zodToJsonSchema(entry.schema) } };
    }
    throw new FleetSpecError(`validator spec item ${i} (${entry.collection}): give a zod schema or validator: { $jsonSchema }.`);
  });
}

/** Every collection's options, from one listCollections (views and system collections left out). */
async function collectionOptions(db: Db): Promise<Map<string, Document>> {
  const infos = await db.listCollections({ type: 'collection' }).toArray();
  return new Map(infos.filter((c) => !c.name.startsWith('system.')).map((c) => [c.name, (c as Document).options ?? {}]));
}

const hasValidator = (options: Document | undefined) =>
  options?.validator !== undefined && Object.keys(options.validator as Document).length > 0;

/** `$jsonSchema` validators across the fleet: compared with listCollections, applied with collMod. */
export class ValidatorFleet {
  constructor(private readonly ctx: FleetContext) {}

  /**
   * Per tenant and collection: validators missing, extra and different from `spec` — `{ tenants, drift }`. Changes
   * nothing. `tenants` counts the tenants compared; those that could not be are in `sync(spec, { dryRun: true })`'s
   * `failed`.
   */
  async plan(spec: ValidatorSpec, options: FleetRunOptions = {}): Promise<PlanResult<ValidatorDrift>> {
    const { tenants, drift } = await this.sync(spec, { ...options, dryRun: true });
    return { tenants, drift };
  }

  /**
   * Sets each differing validator with collMod and creates missing collections with theirs; with `dropExtra` removes
   * validators the spec does not name. `dryRun` changes nothing and reports the drift.
   */
  sync(spec: ValidatorSpec, options: ValidatorSyncOptions = {}): Promise<ValidatorSyncResult> {
    return auditFleet(
      this.ctx.poly,
      'fleet.validators.sync',
      { details: { dropExtra: options.dropExtra === true }, dryRun: options.dryRun },
      () => this.#sync(spec, options),
      (r) => ({
        failed: r.failed,
        succeeded: r.tenants,
        details: { created: r.created, modified: r.modified, dropped: r.dropped, tenants: r.tenants, skipped: r.skipped },
      }),
    );
  }

  async #sync(spec: ValidatorSpec, options: ValidatorSyncOptions): Promise<ValidatorSyncResult> {
    const validators = normaliseValidatorSpec(spec);
    const named = new Set(validators.map((v) => v.collection));
    const { dropExtra = false, dryRun = false, ...runOptions } = options;
    const result: ValidatorSyncResult = { tenants: 0, drift: [], failed: [], skipped: 0, created: 0, modified: 0, dropped: 0, dryRun };
    const run = await this.ctx.run(async (tenant) => {
      const db = this.ctx.poly.db(tenant);
      const found: ValidatorDrift[] = [];
      const existing = await collectionOptions(db);
      for (const want of validators) {
        const options = existing.get(want.collection);
        const actual = hasValidator(options) ? (options?.validator as Document) : undefined;
        const levelDiffers =
          (want.validationLevel !== undefined && want.validationLevel !== (options?.validationLevel ?? 'strict')) ||
          (want.validationAction !== undefined && want.validationAction !== (options?.validationAction ?? 'error'));
        const missing = actual === undefined;
        const different = !missing && (!same(actual, want.validator) || levelDiffers);
        if (!missing && !different) continue;
        found.push({ tenant, collection: want.collection, missing, extra: false, different, expected: want.validator, actual });
        const count = () => (options === undefined ? result.created++ : result.modified++);
        if (dryRun) {
          count(); // what would change
          continue;
        }
        const settings = {
          validator: want.validator,
          ...(want.validationLevel ? { validationLevel: want.validationLevel } : {}),
          ...(want.validationAction ? { validationAction: want.validationAction } : {}),
        };
        if (options === undefined) await db.createCollection(want.collection, settings);
        else await db.command({ collMod: want.collection, ...settings });
        count();
      }
      for (const [collection, options] of existing) {
        if (named.has(collection) || !hasValidator(options)) continue;
        found.push({ tenant, collection, missing: false, extra: true, different: false, expected: undefined, actual: options.validator });
        if (!dropExtra) continue;
        if (!dryRun) await db.command({ collMod: collection, validator: {} });
        result.dropped++;
      }
      result.tenants++;
      result.drift.push(...found);
    }, runOptions);
    result.failed = run.failed;
    result.skipped = run.skipped;
    result.drift.sort((a, b) => compareIds(a.tenant, b.tenant) || compareIds(a.collection, b.collection));
    return result;
  }
}
