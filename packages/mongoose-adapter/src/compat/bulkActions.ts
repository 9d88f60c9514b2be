import { createInterface } from 'node:readline';
import { PassThrough, Readable } from 'node:stream';
import type { Db, Document, IndexDescriptionInfo } from 'mongodb';

/** One line of the 1.3 `polymongo.ndjson` format (version 1). */
export type StreamRecord =
  | { type: 'meta'; format: 'polymongo.ndjson'; version: 1; database: string; exportedAt: string }
  | { type: 'collection'; collection: string }
  | { type: 'index'; collection: string; index: Document }
  | { type: 'document'; collection: string; document: Document }
  | { type: 'collectionEnd'; collection: string };

/** `actions.exportDB` result: every collection's documents and indexes. */
export interface DatabaseExport {
  database: string;
  exportDate: string;
  collections: Record<string, { documents: Document[]; indexes: IndexDescriptionInfo[] }>;
}

export interface CollectionImportSummary {
  collection: string;
  documents: number;
  indexes: number;
}

/** `actions.importDB` / `importDBStream` result, as 1.3 returns it. */
export interface DatabaseImportSummary {
  database: string;
  importedAt: string;
  collections: CollectionImportSummary[];
  failures: Array<{ collection: string; stage: 'import' | 'index'; message: string }>;
  insertedDocuments: number;
  createdIndexes: number;
}

/** `actions.copyDatabase` result. */
export interface DatabaseCopySummary extends Omit<DatabaseImportSummary, 'database'> {
  source: string;
  target: string;
}

export interface ImportOptions {
  /** Documents per insertMany; default 1000. */
  batchSize?: number;
  /** Stop at the first failing collection instead of recording it and going on; default false. */
  stopOnError?: boolean;
}

const line = (record: StreamRecord) => `${JSON.stringify(record)}\n`;

/** 1.3 `exportDB`: the whole database in memory (documents as the driver returns them). */
export async function exportDatabase(db: Db, dbName: string): Promise<DatabaseExport> {
  const result: DatabaseExport = { database: dbName, exportDate: new Date().toISOString(), collections: {} };
  for (const info of await db.listCollections().toArray()) {
    const coll = db.collection(info.name);
    result.collections[info.name] = { documents: await coll.find({}).toArray(), indexes: await coll.indexes() };
  }
  return result;
}

/**
 * 1.3 `exportDBStream`: NDJSON lines, one collection at a time, documents streamed from a cursor. Values are written
 * with JSON.stringify, as 1.3 does (an ObjectId or Date becomes a string).
 */
export function exportDatabaseStream(db: () => Promise<Db>, dbName: string): Readable {
  async function* records(): AsyncGenerator<string> {
    const database = await db();
    yield line({ type: 'meta', format: 'polymongo.ndjson', version: 1, database: dbName, exportedAt: new Date().toISOString() });
    for (const info of await database.listCollections().toArray()) {
      const collection = info.name;
      yield line({ type: 'collection', collection });
      for (const index of await database.collection(collection).indexes()) yield line({ type: 'index', collection, index });
      for await (const document of database.collection(collection).find({})) yield line({ type: 'document', collection, document });
      yield line({ type: 'collectionEnd', collection });
    }
  }
  return Readable.from(records(), { encoding: 'utf8' });
}

/** 1.3 `importDBStream`: reads NDJSON, inserts in batches, creates the indexes (except `_id_`) after each collection. */
export async function importDatabaseStream(
  db: Db,
  dbName: string,
  stream: NodeJS.ReadableStream,
  options: ImportOptions = {},
): Promise<DatabaseImportSummary> {
  const batchSize = options.batchSize ?? 1000;
  const summary: DatabaseImportSummary = {
    database: dbName,
    importedAt: new Date().toISOString(),
    collections: [],
    failures: [],
    insertedDocuments: 0,
    createdIndexes: 0,
  };
  let active: string | null = null;
  let indexes: Document[] = [];
  let batch: Document[] = [];
  let inserted = 0;
  let failed = false;

  const fail = (stage: 'import' | 'index', error: unknown) => {
    const message = error instanceof Error ? error.message : 'Unknown error';
    summary.failures.push({ collection: active ?? '', stage, message });
    if (options.stopOnError) throw new Error(message);
    failed = true;
  };
  const flush = async () => {
    const docs = batch;
    batch = [];
    if (!active || docs.length === 0 || failed) return;
    try {
      await db.collection(active).insertMany(docs, { ordered: false });
      inserted += docs.length;
      summary.insertedDocuments += docs.length;
    } catch (error) {
      fail('import', error);
    }
  };
  const finish = async () => {
    if (!active) return;
    await flush();
    let created = 0;
    if (!failed) {
      try {
        const wanted = indexes.filter((index) => index.name !== '_id_');
        await Promise.all(
          wanted.map(({ key, v: _v, ns: _ns, ...rest }) => db.collection(active as string).createIndex(key as Document, rest)),
        );
        created = wanted.length;
        summary.createdIndexes += created;
      } catch (error) {
        fail('index', error);
      }
    }
    summary.collections.push({ collection: active, documents: inserted, indexes: failed ? 0 : created });
    active = null;
    indexes = [];
    batch = [];
    inserted = 0;
    failed = false;
  };

  for await (const raw of createInterface({ input: stream as NodeJS.ReadableStream, crlfDelay: Number.POSITIVE_INFINITY })) {
    const text = raw.trim();
    if (!text) continue;
    const record = JSON.parse(text) as StreamRecord;
    if (record.type === 'meta') {
      if (record.format !== 'polymongo.ndjson' || record.version !== 1) throw new Error('Unsupported stream format');
      continue;
    }
    if (record.type === 'collection') {
      await finish();
      active = record.collection;
      continue;
    }
    if (!active || record.collection !== active) throw new Error('Out-of-order stream record');
    if (record.type === 'index') {
      if (!failed) indexes.push(record.index);
    } else if (record.type === 'document') {
      if (!failed) {
        batch.push(record.document);
        if (batch.length >= batchSize) await flush();
      }
    } else if (record.type === 'collectionEnd') {
      await finish();
    }
  }
  await finish();
  return summary;
}

/**
 * 1.3 `importDB` feeds the `exportDB` object to its NDJSON import: the same lines, as a stream. Returns undefined when
 * the object is not an export (1.3: "Invalid import data format").
 */
export function importDataStream(data: DatabaseExport, dbName: string): Readable | undefined {
  if (!data?.collections || typeof data.collections !== 'object') return undefined;
  const stream = new PassThrough();
  stream.write(
    line({
      type: 'meta',
      format: 'polymongo.ndjson',
      version: 1,
      database: data.database ?? dbName,
      exportedAt: data.exportDate ?? new Date().toISOString(),
    }),
  );
  for (const [collection, content] of Object.entries(data.collections)) {
    stream.write(line({ type: 'collection', collection }));
    for (const index of Array.isArray(content?.indexes) ? content.indexes : []) stream.write(line({ type: 'index', collection, index }));
    for (const document of Array.isArray(content?.documents) ? content.documents : [])
      stream.write(line({ type: 'document', collection, document }));
    stream.write(line({ type: 'collectionEnd', collection }));
  }
  stream.end();
  return stream;
}
