// Wrong credentials through the Mongoose adapter (issue #10): operations name authentication instead of waiting in
// Mongoose's buffer, and once the credentials work (on mongod: updateUser; the embedded server takes its users at
// start, so it is restarted on the same port with the application's password) the same models succeed.
import { createPolyMongo } from '@polymongo/native';
import { EmbeddedMongo } from '@polymongo/testkit';
import mongoose, { Schema } from 'mongoose';
import { afterEach, expect, test } from 'vitest';
import { createMongooseAdapter } from '../src/index.js';

const Ticket = mongoose.model('AuthRecoveryTicket', new Schema({ n: Number }));
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

test('wrong credentials: model operations fail naming authentication, and succeed once the credentials work', {
  timeout: 30_000,
}, async () => {
  const first = await new EmbeddedMongo({ auth: { users: [{ user: 'app', password: 's3cret' }] } }).start();
  cleanup.push(() => first.stop());
  const poly = createPolyMongo({
    uri: `mongodb://app:wrong@${first.host}/?authSource=admin`,
    mongodb: mongoose.mongo,
    logger: { level: 'silent' },
    driverOptions: { heartbeatFrequencyMS: 200, serverSelectionTimeoutMS: 3000 },
  });
  cleanup.unshift(() => poly.forceClose());
  const m = createMongooseAdapter({ poly, mongoose });
  const kept = m.model(Ticket, 'acme');
  const failure = await kept
    .findOne({})
    .exec()
    .catch((e: unknown) => e);
  expect((failure as { code?: unknown }).code).toBe(18);

  const port = Number(new URL(first.uri).port);
  await first.stop();
  const fixed = await new EmbeddedMongo({ port, auth: { users: [{ user: 'app', password: 'wrong' }] } }).start();
  cleanup.push(() => fixed.stop());
  await kept.create({ n: 1 });
  await m.model(Ticket, 'beta').create({ n: 2 });
  expect(await kept.countDocuments()).toBe(1);
  expect(await m.model(Ticket, 'beta').countDocuments()).toBe(1);
});
