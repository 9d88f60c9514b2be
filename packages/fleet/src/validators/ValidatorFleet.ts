import type { Db, Document } from 'mongodb';
import type { z } from 'zod';
import { auditFleet } from '../audit/auditFleet.js';
import { FleetSpecError } from '../errors.js';
import type { PlanResult } from '../indexes/IndexFleet.js';
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
  /** Always false: a validator spec names whole validators, so nothing can be extra; kept for one drift shape. */
  extra: boolean;
  /** A validator exists but is not the spec's (or its level/action differ). */
  different: boolean;
  expected: Document;
  actual: Document | undefined;
}

export interface ValidatorSyncOptions extends FleetRunOptions {
  dryRun?: boolean;
}

export interface ValidatorSyncResult extends PlanResult<ValidatorDrift> {
  created: number;
  modified: number;
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

async function collectionOptions(db: Db, name: string): Promise<Document | undefined> {
  const [info] = await db.listCollections({ name }).toArray();
  return info ? ((info as Document).options ?? {}) : undefined;
}

/** `$jsonSchema` validators across the fleet: compared with listCollections, applied with collMod. */
export class ValidatorFleet {
  constructor(private readonly ctx: FleetContext) {}

  plan(spec: ValidatorSpec, options: FleetRunOptions = {}): Promise<PlanResult<ValidatorDrift>> {
    return this.sync(spec, { ...options, dryRun: true }).then(({ tenants, drift, failed, skipped }) => ({
      tenants,
      drift,
      failed,
      skipped,
    }));
  }

  /** Sets each differing validator with collMod and creates missing collections with theirs; `dryRun` changes nothing. */
  sync(spec: ValidatorSpec, options: ValidatorSyncOptions = {}): Promise<ValidatorSyncResult> {
    return auditFleet(
      this.ctx.poly,
      'fleet.validators.sync',
      { details: {}, dryRun: options.dryRun },
      () => this.#sync(spec, options),
      (r) => ({
        failed: r.failed,
        succeeded: r.tenants - r.failed.length,
        details: { created: r.created, modified: r.modified, tenants: r.tenants, skipped: r.skipped },
      }),
    );
  }

  async #sync(spec: ValidatorSpec, options: ValidatorSyncOptions): Promise<ValidatorSyncResult> {
    const validators = normaliseValidatorSpec(spec);
    const { dryRun = false, ...runOptions } = options;
    const result: ValidatorSyncResult = { tenants: 0, drift: [], failed: [], skipped: 0, created: 0, modified: 0, dryRun };
    const run = await this.ctx.run(async (tenant) => {
      const db = this.ctx.poly.db(tenant);
      const found: ValidatorDrift[] = [];
      for (const want of validators) {
        const options = await collectionOptions(db, want.collection);
        const actual = options?.validator as Document | undefined;
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
      result.tenants++;
      result.drift.push(...found);
    }, runOptions);
    result.failed = run.failed;
    result.skipped = run.skipped;
    result.tenants += run.failed.length;
    result.drift.sort((a, b) => a.tenant.localeCompare(b.tenant) || a.collection.localeCompare(b.collection));
    return result;
  }
}
