import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { Binary, type Document, Long, ObjectId } from 'bson';
import { type EmbeddedUser, ScramAuthenticator } from './auth.js';
import { ChangeLog, ClusterClock } from './changes.js';
import { adminCommands } from './commands/admin.js';
import { crudCommands } from './commands/crud.js';
import { cursorCommands, openChangeStream } from './commands/cursor.js';
import type { CommandContext, CommandHandler, OpCounters, ServerInfo } from './context.js';
import { CursorRegistry } from './cursors.js';
import { CommandError, ErrorCodes, WriteError } from './errors.js';
import { FailPoints } from './failpoints.js';
import { Store, type Transaction } from './store.js';
import { decodeMessage, encodeReply, type IncomingCommand, MessageFramer, OP_QUERY } from './wire.js';

export interface EmbeddedMongoOptions {
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Report a single-node replica set (the default, named `rs0`), or a standalone when `false`. */
  replSet?: boolean | string;
  /** Require SCRAM-SHA-256 authentication with these users. */
  auth?: { users: EmbeddedUser[] };
}

export interface CommandLogEntry {
  db: string;
  command: string;
  connectionId: number;
  at: number;
}

const MAX_WIRE_VERSION = 21; // MongoDB 7.0
const COMMAND_LOG_LIMIT = 50_000;
const RETRYABLE_WRITES = new Set(['insert', 'update', 'delete', 'findAndModify', 'findandmodify']);
const RETRYABLE_CODES = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);
const NO_AUTH_COMMANDS = new Set([
  'hello',
  'isMaster',
  'ismaster',
  'saslStart',
  'saslContinue',
  'ping',
  'buildInfo',
  'buildinfo',
  'endSessions',
]);

interface Session {
  txnNumber: number;
  txn: Transaction | undefined;
  retried: Map<number, Document>;
}

interface Connection {
  id: number;
  socket: Socket;
  appName: string | undefined;
  authenticated: boolean;
  scram: ReturnType<ScramAuthenticator['start']>['conversation'] | undefined;
  queue: Promise<void>;
}

/**
 * An in-memory MongoDB wire-protocol server for tests, examples and benchmarks. The unmodified `mongodb` driver and
 * Mongoose connect to it with a plain `mongodb://127.0.0.1:PORT/` URI. It is test infrastructure, not a database.
 */
export class EmbeddedMongo {
  private readonly clock = new ClusterClock();
  private readonly changes = new ChangeLog(this.clock);
  private readonly store = new Store(this.changes);
  private readonly cursors = new CursorRegistry();
  private readonly failPoints = new FailPoints();
  private readonly sessions = new Map<string, Session>();
  private readonly connections = new Set<Connection>();
  private readonly opcounters: OpCounters = { insert: 0, query: 0, update: 0, delete: 0, getmore: 0, command: 0 };
  private readonly log: CommandLogEntry[] = [];
  private readonly auth: ScramAuthenticator | undefined;
  private readonly replSetName: string | undefined;
  private readonly electionId = new ObjectId('7fffffff0000000000000001');
  private readonly commands: Record<string, CommandHandler>;
  private server: Server | undefined;
  private boundPort: number;
  private nextConnectionId = 1;
  private totalCreated = 0;
  private readonly startedAt = Date.now();

  constructor(options: EmbeddedMongoOptions = {}) {
    this.boundPort = options.port ?? 0;
    this.replSetName = options.replSet === false ? undefined : typeof options.replSet === 'string' ? options.replSet : 'rs0';
    this.auth = options.auth ? new ScramAuthenticator(options.auth.users) : undefined;
    this.commands = {
      ...crudCommands,
      ...adminCommands,
      ...cursorCommands,
      endSessions: (ctx) => this.endSessions(ctx.body.endSessions as Document[]),
    };
  }

  /** Starts listening; calling it again after `stop()` restarts on the same port with the same data. */
  async start(): Promise<this> {
    if (this.server) return this;
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Closes every connection and stops listening. Data stays in memory for a later `start()`. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.dropAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get port(): number {
    return this.boundPort;
  }

  get host(): string {
    return `127.0.0.1:${this.boundPort}`;
  }

  /** A connection string for this server. */
  get uri(): string {
    return `mongodb://${this.host}/`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  /** Open client connections, as `serverStatus.connections.current` reports them. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Commands received, oldest first, optionally only those run against one database. */
  commandLog(db?: string): CommandLogEntry[] {
    return db === undefined ? [...this.log] : this.log.filter((e) => e.db === db);
  }

  clearCommandLog(): void {
    this.log.length = 0;
  }

  /** Drops every client connection at once, as a network blip would. The server keeps listening. */
  dropAllConnections(): void {
    for (const conn of this.connections) conn.socket.destroy();
    this.connections.clear();
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const conn: Connection = {
      id: this.nextConnectionId++,
      socket,
      appName: undefined,
      authenticated: this.auth === undefined,
      scram: undefined,
      queue: Promise.resolve(),
    };
    this.connections.add(conn);
    this.totalCreated += 1;
    const framer = new MessageFramer();
    socket.on('data', (chunk: Buffer) => {
      let messages: Buffer[];
      try {
        messages = framer.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const message of messages) {
        conn.queue = conn.queue.then(() => this.handleMessage(conn, message));
      }
    });
    const forget = () => this.connections.delete(conn);
    socket.on('close', forget);
    socket.on('error', forget);
  }

  private async handleMessage(conn: Connection, message: Buffer): Promise<void> {
    if (conn.socket.destroyed) return;
    let request: IncomingCommand;
    try {
      request = decodeMessage(message);
    } catch {
      conn.socket.destroy();
      return;
    }
    const reply = await this.execute(conn, request);
    if (reply === undefined || request.moreToCome || conn.socket.destroyed) return;
    conn.socket.write(encodeReply(request.requestId + 1_000_000, request.requestId, request.opCode, reply));
  }

  /** Runs one command; undefined means "send nothing" (the connection was closed on purpose). */
  private async execute(conn: Connection, request: IncomingCommand): Promise<Document | undefined> {
    const body = request.body;
    const name = Object.keys(body)[0] ?? '';
    const db = typeof body.$db === 'string' ? body.$db : 'admin';
    if (this.log.length >= COMMAND_LOG_LIMIT) this.log.splice(0, COMMAND_LOG_LIMIT / 2);
    this.log.push({ db, command: name, connectionId: conn.id, at: Date.now() });
    if (name !== 'getMore' && !RETRYABLE_WRITES.has(name) && name !== 'insert') this.opcounters.command += 1;
    try {
      if (name === 'hello' || name === 'isMaster' || name === 'ismaster') return this.hello(conn, body, name !== 'hello');
      if (request.opCode === OP_QUERY) {
        throw new CommandError(ErrorCodes.CommandNotFound, 'OP_QUERY is only supported for the initial handshake');
      }
      if (!conn.authenticated && !NO_AUTH_COMMANDS.has(name)) {
        throw new CommandError(ErrorCodes.Unauthorized, `Command ${name} requires authentication`);
      }
      if (name === 'saslStart' || name === 'saslContinue') return this.authenticate(conn, name, body);
      if (name === 'configureFailPoint') {
        if (db !== 'admin')
          throw new CommandError(ErrorCodes.Unauthorized, 'configureFailPoint may only be run against the admin database.');
        this.failPoints.configure(body);
        return this.withClusterTime({ ok: 1 });
      }
      const failure = this.failPoints.match(name, conn.appName);
      if (failure?.closeConnection) {
        conn.socket.destroy();
        return undefined;
      }
      if (failure?.blockTimeMS) await new Promise((r) => setTimeout(r, failure.blockTimeMS));
      if (failure?.errorCode !== undefined) {
        const labels =
          failure.errorLabels ?? (isRetryableWrite(name, body) && RETRYABLE_CODES.has(failure.errorCode) ? ['RetryableWriteError'] : []);
        throw new CommandError(failure.errorCode, `Failing command ${name} via 'failCommand' failpoint`, labels);
      }
      const reply = await this.runWithSession(conn, name, db, body);
      if (failure?.writeConcernError) reply.writeConcernError = failure.writeConcernError;
      return this.withClusterTime(reply);
    } catch (err) {
      return this.withClusterTime(errorReply(err));
    }
  }

  private hello(conn: Connection, body: Document, legacy: boolean): Document {
    const app = body.client?.application?.name;
    if (typeof app === 'string') conn.appName = app;
    const reply: Document = {
      helloOk: true,
      [legacy ? 'ismaster' : 'isWritablePrimary']: true,
      maxBsonObjectSize: 16 * 1024 * 1024,
      maxMessageSizeBytes: 48_000_000,
      maxWriteBatchSize: 100_000,
      localTime: new Date(),
      logicalSessionTimeoutMinutes: 30,
      connectionId: conn.id,
      minWireVersion: 0,
      maxWireVersion: MAX_WIRE_VERSION,
      readOnly: false,
    };
    if (this.replSetName) {
      const opTime = { ts: this.clock.now(), t: Long.fromNumber(1) };
      Object.assign(reply, {
        setName: this.replSetName,
        setVersion: 1,
        hosts: [this.host],
        primary: this.host,
        me: this.host,
        secondary: false,
        electionId: this.electionId,
        lastWrite: { opTime, lastWriteDate: new Date(), majorityOpTime: opTime, majorityWriteDate: new Date() },
      });
    }
    if (this.auth && typeof body.saslSupportedMechs === 'string') {
      const user = body.saslSupportedMechs.slice(body.saslSupportedMechs.indexOf('.') + 1);
      if (this.auth.hasUser(user)) reply.saslSupportedMechs = ['SCRAM-SHA-256'];
    }
    reply.ok = 1;
    return this.withClusterTime(reply);
  }

  private authenticate(conn: Connection, name: string, body: Document): Document {
    if (!this.auth) throw new CommandError(ErrorCodes.AuthenticationFailed, 'Authentication failed: this server has no users.');
    if (name === 'saslStart') {
      const { reply, conversation } = this.auth.start(body);
      conn.scram = conversation;
      return reply;
    }
    if (!conn.scram) throw new CommandError(ErrorCodes.AuthenticationFailed, 'No SASL session state found');
    if (conn.authenticated) return { conversationId: 1, done: true, payload: new Binary(Buffer.alloc(0)), ok: 1 };
    const reply = this.auth.finish(conn.scram, body);
    conn.authenticated = true;
    return reply;
  }

  private session(lsid: unknown): Session | undefined {
    const id = (lsid as { id?: unknown } | undefined)?.id;
    if (!(id instanceof Binary)) return undefined;
    const key = Buffer.from(id.buffer).toString('hex');
    let session = this.sessions.get(key);
    if (!session) {
      session = { txnNumber: -1, txn: undefined, retried: new Map() };
      this.sessions.set(key, session);
    }
    return session;
  }

  private endSessions(lsids: Document[] | undefined): Document {
    for (const lsid of lsids ?? []) {
      const id = lsid?.id;
      if (!(id instanceof Binary)) continue;
      const key = Buffer.from(id.buffer).toString('hex');
      this.store.abortTransaction(this.sessions.get(key)?.txn);
      this.sessions.delete(key);
    }
    return { ok: 1 };
  }

  /** Applies session semantics (transactions, retryable writes) around a command. */
  private async runWithSession(conn: Connection, name: string, db: string, body: Document): Promise<Document> {
    const session = this.session(body.lsid);
    const hasTxnNumber = body.txnNumber !== undefined;
    if (hasTxnNumber && !this.replSetName) {
      throw new CommandError(ErrorCodes.IllegalOperation, 'Transaction numbers are only allowed on a replica set member or mongos');
    }
    if (!session || !hasTxnNumber) return this.run(conn, name, db, body, undefined);
    const txnNumber = Number(body.txnNumber);

    if (body.autocommit === false) {
      if (body.startTransaction === true) {
        if (txnNumber < session.txnNumber)
          throw new CommandError(
            ErrorCodes.TransactionTooOld,
            `Cannot start transaction ${txnNumber} on session because a newer transaction ${session.txnNumber} has already started.`,
          );
        this.store.abortTransaction(session.txn);
        session.txnNumber = txnNumber;
        session.txn = this.store.beginTransaction(txnNumber);
      } else if (txnNumber !== session.txnNumber || !session.txn) {
        throw noSuchTransaction(txnNumber);
      }
      const txn = session.txn as Transaction;
      if (name === 'commitTransaction') {
        if (txn.state === 'aborted') throw noSuchTransaction(txnNumber);
        this.store.commitTransaction(txn);
        return { ok: 1 };
      }
      if (name === 'abortTransaction') {
        if (txn.state === 'committed') throw new CommandError(256, 'Transaction has been committed');
        if (txn.state === 'aborted') throw noSuchTransaction(txnNumber);
        this.store.abortTransaction(txn);
        return { ok: 1 };
      }
      if (txn.state === 'aborted') throw noSuchTransaction(txnNumber);
      if (txn.state === 'committed') throw new CommandError(256, `Transaction ${txnNumber} has been committed.`);
      try {
        const reply = await this.run(conn, name, db, body, txn);
        if (reply.writeErrors) this.store.abortTransaction(txn);
        return reply;
      } catch (err) {
        this.store.abortTransaction(txn);
        throw err;
      }
    }

    if (!RETRYABLE_WRITES.has(name)) return this.run(conn, name, db, body, undefined);
    const previous = session.retried.get(txnNumber);
    if (previous) return previous;
    if (txnNumber < session.txnNumber)
      throw new CommandError(
        ErrorCodes.TransactionTooOld,
        `Retryable write with txnNumber ${txnNumber} is prohibited on session because a newer retryable write with txnNumber ${session.txnNumber} has already started.`,
      );
    this.store.abortTransaction(session.txn);
    session.txn = undefined;
    session.txnNumber = txnNumber;
    const reply = await this.run(conn, name, db, body, undefined);
    session.retried.clear();
    session.retried.set(txnNumber, reply);
    return reply;
  }

  private async run(conn: Connection, name: string, db: string, body: Document, txn: Transaction | undefined): Promise<Document> {
    const isChangeStream = name === 'aggregate' && Array.isArray(body.pipeline) && body.pipeline[0]?.$changeStream !== undefined;
    const handler = isChangeStream ? openChangeStream : this.commands[name];
    if (!handler) throw new CommandError(ErrorCodes.CommandNotFound, `no such command: '${name}'`);
    const ctx: CommandContext = {
      db,
      body,
      txn,
      change: body.lsid ? { lsid: body.lsid } : {},
      store: this.store,
      changes: this.changes,
      clock: this.clock,
      cursors: this.cursors,
      opcounters: this.opcounters,
      server: this.info(),
      connectionId: conn.id,
    };
    return handler(ctx);
  }

  private info(): ServerInfo {
    return {
      host: this.host,
      replSet: this.replSetName,
      startedAt: this.startedAt,
      connections: { current: this.connections.size, totalCreated: this.totalCreated },
    };
  }

  private withClusterTime(reply: Document): Document {
    if (!this.replSetName) return reply;
    const clusterTime = this.clock.now();
    reply.$clusterTime = { clusterTime, signature: { hash: new Binary(Buffer.alloc(20)), keyId: Long.fromNumber(0) } };
    reply.operationTime = clusterTime;
    return reply;
  }
}

function isRetryableWrite(name: string, body: Document): boolean {
  return RETRYABLE_WRITES.has(name) && body.txnNumber !== undefined && body.autocommit !== false;
}

function noSuchTransaction(txnNumber: number): CommandError {
  return new CommandError(ErrorCodes.NoSuchTransaction, `Transaction with { txnNumber: ${txnNumber} } has been aborted.`, [
    'TransientTransactionError',
  ]);
}

function errorReply(err: unknown): Document {
  if (err instanceof CommandError) return err.toReply();
  if (err instanceof WriteError) return new CommandError(err.code, err.message, [], err.extra).toReply();
  const message = err instanceof Error ? err.message : String(err);
  return new CommandError(ErrorCodes.InternalError, `embedded server: ${message}`).toReply();
}
