import { Binary, type Document, Long, type ObjectId } from 'bson';
import type { ScramAuthenticator } from './auth.js';
import type { ClusterClock } from './changes.js';
import { CommandError, ErrorCodes } from './errors.js';

export const MAX_WIRE_VERSION = 21; // MongoDB 7.0

/** Commands a client may run before it has authenticated. */
export const NO_AUTH_COMMANDS = new Set([
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

/** The per-connection state the handshake and authentication set. */
export interface HandshakeState {
  id: number;
  appName: string | undefined;
  authenticated: boolean;
  scram: ReturnType<ScramAuthenticator['start']>['conversation'] | undefined;
}

export interface ServerIdentity {
  host: string;
  replSetName: string | undefined;
  electionId: ObjectId;
  clock: ClusterClock;
  auth: ScramAuthenticator | undefined;
}

/** The reply to `hello` (or legacy `isMaster`): a writable primary of a single-node replica set, or a standalone. */
export function helloReply(server: ServerIdentity, conn: HandshakeState, body: Document, legacy: boolean): Document {
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
  if (server.replSetName) {
    const opTime = { ts: server.clock.now(), t: Long.fromNumber(1) };
    Object.assign(reply, {
      setName: server.replSetName,
      setVersion: 1,
      hosts: [server.host],
      primary: server.host,
      me: server.host,
      secondary: false,
      electionId: server.electionId,
      lastWrite: { opTime, lastWriteDate: new Date(), majorityOpTime: opTime, majorityWriteDate: new Date() },
    });
  }
  if (server.auth && typeof body.saslSupportedMechs === 'string') {
    const user = body.saslSupportedMechs.slice(body.saslSupportedMechs.indexOf('.') + 1);
    if (server.auth.hasUser(user)) reply.saslSupportedMechs = ['SCRAM-SHA-256'];
  }
  reply.ok = 1;
  return reply;
}

/** One step of a SCRAM-SHA-256 conversation (`saslStart` or `saslContinue`). */
export function authenticate(auth: ScramAuthenticator | undefined, conn: HandshakeState, name: string, body: Document): Document {
  if (!auth) throw new CommandError(ErrorCodes.AuthenticationFailed, 'Authentication failed: this server has no users.');
  if (name === 'saslStart') {
    const { reply, conversation } = auth.start(body);
    conn.scram = conversation;
    return reply;
  }
  if (!conn.scram) throw new CommandError(ErrorCodes.AuthenticationFailed, 'No SASL session state found');
  if (conn.authenticated) return { conversationId: 1, done: true, payload: new Binary(Buffer.alloc(0)), ok: 1 };
  const reply = auth.finish(conn.scram, body);
  conn.authenticated = true;
  return reply;
}
