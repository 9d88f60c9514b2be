import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { Binary, type Document } from 'bson';
import { CommandError, ErrorCodes } from './errors.js';

export interface EmbeddedUser {
  user: string;
  password: string;
}

const ITERATIONS = 15_000;

interface StoredCredential {
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

interface Conversation {
  user: string;
  clientFirstBare: string;
  serverFirst: string;
  nonce: string;
}

const hmac = (key: Buffer, data: string) => createHmac('sha256', key).update(data).digest();

function authFailed(): CommandError {
  return new CommandError(ErrorCodes.AuthenticationFailed, 'Authentication failed.');
}

function payloadText(payload: unknown): string {
  if (payload instanceof Binary) return Buffer.from(payload.buffer).toString('utf8');
  if (payload instanceof Uint8Array) return Buffer.from(payload).toString('utf8');
  if (typeof payload === 'string') return payload;
  throw new CommandError(ErrorCodes.BadValue, 'SASL payload must be binary data');
}

function attributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

/** Server side of SCRAM-SHA-256 (RFC 7677), as mongod runs it through saslStart / saslContinue. */
export class ScramAuthenticator {
  private readonly credentials = new Map<string, StoredCredential>();

  constructor(users: EmbeddedUser[]) {
    for (const { user, password } of users) {
      const salt = randomBytes(28);
      const salted = pbkdf2Sync(password, salt, ITERATIONS, 32, 'sha256');
      const clientKey = hmac(salted, 'Client Key');
      this.credentials.set(user, {
        salt,
        storedKey: createHash('sha256').update(clientKey).digest(),
        serverKey: hmac(salted, 'Server Key'),
      });
    }
  }

  hasUser(user: string): boolean {
    return this.credentials.has(user);
  }

  start(body: Document): { reply: Document; conversation: Conversation } {
    if (body.mechanism !== 'SCRAM-SHA-256') throw authFailed();
    const clientFirst = payloadText(body.payload);
    const clientFirstBare = clientFirst.replace(/^[nyp][^,]*,[^,]*,/, '');
    const attrs = attributes(clientFirstBare);
    const user = (attrs.get('n') ?? '').replace(/=2C/g, ',').replace(/=3D/g, '=');
    const credential = this.credentials.get(user);
    const clientNonce = attrs.get('r');
    if (!credential || !clientNonce) throw authFailed();
    const nonce = clientNonce + randomBytes(24).toString('base64');
    const serverFirst = `r=${nonce},s=${credential.salt.toString('base64')},i=${ITERATIONS}`;
    return {
      conversation: { user, clientFirstBare, serverFirst, nonce },
      reply: { conversationId: 1, done: false, payload: new Binary(Buffer.from(serverFirst)), ok: 1 },
    };
  }

  finish(conversation: Conversation, body: Document): Document {
    const clientFinal = payloadText(body.payload);
    const attrs = attributes(clientFinal);
    const proof = attrs.get('p');
    if (attrs.get('r') !== conversation.nonce || !proof) throw authFailed();
    const withoutProof = clientFinal.slice(0, clientFinal.lastIndexOf(',p='));
    const authMessage = `${conversation.clientFirstBare},${conversation.serverFirst},${withoutProof}`;
    const credential = this.credentials.get(conversation.user) as StoredCredential;
    const clientSignature = hmac(credential.storedKey, authMessage);
    const proofBytes = Buffer.from(proof, 'base64');
    if (proofBytes.length !== clientSignature.length) throw authFailed();
    const clientKey = Buffer.alloc(proofBytes.length);
    for (let i = 0; i < proofBytes.length; i++) clientKey[i] = (proofBytes[i] as number) ^ (clientSignature[i] as number);
    const storedKey = createHash('sha256').update(clientKey).digest();
    if (!timingSafeEqual(storedKey, credential.storedKey)) throw authFailed();
    const serverSignature = hmac(credential.serverKey, authMessage).toString('base64');
    return { conversationId: 1, done: true, payload: new Binary(Buffer.from(`v=${serverSignature}`)), ok: 1 };
  }
}
