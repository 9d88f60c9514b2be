export type { EmbeddedUser } from './embedded/auth.js';
export { type CommandLogEntry, EmbeddedMongo, type EmbeddedMongoOptions } from './embedded/server.js';
export { type MongoKind, type RunningMongo, type StartMongoOptions, startMongo } from './startMongo.js';
