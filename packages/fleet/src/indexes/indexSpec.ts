import type { CollationOptions, Document, IndexDescription } from 'mongodb';
import { FleetSpecError } from '../errors.js';

/** One collection's wanted indexes. */
export interface CollectionIndexes {
  collection: string;
  indexes: readonly IndexDescription[];
}

/** A Mongoose model, structurally (mongoose is never imported at run time). */
export interface MongooseModelLike {
  schema: { indexes(): Array<[Record<string, unknown>, Record<string, unknown>?]> };
  collection: { collectionName?: string; name?: string };
}

/**
 * What `indexes.plan` / `indexes.sync` compare with each tenant: `defineRepository` definitions, Mongoose models, or
 * literal `{ collection, indexes }` items.
 */
export type IndexSpec = ReadonlyArray<CollectionIndexes | MongooseModelLike>;

/** An index as compared: its name, key and the options that matter for drift. */
export interface IndexShape {
  name: string;
  key: Record<string, number | string>;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Document;
  collation?: CollationOptions;
  expireAfterSeconds?: number;
  /** Text indexes: as given in the spec, or as listed by mongod (with a key of `_fts`/`_ftsx`). */
  weights?: Record<string, number>;
  default_language?: string;
  language_override?: string;
}

/** The name MongoDB gives an index from its key, as `a_1_b_-1`. */
export function defaultIndexName(key: Record<string, unknown>): string {
  return Object.entries(key)
    .map(([field, direction]) => `${field}_${String(direction)}`)
    .join('_');
}

function normaliseKey(key: unknown, where: string): Record<string, number | string> {
  if (key === null || typeof key !== 'object' || Array.isArray(key) || Object.keys(key).length === 0) {
    throw new FleetSpecError(`${where}: an index needs a key object such as { email: 1 }.`);
  }
  const out: Record<string, number | string> = {};
  for (const [field, direction] of Object.entries(key as Record<string, unknown>)) {
    if (typeof direction === 'string') out[field] = direction;
    else if (typeof direction === 'number' || typeof direction === 'bigint') out[field] = Number(direction);
    else if (direction && typeof (direction as { toNumber?: unknown }).toNumber === 'function')
      out[field] = (direction as { toNumber(): number }).toNumber(); // Long from listIndexes (promoteLongs: false)
    else if (direction && typeof (direction as { valueOf(): unknown }).valueOf() === 'number')
      out[field] = Number((direction as { valueOf(): unknown }).valueOf()); // Int32/Double from listIndexes
    else throw new FleetSpecError(`${where}: index direction of "${field}" must be 1, -1 or a string such as "text".`);
  }
  return out;
}

/** The comparable shape of an index description or a listIndexes entry. */
export function toShape(description: Document, where: string): IndexShape {
  const key = normaliseKey(description.key, where);
  const shape: IndexShape = { name: typeof description.name === 'string' ? description.name : defaultIndexName(key), key };
  if (description.unique === true) shape.unique = true;
  if (description.sparse === true) shape.sparse = true;
  if (description.partialFilterExpression) shape.partialFilterExpression = description.partialFilterExpression;
  if (description.collation && description.collation.locale !== 'simple') shape.collation = description.collation;
  if (description.expireAfterSeconds !== undefined && description.expireAfterSeconds !== null)
    shape.expireAfterSeconds = Number(description.expireAfterSeconds);
  if (description.weights && typeof description.weights === 'object') {
    shape.weights = Object.fromEntries(Object.entries(description.weights as Document).map(([f, w]) => [f, Number(w)]));
  }
  if (typeof description.default_language === 'string') shape.default_language = description.default_language;
  if (typeof description.language_override === 'string') shape.language_override = description.language_override;
  return shape;
}

function isModel(item: unknown): item is MongooseModelLike {
  const model = item as MongooseModelLike | null;
  return typeof model?.schema?.indexes === 'function' && typeof model.collection === 'object' && model.collection !== null;
}

/** Validates a spec and returns one entry per collection (items naming the same collection are merged). */
export function normaliseIndexSpec(spec: unknown): Array<{ collection: string; indexes: IndexShape[]; descriptions: IndexDescription[] }> {
  if (!Array.isArray(spec)) {
    throw new FleetSpecError('An index spec is an array of defineRepository definitions, Mongoose models or { collection, indexes }.');
  }
  const byCollection = new Map<string, { collection: string; indexes: IndexShape[]; descriptions: IndexDescription[] }>();
  spec.forEach((item: unknown, i) => {
    let collection: string | undefined;
    let descriptions: IndexDescription[];
    if (isModel(item)) {
      collection = item.collection.collectionName ?? item.collection.name;
      descriptions = item.schema.indexes().map(([key, options = {}]) => {
        const { background: _b, ...rest } = options as Record<string, unknown>;
        return { ...rest, key } as IndexDescription;
      });
    } else {
      const literal = item as Partial<CollectionIndexes> | null;
      collection = literal?.collection;
      if (!Array.isArray(literal?.indexes)) {
        throw new FleetSpecError(`index spec item ${i}: indexes must be an array of { key, ...options } (IndexDescription).`);
      }
      descriptions = [...literal.indexes];
    }
    if (typeof collection !== 'string' || collection.length === 0) {
      throw new FleetSpecError(`index spec item ${i}: a collection name is required.`);
    }
    const entry = byCollection.get(collection) ?? { collection, indexes: [], descriptions: [] };
    for (const description of descriptions) {
      const shape = toShape(description, `index spec item ${i} (${collection})`);
      if (shape.name === '_id_') continue;
      if (entry.indexes.some((s) => s.name === shape.name)) {
        throw new FleetSpecError(`index spec: ${collection} names the index "${shape.name}" twice; give each index its own name.`);
      }
      entry.indexes.push(shape);
      entry.descriptions.push({ ...description, name: shape.name } as IndexDescription);
    }
    byCollection.set(collection, entry);
  });
  return [...byCollection.values()];
}
