import type { ClientSession, MongoClient } from 'mongodb';

/**
 * Sessions kept from tenant to tenant during one fleet run, per client, at most one per tenant in progress: a
 * tenant's commands (its read, its transactions) share one, instead of a session each. A session is reused only
 * after a tenant that went well; any other is ended (a network error may have left its server session unusable).
 */
export class RunSessions {
  readonly #idle = new Map<MongoClient, ClientSession[]>();

  take(client: MongoClient): ClientSession {
    return this.#idle.get(client)?.pop() ?? client.startSession({ causalConsistency: false });
  }

  give(client: MongoClient, session: ClientSession, reusable: boolean): void {
    if (!reusable || session.hasEnded || session.inTransaction()) {
      void session.endSession().catch(() => undefined);
      return;
    }
    const idle = this.#idle.get(client);
    if (idle) idle.push(session);
    else this.#idle.set(client, [session]);
  }

  /** Ends every idle session (the end of the run). */
  async close(): Promise<void> {
    const all = [...this.#idle.values()].flat();
    this.#idle.clear();
    await Promise.all(all.map((s) => s.endSession().catch(() => undefined)));
  }
}
