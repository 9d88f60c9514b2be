import { startMongo } from '@polymongo/testkit';
import { type ClientSession, type Db, MongoClient } from 'mongodb';
import { describe, expect, test, vi } from 'vitest';
import { createFleet, defineMigration, MIGRATIONS_COLLECTION, type Migration } from '../src/index.js';
import { readState } from '../src/migrations/TenantLease.js';
import { seedTenants, unique, useServer } from './helpers.js';

const env = useServer();

/** A migration that increments a per-tenant counter: applying it twice shows as 2. */
function counter(id: string, options: { failOn?: (tenant: string) => boolean } = {}): Migration {
  return defineMigration({
    id,
    up: async ({ db, tenant, session }) => {
      await db.collection('counters').updateOne({ _id: id as never }, { $inc: { n: 1 } }, { upsert: true, session });
      if (options.failOn?.(tenant)) throw new Error(`crashed in ${tenant}`);
    },
    down: async ({ db, session }) => {
      await db.collection('counters').updateOne({ _id: id as never }, { $inc: { n: -1 } }, { session });
    },
  });
}

async function counts(ids: string[], migrationId: string): Promise<number[]> {
  return Promise.all(
    ids.map(
      async (id) =>
        ((
          await env.observer
            .db(id)
            .collection('counters')
            .findOne({ _id: migrationId as never })
        )?.n as number) ?? 0,
    ),
  );
}

const LEASE = '__lease__' as never;

/**
 * Inside a step: reads the lease its transaction wrote (as the transaction sees it) and returns once a whole lease
 * has passed after its expiry (at least three renewal periods).
 */
async function outlastLease(db: Db, session: ClientSession | undefined, leaseMS: number): Promise<void> {
  const lease = await db.collection(MIGRATIONS_COLLECTION).findOne({ _id: LEASE }, { session });
  const expiresAt = (lease as unknown as { expiresAt: Date }).expiresAt.getTime();
  await vi.waitFor(
    () => {
      if (Date.now() < expiresAt + leaseMS) throw new Error('still within the lease');
    },
    { timeout: 10_000, interval: 20 },
  );
}

/** A tenant's migration state: applied ids (one document each) and the lease document, if any. */
async function stateOf(id: string) {
  const docs = await env.observer.db(id).collection(MIGRATIONS_COLLECTION).find({}).toArray();
  const lease = docs.find((d) => d._id === LEASE);
  const records = docs.filter((d) => d._id !== LEASE);
  for (const record of records) expect(record.appliedAt).toBeInstanceOf(Date);
  const applied = records.map((d) => String(d._id)).sort();
  return lease ? { applied, lease: { owner: lease.owner, expiresAt: lease.expiresAt } } : { applied };
}

async function recorded(id: string): Promise<string[]> {
  return (await stateOf(id)).applied;
}

describe('migrations', () => {
  test('applies pending migrations in id order once per tenant and records them', async () => {
    const ids = await seedTenants(env.observer, unique('mig'), 4);
    const order: string[] = [];
    const second = defineMigration({ id: '2026-02', up: async ({ tenant }) => void order.push(`${tenant}:2026-02`) });
    const first = defineMigration({ id: '2026-01', up: async ({ tenant }) => void order.push(`${tenant}:2026-01`) });
    const fleet = createFleet(env.make());
    const result = await fleet.migrate({ migrations: [second, first], tenants: ids, concurrency: 1 });
    expect(result.failed).toEqual([]);
    expect(result.applied).toEqual(
      ids.flatMap((t) => [
        { tenant: t, id: '2026-01' },
        { tenant: t, id: '2026-02' },
      ]),
    );
    expect(order).toEqual(ids.flatMap((t) => [`${t}:2026-01`, `${t}:2026-02`]));
    for (const id of ids) expect(await recorded(id)).toEqual(['2026-01', '2026-02']);
    const again = await fleet.migrate({ migrations: [first, second], tenants: ids });
    expect(again.applied).toEqual([]);
    expect(await fleet.migrationStatus({ migrations: [first, second], tenants: ids })).toEqual(
      ids.map((tenant) => ({ tenant, applied: ['2026-01', '2026-02'], pending: [] })),
    );
  });

  test('a session per tenant in progress, reused from tenant to tenant, not after a failure, and ended at the end', async () => {
    const ids = await seedTenants(env.observer, unique('sess'), 6);
    const poly = env.make();
    const client = poly.client();
    const started: ClientSession[] = [];
    const start = client.startSession.bind(client);
    vi.spyOn(client, 'startSession').mockImplementation((options) => {
      const session = start(options);
      started.push(session);
      return session;
    });
    const used = new Map<string, ClientSession | undefined>();
    const bad = ids[3] as string;
    const migration = defineMigration({
      id: 'sess-1',
      up: async ({ db, tenant, session }) => {
        used.set(tenant, session);
        await db.collection('counters').updateOne({ _id: 'sess-1' as never }, { $inc: { n: 1 } }, { upsert: true, session });
        if (tenant === bad) throw new Error(`crashed in ${tenant}`);
      },
    });
    const result = await createFleet(poly).migrate({ migrations: [migration], tenants: ids, concurrency: 1 });
    expect(result.failed.map((f) => f.tenant)).toEqual([bad]);
    expect(await counts(ids, 'sess-1')).toEqual(ids.map((t) => (t === bad ? 0 : 1)));
    // The first tenant runs before its pool is known to run transactions: a session of its own. The next three share
    // one; the failure on the fourth ends it, and the last two share a new one.
    const [s0, s1, s2, s3, s4, s5] = ids.map((t) => used.get(t));
    expect(s0).not.toBe(s1);
    expect(s2).toBe(s1);
    expect(s3).toBe(s1);
    expect(s4).not.toBe(s3);
    expect(s5).toBe(s4);
    // Explicit sessions only: the driver starts an implicit one for each command sent without a session.
    expect(started.filter((session) => session.explicit)).toHaveLength(3);
    for (const session of started) expect(session.hasEnded).toBe(true);
  });

  test('a TransientTransactionError on a reused session retries the step on it: applied once, the session kept', async () => {
    const ids = await seedTenants(env.observer, unique('sesstt'), 3);
    const appName = unique('sessttapp');
    const faulted = ids[1] as string;
    const sessions: Array<{ tenant: string; session: ClientSession | undefined }> = [];
    const migration = defineMigration({
      id: 'tt-1',
      up: async ({ db, tenant, session }) => {
        if (tenant === faulted && !sessions.some((s) => s.tenant === faulted)) {
          // The first attempt on the second tenant (the first one on the run's shared session) fails once.
          await env.observer.db('admin').command({
            configureFailPoint: 'failCommand',
            mode: { times: 1 },
            data: { failCommands: ['update'], errorCode: 112, errorLabels: ['TransientTransactionError'], appName },
          });
        }
        sessions.push({ tenant, session });
        await db.collection('counters').updateOne({ _id: 'tt-1' as never }, { $inc: { n: 1 } }, { upsert: true, session });
      },
    });
    try {
      const fleet = createFleet(env.make({ driverOptions: { appName } } as never));
      const result = await fleet.migrate({ migrations: [migration], tenants: ids, concurrency: 1 });
      expect(result.failed).toEqual([]);
    } finally {
      await env.observer.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
    }
    expect(await counts(ids, 'tt-1')).toEqual([1, 1, 1]);
    const onFaulted = sessions.filter((s) => s.tenant === faulted);
    expect(onFaulted).toHaveLength(2);
    expect(onFaulted[1]?.session).toBe(onFaulted[0]?.session);
    expect(sessions.at(-1)?.session).toBe(onFaulted[0]?.session);
  });

  test('migrationStatus: a tenant whose state cannot be read gets an error entry, and the other tenants are still read', async () => {
    const ids = await seedTenants(env.observer, unique('stfail'), 3);
    const [a, b, c] = ids as [string, string, string];
    const fleet = createFleet(env.make());
    const all = [counter('s1'), counter('s2')];
    await fleet.migrate({ migrations: [all[0] as Migration], tenants: ids });
    // Reading b's state fails on the server (13 Unauthorized, only for find on b's _polymongo_migrations).
    await env.observer.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: 'alwaysOn',
      data: { failCommands: ['find'], errorCode: 13, namespace: `${b}.${MIGRATIONS_COLLECTION}` },
    });
    try {
      const status = await fleet.migrationStatus({ migrations: all, tenants: ids, concurrency: 1 });
      expect(status).toEqual([
        { tenant: a, applied: ['s1'], pending: ['s2'] },
        { tenant: b, applied: [], pending: ['s1', 's2'], error: { name: 'MongoServerError', code: 13, message: expect.any(String) } },
        { tenant: c, applied: ['s1'], pending: ['s2'] },
      ]);
    } finally {
      await env.observer.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
    }
  });

  test('a run that crashes mid-migration leaves each tenant migrated and recorded, or untouched; a rerun applies exactly once', async () => {
    const ids = await seedTenants(env.observer, unique('crash'), 6);
    const fleet = createFleet(env.make());
    const crashing = counter('m1', { failOn: (t) => t.endsWith('3') || t.endsWith('4') });
    const first = await fleet.migrate({ migrations: [crashing], tenants: ids, concurrency: 2 });
    expect(first.failed.map((f) => f.tenant).sort()).toEqual([ids[3], ids[4]]);
    // The crashed tenants kept neither the increment nor a record.
    expect(await counts(ids, 'm1')).toEqual([1, 1, 1, 0, 0, 1]);
    expect(await recorded(ids[3] as string)).toEqual([]);

    // An aborted run stops mid-fleet; the tenants it never started stay untouched.
    const controller = new AbortController();
    const aborted = await fleet.migrate({
      migrations: [
        counter('m1'),
        counter('m2', {
          failOn: (t) => {
            if (t === ids[1]) controller.abort();
            return false;
          },
        }),
      ],
      tenants: ids,
      concurrency: 1,
      signal: controller.signal,
    });
    expect(aborted.skipped).toBe(4);
    expect(await counts(ids, 'm2')).toEqual([1, 1, 0, 0, 0, 0]);

    const rerun = await fleet.migrate({ migrations: [counter('m1'), counter('m2')], tenants: ids });
    expect(rerun.failed).toEqual([]);
    expect(await counts(ids, 'm1')).toEqual([1, 1, 1, 1, 1, 1]);
    expect(await counts(ids, 'm2')).toEqual([1, 1, 1, 1, 1, 1]);
  });

  test('two concurrent runners apply each migration exactly once per tenant', async () => {
    const ids = await seedTenants(env.observer, unique('race'), 8);
    const slow = defineMigration({
      id: 'race-1',
      up: async ({ db, session }) => {
        await db.collection('counters').updateOne({ _id: 'race-1' as never }, { $inc: { n: 1 } }, { upsert: true, session });
        await new Promise((r) => setTimeout(r, 5));
      },
    });
    const [a, b] = [createFleet(env.make()), createFleet(env.make())];
    const options = { migrations: [slow], tenants: ids, concurrency: 4, leaseMS: 2_000 };
    const [ra, rb] = await Promise.all([a.migrate(options), b.migrate(options)]);
    expect([...ra.failed, ...rb.failed]).toEqual([]);
    expect(ra.applied.length + rb.applied.length).toBe(ids.length);
    expect(await counts(ids, 'race-1')).toEqual(ids.map(() => 1));
  });

  test('two concurrent runners with several steps per tenant apply each exactly once, in order, under the lease', async () => {
    const ids = await seedTenants(env.observer, unique('race3'), 8);
    const order = new Map<string, string[]>();
    const step = (id: string) =>
      defineMigration({
        id,
        up: async ({ db, tenant, session }) => {
          await db.collection('counters').updateOne({ _id: id as never }, { $inc: { n: 1 } }, { upsert: true, session });
          order.set(tenant, [...(order.get(tenant) ?? []), id]);
          await new Promise((r) => setTimeout(r, 5));
        },
      });
    const migrations = [step('r3-1'), step('r3-2'), step('r3-3')];
    const [a, b] = [createFleet(env.make()), createFleet(env.make())];
    const options = { migrations, tenants: ids, concurrency: 4, leaseMS: 2_000 };
    const [ra, rb] = await Promise.all([a.migrate(options), b.migrate(options)]);
    expect([...ra.failed, ...rb.failed]).toEqual([]);
    expect(ra.applied.length + rb.applied.length).toBe(ids.length * 3);
    for (const id of ['r3-1', 'r3-2', 'r3-3']) expect(await counts(ids, id)).toEqual(ids.map(() => 1));
    for (const id of ids) {
      expect(await stateOf(id)).toEqual({ applied: ['r3-1', 'r3-2', 'r3-3'] });
      // Rolled-back attempts may have run up() too; the committed ones ran in id order.
      expect((order.get(id) ?? []).filter((m, i, all) => all.indexOf(m) === i)).toEqual(['r3-1', 'r3-2', 'r3-3']);
    }
  });

  test('an expired lease of a dead runner is taken over; a live one fails the tenant with MIGRATION_LOCKED', async () => {
    const [dead, live] = (await seedTenants(env.observer, unique('lease'), 2)) as [string, string];
    const lease = (expiresAt: Date) => ({ _id: LEASE, owner: 'crashed-runner', expiresAt });
    await env.observer
      .db(dead)
      .collection(MIGRATIONS_COLLECTION)
      .insertOne(lease(new Date(Date.now() - 1_000)));
    await env.observer
      .db(live)
      .collection(MIGRATIONS_COLLECTION)
      .insertOne(lease(new Date(Date.now() + 60_000)));
    const result = await createFleet(env.make()).migrate({ migrations: [counter('l1')], tenants: [dead, live], lockWaitMS: 200 });
    expect(result.applied).toEqual([{ tenant: dead, id: 'l1' }]);
    expect(result.failed).toEqual([{ tenant: live, id: null, error: expect.objectContaining({ code: 'MIGRATION_LOCKED' }) }]);
    expect(await counts([dead, live], 'l1')).toEqual([1, 0]);
    // The dead runner's lease was removed in the step's transaction, with its record.
    expect(await stateOf(dead)).toEqual({ applied: ['l1'] });
  });

  test('without transactions (a standalone server), the lease is renewed while up() runs, so a second runner cannot take it over', async () => {
    // A standalone server runs steps outside transactions. MONGODB_URI names a replica set, so the embedded one is used.
    const standalone = await startMongo({ replSet: false, embeddedOnly: true, quiet: true });
    const observer = await new MongoClient(standalone.uri).connect();
    try {
      const [t] = (await seedTenants(observer, unique('renew'), 1)) as [string];
      let finish: () => void = () => undefined;
      const running = new Promise<void>((resolve) => (finish = resolve));
      const slow = defineMigration({ id: 'slow', up: () => running });
      const make = () => createFleet(env.make({ uri: standalone.uri }));
      const first = make().migrate({ migrations: [slow], tenants: [t], leaseMS: 300 });
      const leaseOf = async () =>
        (await observer.db(t).collection(MIGRATIONS_COLLECTION).findOne({ _id: LEASE }))?.expiresAt as Date | undefined;
      await expect.poll(leaseOf).toBeInstanceOf(Date);
      const initial = (await leaseOf()) as Date;
      // Renewed past its first expiry while up() is still running.
      await expect.poll(async () => ((await leaseOf())?.getTime() ?? 0) > initial.getTime() + 150, { timeout: 5_000 }).toBe(true);
      const second = await make().migrate({ migrations: [slow], tenants: [t], leaseMS: 300, lockWaitMS: 50 });
      expect(second.failed.map((f) => f.error.code)).toEqual(['MIGRATION_LOCKED']);
      finish();
      expect((await first).applied).toEqual([{ tenant: t, id: 'slow' }]);
      const left = await observer.db(t).collection(MIGRATIONS_COLLECTION).find({}).toArray();
      expect(left).toEqual([{ _id: 'slow', appliedAt: expect.any(Date) }]);
    } finally {
      await observer.close();
      await standalone.stop();
    }
  });

  test('a standalone cluster of a multi-cluster client does not turn transactions off for the replica-set cluster', async () => {
    const standalone = await startMongo({ replSet: false, embeddedOnly: true, quiet: true });
    const observer = await new MongoClient(standalone.uri).connect();
    try {
      const [solo] = (await seedTenants(observer, unique('solo'), 1)) as [string];
      const [rs] = (await seedTenants(env.observer, unique('rset'), 1)) as [string];
      const sessions: Record<string, boolean> = {};
      const m = defineMigration({
        id: 'p1',
        up: async ({ tenant, session }) => {
          sessions[tenant] = session !== undefined;
        },
      });
      const poly = env.make({
        uri: undefined,
        clusters: { rs: { uri: env.mongo.uri }, solo: { uri: standalone.uri } },
        routing: { tenants: { [solo]: 'solo' } },
        defaultCluster: 'rs',
      } as never);
      // The standalone tenant first: its refused transaction must not decide for the other cluster.
      const result = await createFleet(poly).migrate({ migrations: [m], tenants: [solo, rs], concurrency: 1 });
      expect(result.failed).toEqual([]);
      expect(sessions).toEqual({ [solo]: false, [rs]: true });
    } finally {
      await observer.close();
      await standalone.stop();
    }
  });

  test('a step in a transaction that outlasts its lease commits once: no renewal conflicts with it, up() is not rerun', async () => {
    const [t] = (await seedTenants(env.observer, unique('long'), 1)) as [string];
    const leaseMS = 300;
    let calls = 0;
    const long = defineMigration({
      id: 'long-1',
      up: async ({ db, session }) => {
        calls++;
        // A retried transaction runs up() again: fail at once rather than after every retry.
        if (calls > 1) throw new Error('up() ran again: its transaction was retried');
        await db.collection('counters').updateOne({ _id: 'long-1' as never }, { $inc: { n: 1 } }, { upsert: true, session });
        // The lease this step's transaction wrote (the tenant has two steps): run a whole lease past its expiry.
        await outlastLease(db, session, leaseMS);
      },
    });
    const next = defineMigration({ id: 'long-2', up: async () => undefined });
    const result = await createFleet(env.make()).migrate({ migrations: [long, next], tenants: [t], leaseMS });
    expect(result.failed).toEqual([]);
    expect(result.applied).toEqual([
      { tenant: t, id: 'long-1' },
      { tenant: t, id: 'long-2' },
    ]);
    expect(calls).toBe(1);
    expect(await counts([t], 'long-1')).toEqual([1]);
    expect(await stateOf(t)).toEqual({ applied: ['long-1', 'long-2'] });
  });

  test('a step that outlasts its lease keeps the tenant: a takeover attempted meanwhile waits and finds the lease live', async () => {
    const [t] = (await seedTenants(env.observer, unique('keep'), 1)) as [string];
    const leaseMS = 300;
    let takeover: Promise<number> | undefined;
    // Three steps: the first one takes the lease, the second one (long) runs with it committed before it.
    const first = defineMigration({ id: 'keep-1', up: async () => undefined });
    const long = defineMigration({
      id: 'keep-2',
      up: async ({ db, session }) => {
        await outlastLease(db, session, leaseMS);
        // Another runner sees the lease as written at the step's start, expired, and takes it over. MongoDB makes
        // this write wait until the step's transaction ends (the transaction wrote the lease); then it matches only
        // if the lease is still expired.
        takeover = env.observer
          .db(t)
          .collection(MIGRATIONS_COLLECTION)
          .updateOne(
            { _id: LEASE, expiresAt: { $lte: new Date() } },
            { $set: { owner: 'thief', expiresAt: new Date(Date.now() + 60_000) } },
          )
          .then((r) => r.matchedCount);
      },
    });
    const last = defineMigration({ id: 'keep-3', up: async () => undefined });
    const result = await createFleet(env.make()).migrate({ migrations: [first, long, last], tenants: [t], leaseMS });
    expect(await takeover).toBe(0);
    expect(result.failed).toEqual([]);
    expect(result.applied.map((a) => a.id)).toEqual(['keep-1', 'keep-2', 'keep-3']);
    expect(await stateOf(t)).toEqual({ applied: ['keep-1', 'keep-2', 'keep-3'] });
  });

  test('a step another runner recorded while this one waited for the lease is not applied again', async () => {
    const [w, t] = (await seedTenants(env.observer, unique('late'), 2)) as [string, string];
    const records = env.observer.db(t).collection(MIGRATIONS_COLLECTION);
    await records.insertOne({ _id: LEASE, owner: 'other-runner', expiresAt: new Date(Date.now() + 60_000) });
    const running = createFleet(env.make()).migrate({ migrations: [counter('late-1')], tenants: [w, t], concurrency: 1 });
    // The first tenant is done; the runner now read `t` as pending and waits for the other runner's lease.
    await expect.poll(async () => (await counts([w], 'late-1'))[0]).toBe(1);
    await env.observer
      .db(t)
      .collection('counters')
      .insertOne({ _id: 'late-1' as never, n: 1 });
    await records.insertOne({ _id: 'late-1' as never, appliedAt: new Date() });
    await records.deleteOne({ _id: LEASE });
    const result = await running;
    expect(result.applied).toEqual([{ tenant: w, id: 'late-1' }]);
    expect(result.failed).toEqual([]);
    expect(await counts([w, t], 'late-1')).toEqual([1, 1]);
  });

  test('a pending tenant costs a state read plus its transaction; an up-to-date one a single read', async () => {
    const ids = await seedTenants(env.observer, unique('trips'), 3);
    const poly = env.make({ monitorOperations: true } as never);
    const commands: string[] = [];
    poly.client().on('commandStarted', (e) => {
      if (ids.includes(e.databaseName) || e.commandName === 'commitTransaction') commands.push(e.commandName);
    });
    const fleet = createFleet(poly);
    const migration = defineMigration({
      id: 'trip-1',
      up: ({ db, session }) => db.collection('seed').updateMany({}, { $set: { status: 'open' } }, { session }),
    });
    await fleet.migrate({ migrations: [migration], tenants: [ids[0] as string] });
    // As a hand-written loop: the state read; then the record insert (first statement of the transaction: a one-step
    // tenant needs no lease, the transaction keeps other runners out), the step, the commit.
    expect(commands).toEqual(['find', 'insert', 'update', 'commitTransaction']);
    await fleet.migrate({ migrations: [migration], tenants: ids.slice(1) });
    commands.length = 0;
    expect((await fleet.migrate({ migrations: [migration], tenants: ids, concurrency: 1 })).applied).toEqual([]);
    // Up-to-date tenants: one read each.
    expect(commands).toEqual(['find', 'find', 'find']);
    expect(await stateOf(ids[0] as string)).toEqual({ applied: ['trip-1'] });
  });

  test("a lease taken by another runner before a step's transaction stops the step before up() runs: MIGRATION_LOCKED", async () => {
    const [first, later] = (await seedTenants(env.observer, unique('stolen'), 2)) as [string, string];
    const poly = env.make();
    // Another runner takes the lease over (as after an expiry) just before the transaction of the given call: the
    // first step of `first`, the second step of `later`. (During a transaction mongod would make its write wait:
    // the step's first statement wrote the state document.)
    const stealOn = new Map([
      [first, 1],
      [later, 2],
    ]);
    const calls = new Map<string, number>();
    const withTransaction = poly.withTransaction.bind(poly);
    poly.withTransaction = (async (...args: Parameters<typeof withTransaction>) => {
      const tenant = args[1]?.tenants?.[0] as string;
      calls.set(tenant, (calls.get(tenant) ?? 0) + 1);
      if (calls.get(tenant) === stealOn.get(tenant)) {
        await env.observer
          .db(tenant)
          .collection(MIGRATIONS_COLLECTION)
          .updateOne({ _id: LEASE }, { $set: { owner: 'thief', expiresAt: new Date(Date.now() + 60_000) } }, { upsert: true });
      }
      return withTransaction(...args);
    }) as typeof poly.withTransaction;
    const ran: string[] = [];
    const step = (id: string) =>
      defineMigration({
        id,
        up: async ({ db, tenant, session }) => {
          ran.push(`${tenant}:${id}`);
          await db.collection('counters').updateOne({ _id: id as never }, { $inc: { n: 1 } }, { upsert: true, session });
        },
      });
    const result = await createFleet(poly).migrate({ migrations: [step('s1'), step('s2')], tenants: [first, later], lockWaitMS: 100 });
    expect(result.applied).toEqual([{ tenant: later, id: 's1' }]);
    expect(result.failed).toEqual([
      // Taken before this runner held it: the tenant waited for the other runner's lease, as for any live lease.
      { tenant: first, id: null, error: expect.objectContaining({ code: 'MIGRATION_LOCKED' }) },
      // Lost between two steps: the second never ran.
      { tenant: later, id: 's2', error: expect.objectContaining({ code: 'MIGRATION_LOCKED' }) },
    ]);
    expect(ran).toEqual([`${later}:s1`]);
    expect(await counts([first, later], 's2')).toEqual([0, 0]);
    expect(await stateOf(first)).toEqual({ applied: [], lease: { owner: 'thief', expiresAt: expect.any(Date) } });
    expect(await stateOf(later)).toEqual({ applied: ['s1'], lease: { owner: 'thief', expiresAt: expect.any(Date) } });
  });

  test("up() failing with NamespaceExists (48) is reported as that migration's failure at once, not as MIGRATION_LOCKED", async () => {
    const [t] = (await seedTenants(env.observer, unique('ns48'), 1)) as [string];
    let runs = 0;
    // A common migration mistake: creating a collection that already exists (here: `seed`).
    const m = defineMigration({
      id: 'm1',
      up: async ({ db, session }) => {
        runs++;
        await db.createCollection('seed', { session });
      },
    });
    const result = await createFleet(env.make()).migrate({ migrations: [m], tenants: [t], leaseMS: 200, lockWaitMS: 400 });
    expect(result.applied).toEqual([]);
    expect(result.failed).toMatchObject([{ tenant: t, id: 'm1', error: { code: 48 } }]);
    expect(runs).toBe(1);
    expect(await stateOf(t)).toEqual({ applied: [] });
  });

  test('up() failing with WriteConflict (112) is reported as its failure after the transaction retries, not retried as contention', async () => {
    const [t] = (await seedTenants(env.observer, unique('wc112'), 1)) as [string];
    const appName = unique('wc112app');
    let runs = 0;
    const m = defineMigration({
      id: 'm1',
      up: async ({ db, session }) => {
        runs++;
        await db.collection('seed').updateMany({}, { $set: { migrated: true } }, { session });
      },
    });
    const fleet = createFleet(env.make({ driverOptions: { appName } } as never));
    await env.observer.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: 'alwaysOn',
      data: { failCommands: ['update'], errorCode: 112, appName },
    });
    try {
      const result = await fleet.migrate({ migrations: [m], tenants: [t], leaseMS: 200, lockWaitMS: 400 });
      expect(result.failed).toMatchObject([{ tenant: t, id: 'm1', error: { code: 112 } }]);
      // Ran once per transaction attempt (bounded), not again and again until lockWaitMS.
      expect(runs).toBeGreaterThanOrEqual(1);
      expect(runs).toBeLessThanOrEqual(5);
    } finally {
      await env.observer.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
    }
    expect(await stateOf(t)).toEqual({ applied: [] });
  });

  test("a tenant in the unreleased '__migrations__' state layout fails with MIGRATION_STATE_UNKNOWN; nothing runs on it", async () => {
    const [old, fresh] = (await seedTenants(env.observer, unique('legacy'), 2)) as [string, string];
    await env.observer
      .db(old)
      .collection(MIGRATIONS_COLLECTION)
      .insertOne({ _id: '__migrations__' as never, applied: ['l1'], lease: null });
    const fleet = createFleet(env.make());
    const all = [counter('l1'), counter('l2')];
    const result = await fleet.migrate({ migrations: all, tenants: [old, fresh] });
    expect(result.applied).toEqual([
      { tenant: fresh, id: 'l1' },
      { tenant: fresh, id: 'l2' },
    ]);
    expect(result.failed).toEqual([
      {
        tenant: old,
        id: null,
        error: expect.objectContaining({ code: 'MIGRATION_STATE_UNKNOWN', message: expect.stringContaining('__migrations__') }),
      },
    ]);
    expect(await counts([old], 'l1')).toEqual([0]);
    expect(await counts([old], 'l2')).toEqual([0]);
    const dry = await fleet.migrate({ migrations: all, tenants: [old], dryRun: true });
    expect(dry.failed).toMatchObject([{ tenant: old, id: null, error: { code: 'MIGRATION_STATE_UNKNOWN' } }]);
    expect(await fleet.migrationStatus({ migrations: all, tenants: [old] })).toEqual([
      { tenant: old, applied: [], pending: all.map((m) => m.id), error: expect.objectContaining({ code: 'MIGRATION_STATE_UNKNOWN' }) },
    ]);
  });

  test('down reverts the last applied migration, or every one after a target', async () => {
    const ids = await seedTenants(env.observer, unique('down'), 2);
    const all = [counter('d1'), counter('d2'), counter('d3')];
    const fleet = createFleet(env.make());
    await fleet.migrate({ migrations: all, tenants: ids });
    const last = await fleet.migrate({ migrations: all, tenants: ids, direction: 'down' });
    expect(last.applied).toEqual(ids.map((tenant) => ({ tenant, id: 'd3' })));
    expect(await counts(ids, 'd3')).toEqual([0, 0]);
    const toFirst = await fleet.migrate({ migrations: all, tenants: ids, direction: 'down', to: 'd1' });
    expect(toFirst.applied.map((a) => a.id)).toEqual(['d2', 'd2']);
    for (const id of ids) expect(await recorded(id)).toEqual(['d1']);
    const up = await fleet.migrate({ migrations: all, tenants: ids, to: 'd2' });
    expect(up.applied.map((a) => a.id)).toEqual(['d2', 'd2']);
  });

  test('two concurrent down runs without `to` revert only the migration that was last when they started', async () => {
    const ids = await seedTenants(env.observer, unique('down2'), 3);
    // down() outlasts the other runner's first read (a wide margin on a loaded machine), so both runners pick the same
    // migration to revert.
    const slow = (id: string): Migration => {
      const base = counter(id);
      return defineMigration({
        id,
        up: base.up,
        down: async (context) => {
          await base.down?.(context);
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        },
      });
    };
    const all = [slow('c1'), slow('c2'), slow('c3')];
    await createFleet(env.make()).migrate({ migrations: all, tenants: ids });
    const [a, b] = await Promise.all(
      [createFleet(env.make()), createFleet(env.make())].map((fleet) =>
        fleet.migrate({ migrations: all, tenants: ids, direction: 'down' }),
      ),
    );
    expect([...(a?.failed ?? []), ...(b?.failed ?? [])]).toEqual([]);
    expect([...(a?.applied ?? []), ...(b?.applied ?? [])].map((x) => x.id)).toEqual(['c3', 'c3', 'c3']);
    for (const id of ids) expect(await recorded(id)).toEqual(['c1', 'c2']);
    expect(await counts(ids, 'c2')).toEqual([1, 1, 1]);
    expect(await counts(ids, 'c3')).toEqual([0, 0, 0]);
  });

  test('a dry run reports what would run and writes nothing, not even the migrations collection', async () => {
    const ids = await seedTenants(env.observer, unique('dry'), 3);
    const result = await createFleet(env.make()).migrate({ migrations: [counter('x1'), counter('x2')], tenants: ids, dryRun: true });
    expect(result).toEqual({
      applied: ids.flatMap((tenant) => [
        { tenant, id: 'x1' },
        { tenant, id: 'x2' },
      ]),
      failed: [],
      skipped: 0,
      dryRun: true,
    });
    for (const id of ids) {
      const names = (await env.observer.db(id).listCollections().toArray()).map((c) => c.name);
      expect(names).toEqual(['seed']);
    }
  });

  test('bad input throws a coded error before anything runs', async () => {
    const [t] = (await seedTenants(env.observer, unique('bad'), 1)) as [string];
    const fleet = createFleet(env.make());
    const noDown = defineMigration({ id: 'n1', up: async () => undefined });
    await expect(fleet.migrate({ migrations: [counter('a'), counter('a')], tenants: [t] })).rejects.toMatchObject({
      code: 'DUPLICATE_MIGRATION',
    });
    await expect(fleet.migrate({ migrations: [counter('a')], tenants: [t], to: 'zzz' })).rejects.toMatchObject({
      code: 'UNKNOWN_MIGRATION',
    });
    await expect(fleet.migrate({ migrations: [counter('a'), noDown], tenants: [t], direction: 'down', to: 'a' })).rejects.toMatchObject({
      code: 'MIGRATION_NOT_REVERSIBLE',
    });
    await expect(fleet.migrate({ migrations: [counter('a')], tenants: ['bad.tenant'] })).rejects.toMatchObject({ code: 'INVALID_TENANT' });
    expect(() => defineMigration({ id: '', up: async () => undefined })).toThrow(/needs an id/);
    const names = (await env.observer.db(t).listCollections().toArray()).map((c) => c.name);
    expect(names).toEqual(['seed']);
  });
});

describe('reading a tenant state', () => {
  test('one find read from its reply; a cursor the server leaves open is killed and the state read through the driver', async () => {
    const [t] = (await seedTenants(env.observer, unique('state'), 1)) as [string];
    const ids = ['2026-01', '2026-02', '2026-03'];
    await env.observer
      .db(t)
      .collection(MIGRATIONS_COLLECTION)
      .insertMany(ids.map((id) => ({ _id: id as never, appliedAt: new Date() })));
    const real = env.observer.db(t);
    const sent: string[] = [];
    // With `batch`, a server whose first batch holds that many records (MongoDB's holds up to the batchSize asked for).
    const watched = (batch?: number) =>
      Object.create(real, {
        command: {
          value: (command: Record<string, unknown>, options?: object) => {
            sent.push(Object.keys(command)[0] as string);
            return real.command(batch !== undefined && 'find' in command ? { ...command, batchSize: batch } : command, options);
          },
        },
      }) as Db;
    expect([...(await readState(watched(), MIGRATIONS_COLLECTION, t)).applied].sort()).toEqual(ids);
    expect(sent).toEqual(['find']);
    sent.length = 0;
    expect([...(await readState(watched(1), MIGRATIONS_COLLECTION, t)).applied].sort()).toEqual(ids);
    expect(sent).toEqual(['find', 'killCursors']);
  });
});
