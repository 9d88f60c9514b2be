import { calculateObjectSize, type Document, Long } from 'bson';

const DEFAULT_FIRST_BATCH = 101;
const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 16 * 1024;

export interface QueryCursor {
  kind: 'query';
  id: number;
  ns: string;
  docs: Document[];
  position: number;
  batchSize?: number;
}

export interface ChangeStreamCursor {
  kind: 'change';
  id: number;
  ns: string;
  /** Sequence number of the last event this cursor has looked at. */
  position: number;
  db?: string;
  coll?: string;
  fullDocument: string;
  fullDocumentBeforeChange: string;
  stages: Document[];
  showExpandedEvents: boolean;
  batchSize?: number;
  invalidated: boolean;
}

export type Cursor = QueryCursor | ChangeStreamCursor;

/** Open cursors, by id; ids are positive and never reused while the server runs. */
export class CursorRegistry {
  private readonly cursors = new Map<number, Cursor>();
  private nextId = 1_000_000 + Math.floor(Math.random() * 1_000_000);

  allocateId(): number {
    this.nextId += 1;
    return this.nextId;
  }

  add(cursor: Cursor): void {
    this.cursors.set(cursor.id, cursor);
  }

  get(id: number): Cursor | undefined {
    return this.cursors.get(id);
  }

  delete(id: number): boolean {
    return this.cursors.delete(id);
  }
}

/** Takes the next batch of a query cursor: `batchSize` documents at most, and never more than fits a reply. */
export function takeBatch(docs: Document[], start: number, batchSize: number | undefined): Document[] {
  const limit = batchSize && batchSize > 0 ? batchSize : Number.POSITIVE_INFINITY;
  const batch: Document[] = [];
  let bytes = 0;
  for (let i = start; i < docs.length && batch.length < limit; i++) {
    const doc = docs[i] as Document;
    if (batch.length > 0 && docs.length - start > 1000) {
      bytes += calculateObjectSize(doc);
      if (bytes > MAX_BATCH_BYTES) break;
    }
    batch.push(doc);
  }
  return batch;
}

/** Replies with a first batch and registers a cursor for the rest, as `find` and `aggregate` do. */
export function firstBatchReply(
  registry: CursorRegistry,
  ns: string,
  docs: Document[],
  batchSize: number | undefined,
  singleBatch = false,
): Document {
  const first = takeBatch(docs, 0, batchSize ?? DEFAULT_FIRST_BATCH);
  let id = 0;
  if (!singleBatch && first.length < docs.length) {
    id = registry.allocateId();
    registry.add({ kind: 'query', id, ns, docs, position: first.length });
  }
  return { cursor: { firstBatch: first, id: Long.fromNumber(id), ns }, ok: 1 };
}
