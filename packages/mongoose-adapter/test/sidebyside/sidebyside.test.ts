import { randomBytes } from 'node:crypto';
import { type RunningMongo, startMongo } from '@polymongo/testkit';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Context, knownDifferences, type Scenario, scenarios } from './scenarios.js';
import { compat, type Subject, v1 } from './subjects.js';

// The same scenarios against the published polymongo@1.3.0 and the compat entry, on one server (separate databases).
let mongo: RunningMongo;
let observer: MongoClient;

beforeAll(async () => {
  mongo = await startMongo({ replSet: true, quiet: true });
  observer = await new MongoClient(mongo.uri).connect();
});
afterAll(async () => {
  await observer?.close();
  await mongo?.stop();
});

async function observe(subject: Subject, name: string, scenario: Scenario): Promise<unknown> {
  const prefix = `sbs_${subject.label}_${randomBytes(3).toString('hex')}`;
  const made: Array<ReturnType<Subject['PolyMongo']['createWrapper']>> = [];
  const ctx: Context = {
    subject,
    uri: mongo.uri,
    prefix,
    observer,
    wrapper: (options = {}) => {
      const w = subject.PolyMongo.createWrapper({ mongoURI: mongo.uri, ...options } as never);
      made.push(w);
      return w;
    },
  };
  try {
    return JSON.parse(JSON.stringify(await scenario(ctx)).replaceAll(prefix, '<p>'));
  } catch (error) {
    return { scenario: name, threw: (error as Error).message.replaceAll(prefix, '<p>') };
  } finally {
    await Promise.all(made.map((w) => w.actions.forceCloseAll().catch(() => undefined)));
  }
}

describe('side by side: polymongo@1.3.0 and @polymongo/mongoose/compat', () => {
  for (const [name, scenario] of Object.entries(scenarios)) {
    test(name, async () => {
      const reference = await observe(v1(), name, scenario);
      const ours = await observe(compat(), name, scenario);
      if (knownDifferences[name]) expect(ours, knownDifferences[name]).not.toEqual(reference);
      else expect(ours).toEqual(reference);
    }, 60_000);
  }
});
