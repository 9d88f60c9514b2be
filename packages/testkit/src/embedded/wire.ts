import { type Document, deserialize, serialize } from 'bson';
import { promote } from './storage/bsonValues.js';

/** MongoDB wire protocol opcodes the embedded server speaks. */
export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

export const MSG_CHECKSUM_PRESENT = 1;
export const MSG_MORE_TO_COME = 2;

const HEADER_SIZE = 16;
const MAX_MESSAGE_SIZE = 48_000_000;

// Documents keep their exact BSON types (Int32, Double, Long); see promoteControlFields for the command's own fields.
const DESERIALIZE_OPTIONS = { promoteValues: false, promoteBuffers: false } as const;

/** Fields whose values are user data, stored or matched with their BSON types intact. */
const DATA_FIELDS = new Set(['documents', 'filter', 'query', 'update', 'q', 'u', 'let', 'validator']);

/**
 * Numbers in a command's own fields (limit, batchSize, txnNumber, writeConcern, fail point data, ...) become plain
 * numbers, so handlers read them as JavaScript values; user data below DATA_FIELDS keeps its BSON types.
 */
export function promoteControlFields(body: Document): Document {
  for (const key of Object.keys(body)) {
    if (DATA_FIELDS.has(key)) continue;
    const value = body[key];
    if (key === 'updates' || key === 'deletes') {
      if (Array.isArray(value)) body[key] = value.map((statement) => promoteControlFields(statement as Document));
      continue;
    }
    body[key] = promote(value);
  }
  return body;
}

export interface IncomingCommand {
  requestId: number;
  opCode: typeof OP_MSG | typeof OP_QUERY;
  /** The command document, with OP_MSG document sequences folded in. */
  body: Document;
  /** `moreToCome` was set: the client expects no reply (w:0 writes). */
  moreToCome: boolean;
}

export class WireProtocolError extends Error {}

/** Splits a TCP byte stream into whole wire messages. */
export class MessageFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const messages: Buffer[] = [];
    while (this.buffered >= 4) {
      const head = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : this.flatten();
      const length = head.readInt32LE(0);
      if (length < HEADER_SIZE || length > MAX_MESSAGE_SIZE) {
        throw new WireProtocolError(`invalid message length ${length}`);
      }
      if (this.buffered < length) break;
      messages.push(head.subarray(0, length));
      const rest = head.subarray(length);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
    return messages;
  }

  private flatten(): Buffer {
    const all = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [all];
    return all;
  }
}

/** Decodes one whole wire message into a command, or throws WireProtocolError. */
export function decodeMessage(message: Buffer): IncomingCommand {
  const requestId = message.readInt32LE(4);
  const opCode = message.readInt32LE(12);
  if (opCode === OP_MSG) return decodeOpMsg(message, requestId);
  if (opCode === OP_QUERY) return decodeOpQuery(message, requestId);
  throw new WireProtocolError(`unsupported opCode ${opCode}`);
}

function decodeOpMsg(message: Buffer, requestId: number): IncomingCommand {
  const flags = message.readUInt32LE(HEADER_SIZE);
  const end = flags & MSG_CHECKSUM_PRESENT ? message.length - 4 : message.length;
  let offset = HEADER_SIZE + 4;
  let body: Document | undefined;
  const sequences: Array<[string, Document[]]> = [];
  while (offset < end) {
    const kind = message[offset];
    offset += 1;
    if (kind === 0) {
      const size = message.readInt32LE(offset);
      body = deserialize(message.subarray(offset, offset + size), DESERIALIZE_OPTIONS);
      offset += size;
    } else if (kind === 1) {
      const size = message.readInt32LE(offset);
      const sectionEnd = offset + size;
      let cursor = offset + 4;
      const nameEnd = message.indexOf(0, cursor);
      const identifier = message.toString('utf8', cursor, nameEnd);
      cursor = nameEnd + 1;
      const docs: Document[] = [];
      while (cursor < sectionEnd) {
        const docSize = message.readInt32LE(cursor);
        docs.push(deserialize(message.subarray(cursor, cursor + docSize), DESERIALIZE_OPTIONS));
        cursor += docSize;
      }
      sequences.push([identifier, docs]);
      offset = sectionEnd;
    } else {
      throw new WireProtocolError(`unsupported OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new WireProtocolError('OP_MSG without a body section');
  for (const [identifier, docs] of sequences) body[identifier] = docs;
  promoteControlFields(body);
  return { requestId, opCode: OP_MSG, body, moreToCome: (flags & MSG_MORE_TO_COME) !== 0 };
}

function decodeOpQuery(message: Buffer, requestId: number): IncomingCommand {
  let offset = HEADER_SIZE + 4;
  const nameEnd = message.indexOf(0, offset);
  const collection = message.toString('utf8', offset, nameEnd);
  offset = nameEnd + 1 + 8; // numberToSkip, numberToReturn
  const size = message.readInt32LE(offset);
  let query = deserialize(message.subarray(offset, offset + size), DESERIALIZE_OPTIONS);
  if (query.$query && typeof query.$query === 'object') query = query.$query as Document;
  if (!collection.endsWith('.$cmd')) {
    throw new WireProtocolError('OP_QUERY is only supported for commands (legacy handshake)');
  }
  promoteControlFields(query);
  query.$db = collection.slice(0, -'.$cmd'.length);
  return { requestId, opCode: OP_QUERY, body: query, moreToCome: false };
}

const SERIALIZE_OPTIONS = { ignoreUndefined: true } as const;

/** Encodes a reply in the shape the request came in: OP_MSG for OP_MSG, OP_REPLY for OP_QUERY. */
export function encodeReply(requestId: number, responseTo: number, opCode: number, reply: Document): Buffer {
  const doc = serialize(reply, SERIALIZE_OPTIONS);
  if (opCode === OP_QUERY) {
    const header = Buffer.alloc(HEADER_SIZE + 20);
    header.writeInt32LE(header.length + doc.length, 0);
    header.writeInt32LE(requestId, 4);
    header.writeInt32LE(responseTo, 8);
    header.writeInt32LE(OP_REPLY, 12);
    header.writeInt32LE(0, 16); // responseFlags
    header.writeBigInt64LE(0n, 20); // cursorID
    header.writeInt32LE(0, 28); // startingFrom
    header.writeInt32LE(1, 32); // numberReturned
    return Buffer.concat([header, doc]);
  }
  const header = Buffer.alloc(HEADER_SIZE + 5);
  header.writeInt32LE(header.length + doc.length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(OP_MSG, 12);
  header.writeUInt32LE(0, 16);
  header.writeUInt8(0, 20);
  return Buffer.concat([header, doc]);
}
