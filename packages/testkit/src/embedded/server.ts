import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { Binary, type Document, Long, ObjectId } from 'bson';
import { type EmbeddedUser, ScramAuthenticator } from './auth.js';
import { ChangeLog, ClusterClock } from './changes.js';
import { adminCommands } from './commands/admin.js';
import { aggregateCommands } from './commands/aggregate.js';
import { openChangeStream } from './commands/changeStream.js';
import { crudCommands } from './commands/crud.js';
import { cursorCommands } from './commands/cursor.js';
import type { CommandContext, CommandHandler, OpCounters, ServerInfo } from './context.js';
import { CursorRegistry } from './cursors.js';
import { errorLabelsFor } from './errorLabels.js';
import { CloseConnection, CommandError, ErrorCodes, WriteBlocked, WriteError, writeConcernErrorFor, writeConflict } from './errors.js';
import { FailPoints } from './failpoints.js';
import { authenticate, type HandshakeState, helloReply, NO_AUTH_COMMANDS } from './handshake.js';
import { snapshotReadTime, withAtClusterTime } from './readConcern.js';
import { RETRYABLE_WRITES, SessionRegistry } from './sessions.js';
import { Catalog } from './storage/catalog.js';
import type { Transaction } from './storage/transaction.js';
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

const COMMAND_LOG_LIMIT = 50_000;

interface Connection extends HandshakeState {
  socket: Socket;
  queue: Promise<void>;
}

/**
 * An in-memory MongoDB wire-protocol server for tests, examples and benchmarks. The unmodified `mongodb` driver and
 * Mongoose connect to it with a plain `mongodb://127.0.0.1:PORT/` URI. It is test infrastructure, not a database.
 */
export class EmbeddedMongo {
  private readonly clock = new ClusterClock();
  private readonly changes = new ChangeLog(this.clock);
  private readonly catalog = new Catalog(this.changes, this.clock);
  private readonly cursors = new CursorRegistry();
  private readonly failPoints = new FailPoints();
  private readonly sessions: SessionRegistry;
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
    this.sessions = new SessionRegistry(this.catalog, this.failPoints, this.replSetName !== undefined);
    this.commands = {
      ...crudCommands,
      ...aggregateCommands,
      ...adminCommands,
      ...cursorCommands,
      endSessions: (ctx) => this.sessions.endSessions(ctx.body.endSessions as Document[]),
      killSessions: (ctx) => this.sessions.killSessions(ctx.body.killSessions as Document[]),
      killAllSessions: () => this.sessions.killSessions(undefined),
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
      if (name === 'hello' || name === 'isMaster' || name === 'ismaster') {
        return this.withClusterTime(helloReply(this.identity(), conn, body, name !== 'hello'));
      }
      if (request.opCode === OP_QUERY) {
        throw new CommandError(ErrorCodes.CommandNotFound, 'OP_QUERY is only supported for the initial handshake');
      }
      if (!conn.authenticated && !NO_AUTH_COMMANDS.has(name)) {
        throw new CommandError(ErrorCodes.Unauthorized, `Command ${name} requires authentication`);
      }
      if (name === 'saslStart' || name === 'saslContinue') return authenticate(this.auth, conn, name, body);
      if (name === 'configureFailPoint') {
        if (db !== 'admin')
          throw new CommandError(ErrorCodes.Unauthorized, 'configureFailPoint may only be run against the admin database.');
        return this.withClusterTime({ count: this.failPoints.configure(body), ok: 1 });
      }
      // mongod's `namespace` filter compares the command's namespace: its collection's (getMore names it in
      // `collection`), `<db>.$cmd.aggregate` for a collectionless `{ aggregate: 1 }`, else the database name alone
      // (CommandHelpers::parseNsFromCommand when the first field is not a string).
      const target = name === 'getMore' ? body.collection : body[name];
      const namespace = typeof target === 'string' ? `${db}.${target}` : name === 'aggregate' ? `${db}.$cmd.aggregate` : db;
      const failure = this.failPoints.failCommand(name, conn.appName, namespace);
      if (failure?.closeConnection) throw new CloseConnection();
      if (failure?.blockTimeMS) await new Promise((r) => setTimeout(r, failure.blockTimeMS));
      // As mongod, the fail point fires before the command checks out its session: an open transaction stays open, and
      // a transaction whose first command fails never starts (its later commands fail with NoSuchTransaction).
      if (failure?.errorCode !== undefined) {
        const err = new CommandError(failure.errorCode, `Failing command ${name} via 'failCommand' failpoint`);
        const labels = failure.errorLabels ?? errorLabelsFor(name, body, failure.errorCode, undefined, this.isChangeStream(name, body));
        return this.withClusterTime(err.toReply(labels));
      }
      if (name === 'getMore') this.failGetMoreAfterCheckout(body);
      const reply = await this.sessions.run(name, body, (txn) => this.run(conn, name, db, body, txn));
      const writeConcernError = failure?.writeConcernError ?? (this.replSetName ? writeConcernErrorFor(body.writeConcern) : undefined);
      if (writeConcernError) {
        reply.writeConcernError = writeConcernError;
        const code = typeof writeConcernError.code === 'number' ? writeConcernError.code : undefined;
        const labels = failure?.errorLabels ?? errorLabelsFor(name, body, undefined, code);
        if (labels.length > 0) reply.errorLabels = labels;
      }
      return this.withClusterTime(reply);
    } catch (err) {
      if (err instanceof CloseConnection) {
        conn.socket.destroy();
        return undefined;
      }
      const error = toCommandError(err);
      const computed = errorLabelsFor(name, body, error.code, undefined, this.isChangeStream(name, body));
      const labels = [...new Set([...error.errorLabels, ...computed])];
      return this.withClusterTime(error.toReply(labels));
    }
  }

  /** Whether a command is a change stream's aggregate or getMore (for the ResumableChangeStreamError label). */
  private isChangeStream(name: string, body: Document): boolean {
    if (name === 'aggregate') return Array.isArray(body.pipeline) && body.pipeline[0]?.$changeStream !== undefined;
    if (name === 'getMore') return this.cursors.get(Number(body.getMore))?.kind === 'change';
    return false;
  }

  /** `failGetMoreAfterCursorCheckout`: a getMore on an existing cursor fails, and the cursor is gone. */
  private failGetMoreAfterCheckout(body: Document): void {
    const id = Number(body.getMore);
    if (!this.cursors.get(id)) return;
    const code = this.failPoints.failGetMore();
    if (code === undefined) return;
    const changeStream = this.cursors.get(id)?.kind === 'change';
    this.cursors.delete(id);
    throw new CommandError(
      code,
      "Hit the 'failGetMoreAfterCursorCheckout' failpoint",
      errorLabelsFor('getMore', body, code, undefined, changeStream),
    );
  }

  private identity() {
    return { host: this.host, replSetName: this.replSetName, electionId: this.electionId, clock: this.clock, auth: this.auth };
  }

  private async run(conn: Connection, name: string, db: string, body: Document, txn: Transaction | undefined): Promise<Document> {
    const isChangeStream = name === 'aggregate' && Array.isArray(body.pipeline) && body.pipeline[0]?.$changeStream !== undefined;
    const handler = isChangeStream ? openChangeStream : this.commands[name];
    if (!handler) throw new CommandError(ErrorCodes.CommandNotFound, `no such command: '${name}'`);
    const readAt = snapshotReadTime(name, body, this.clock);
    const ctx: CommandContext = {
      db,
      body,
      txn,
      change: body.lsid ? { lsid: body.lsid } : {},
      catalog: this.catalog,
      changes: this.changes,
      clock: this.clock,
      cursors: this.cursors,
      opcounters: this.opcounters,
      server: this.info(),
      connectionId: conn.id,
      localSessions: () => this.sessions.localSessions(),
      readAt,
      deadline: Number(body.maxTimeMS) > 0 ? Date.now() + Number(body.maxTimeMS) : undefined,
    };
    const reply = await handler(ctx);
    return readAt ? withAtClusterTime(reply, readAt) : reply;
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

function toCommandError(err: unknown): CommandError {
  if (err instanceof CommandError) return err;
  if (err instanceof WriteError) return new CommandError(err.code, err.message, [], err.extra);
  // A write that does not wait for a transaction ($out) fails as a transaction's conflicting write does.
  if (err instanceof WriteBlocked) return writeConflict();
  const message = err instanceof Error ? err.message : String(err);
  return new CommandError(ErrorCodes.InternalError, `embedded server: ${message}`);
}
