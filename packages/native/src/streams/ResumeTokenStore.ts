import type { Collection, ResumeToken } from 'mongodb';

/**
 * Where change stream resume tokens are kept between runs, so a restarted process resumes with no event lost.
 * With a `handler`, `resumeWatch` saves a token only after its change is handled (at-least-once).
 *
 * @example
 * const store = new MongoResumeTokenStore(poly.tenant('ops').collection('resume_tokens'));
 * await poly.resumeWatch('acme', { store, key: 'acme-orders', collection: 'orders', handler: async (change) => apply(change) });
 */
export interface ResumeTokenStore {
  load(key: string): Promise<ResumeToken | undefined>;
  save(key: string, token: ResumeToken): Promise<void>;
}

/** Keeps tokens in process memory: resumes across dropped connections and re-opened streams, not restarts. */
export class InMemoryResumeTokenStore implements ResumeTokenStore {
  private readonly tokens = new Map<string, ResumeToken>();

  async load(key: string): Promise<ResumeToken | undefined> {
    return this.tokens.get(key);
  }

  async save(key: string, token: ResumeToken): Promise<void> {
    this.tokens.set(key, token);
  }
}

interface TokenDocument {
  _id: string;
  token: ResumeToken;
  updatedAt: Date;
}

/** Keeps tokens in a MongoDB collection (one document per stream key), so they survive restarts. */
export class MongoResumeTokenStore implements ResumeTokenStore {
  private readonly collection: Collection<TokenDocument>;

  constructor(collection: Collection) {
    this.collection = collection as unknown as Collection<TokenDocument>;
  }

  async load(key: string): Promise<ResumeToken | undefined> {
    const doc = await this.collection.findOne({ _id: key });
    return doc?.token;
  }

  async save(key: string, token: ResumeToken): Promise<void> {
    await this.collection.updateOne({ _id: key }, { $set: { token, updatedAt: new Date() } }, { upsert: true });
  }
}
