import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { PolyMongo } from '@polymongo/native';
import { BSON, type Document } from 'mongodb';
import { FleetSpecError, ImportValidationError, TenantNotEmptyError } from '../errors.js';
import { LEASE_ID } from '../migrations/TenantLease.js';
import { compareIds } from '../runner/compareIds.js';

const { EJSON } = BSON;

/** First line of every export, so an import can refuse anything else. */
const FORMAT = 'polymongo-tenant-export';
const VERSION = 1;

export interface ExportOptions {
  /** Export only these collections. Default: every collection and view except system ones. */
  collections?: string[];
  /** Include index definitions. Default true. */
  indexes?: boolean;
  /** Documents per cursor batch: what the export holds in memory at most (with the stream's 64 KiB buffer). Default 1,000. */
  batchSize?: number;
}

export interface ImportOptions {
  /** Drop the target tenant's database first when it has data. Without it, a non-empty target is refused. */
  drop?: boolean;
  /** Documents per insertMany. Default 1,000. */
  batchSize?: number;
  /**
   * Insert documents even where the collection's validator refuses them (as `mongorestore --bypassDocumentValidation`):
   * for data older than its validator, or a target whose validator the source violates. Needs the
   * `bypassDocumentValidation` privilege. Default false: such a document fails the import with VALIDATION_FAILED.
   */
  bypassDocumentValidation?: boolean;
}

export interface ImportResult {
  collections: number;
  documents: number;
  indexes: number;
}

const DOCUMENT_VALIDATION_FAILURE = 121;

const line = (value: unknown) => `${EJSON.stringify(value, { relaxed: false })}\n`;

async function* exportLines(poly: PolyMongo, tenant: string, options: ExportOptions): AsyncGenerator<string> {
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new FleetSpecError('batchSize must be a whole number of at least 1.');
  const db = poly.db(tenant); // INVALID_TENANT arrives as the stream's error, before any network call
  yield line({ format: FORMAT, version: VERSION, tenant, exportedAt: new Date() });
  const wanted = options.collections ? new Set(options.collections) : undefined;
  const infos = (await db.listCollections().toArray())
    .filter((c) => !c.name.startsWith('system.') && (!wanted || wanted.has(c.name)))
    .sort((a, b) => compareIds(a.name, b.name));
  for (const info of infos) {
    const isView = info.type === 'view';
    const indexes =
      isView || options.indexes === false
        ? []
        : (await db.collection(info.name).listIndexes().toArray())
            .filter((ix) => ix.name !== '_id_')
            .map(({ v: _v, ns: _ns, ...ix }) => ix);
    yield line({ collection: info.name, type: isView ? 'view' : 'collection', options: (info as Document).options ?? {}, indexes });
    if (isView) continue;
    // A fixed batch size bounds what one getMore brings into memory (a server's default is up to 16 MiB a batch).
    const cursor = db.collection(info.name).find({}, { promoteValues: false, promoteBuffers: false, promoteLongs: false, batchSize });
    try {
      for await (const doc of cursor) {
        // Applied migrations travel with the data; a runner's lease on the source does not.
        if (info.name === '_polymongo_migrations' && (doc._id as unknown) === LEASE_ID) continue;
        yield line({ doc });
      }
    } finally {
      await cursor.close();
    }
  }
}

/**
 * A tenant as canonical Extended JSON lines: a header, then per collection its options and indexes followed by its
 * documents. Returned at once; errors (also INVALID_TENANT) arrive as stream errors. Pulled lazily, so memory stays
 * bounded whatever the tenant's size.
 */
export function exportTenant(poly: PolyMongo, tenant: string, options: ExportOptions = {}): Readable {
  return Readable.from(exportLines(poly, tenant, options), { objectMode: false, highWaterMark: 64 * 1024 });
}

async function* readLines(input: AsyncIterable<unknown>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of input) {
    rest += typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    let at = rest.indexOf('\n');
    while (at >= 0) {
      const text = rest.slice(0, at);
      rest = rest.slice(at + 1);
      if (text.trim().length > 0) yield text;
      at = rest.indexOf('\n');
    }
  }
  rest += decoder.end();
  if (rest.trim().length > 0) yield rest;
}

/**
 * Reads an export into a tenant in batches; the source is pulled only as fast as the batches are written. A tenant
 * that has collections is refused before anything is written (TENANT_NOT_EMPTY) unless `drop: true`.
 */
export async function importTenant(
  poly: PolyMongo,
  tenant: string,
  input: AsyncIterable<unknown>,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const batchSize = options.batchSize ?? 1000;
  const bypassDocumentValidation = options.bypassDocumentValidation === true;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new FleetSpecError('batchSize must be a whole number of at least 1.');
  const db = poly.db(tenant);
  const existing = (await db.listCollections({}, { nameOnly: true }).toArray()).filter((c) => !c.name.startsWith('system.'));
  if (existing.length > 0) {
    if (!options.drop) throw new TenantNotEmptyError(tenant);
    await db.dropDatabase();
  }
  const result: ImportResult = { collections: 0, documents: 0, indexes: 0 };
  let current: { name: string; indexes: Document[] } | undefined;
  let batch: Document[] = [];
  const flush = async () => {
    if (current && batch.length > 0) {
      try {
        await db.collection(current.name).insertMany(batch, { ordered: true, bypassDocumentValidation });
      } catch (error) {
        if ((error as { code?: unknown }).code === DOCUMENT_VALIDATION_FAILURE)
          throw new ImportValidationError(tenant, current.name, error);
        throw error;
      }
      result.documents += batch.length;
    }
    batch = [];
  };
  const finishCollection = async () => {
    await flush();
    if (current && current.indexes.length > 0) {
      await db.collection(current.name).createIndexes(current.indexes as never);
      result.indexes += current.indexes.length;
    }
  };
  let first = true;
  for await (const text of readLines(input)) {
    let entry: Document;
    try {
      entry = EJSON.parse(text, { relaxed: false }) as Document;
    } catch {
      throw new FleetSpecError('The import is not a PolyMongo tenant export: a line is not Extended JSON.');
    }
    if (first) {
      if (entry.format !== FORMAT)
        throw new FleetSpecError('The import is not a PolyMongo tenant export (no header line); use one made by exportTenant.');
      if (Number(entry.version) !== VERSION)
        throw new FleetSpecError(`This export has format version ${String(entry.version)}; this version reads ${VERSION}.`);
      first = false;
      continue;
    }
    if ('doc' in entry) {
      if (!current) throw new FleetSpecError('The import has a document before its collection line.');
      batch.push(entry.doc as Document);
      if (batch.length >= batchSize) await flush();
      continue;
    }
    if (typeof entry.collection === 'string') {
      await finishCollection();
      const { viewOn, pipeline, ...collectionOptions } = (entry.options ?? {}) as Document;
      if (entry.type === 'view') {
        await db.createCollection(entry.collection, { viewOn, pipeline });
        current = undefined;
      } else {
        await db.createCollection(entry.collection, collectionOptions);
        current = { name: entry.collection, indexes: (entry.indexes as Document[] | undefined) ?? [] };
      }
      result.collections++;
    }
  }
  if (first) throw new FleetSpecError('The import is empty; expected a PolyMongo tenant export.');
  await finishCollection();
  return result;
}
