import { randomBytes } from 'node:crypto';
import { PolyMongoError } from '@polymongo/core';
import { type RunningMongo, startMongo } from '@polymongo/testkit';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Child, ensureBuilt, installedProject, runNode } from '../compat/installed.js';
import { type Context, knownDifferences, type Scenario, scenarios } from './scenarios.js';
import { compat, type Subject, v1 } from './subjects.js';

// The same scenarios against the published polymongo@1.3.0 and the compat entry, on one server (separate databases).
let mongo: RunningMongo;
let observer: MongoClient;
let other: RunningMongo;
let otherObserver: MongoClient;

beforeAll(async () => {
  // Scenarios with a child process run the built compat entry.
  ensureBuilt();
  mongo = await startMongo({ replSet: true, quiet: true });
  observer = await new MongoClient(mongo.uri).connect();
  other = await startMongo({ quiet: true });
  otherObserver = await new MongoClient(other.uri).connect();
}, 300_000);
afterAll(async () => {
  await otherObserver?.close();
  await other?.stop();
  await observer?.close();
  await mongo?.stop();
});

async function observe(subject: Subject, name: string, scenario: Scenario): Promise<{ observed: unknown; errors: unknown[] }> {
  const prefix = `sbs_${subject.label}_${randomBytes(3).toString('hex')}`;
  const made: Array<ReturnType<Subject['PolyMongo']['createWrapper']>> = [];
  const children: Child[] = [];
  const ctx: Context = {
    subject,
    uri: mongo.uri,
    prefix,
    observer,
    otherUri: other.uri,
    otherObserver,
    errors: [],
    wrapper: (options = {}) => {
      const w = subject.PolyMongo.createWrapper({ mongoURI: mongo.uri, ...options } as never);
      made.push(w);
      return w;
    },
    runApp: (source) => {
      // The app requires its entry as a 1.x app does: 'polymongo' (1.3.0) or the compat entry, from an installed layout.
      const entry = subject.label === 'v1' ? 'polymongo' : '@polymongo/mongoose/compat';
      const dir = installedProject({ 'app.cjs': `const PolyMongo = require(${JSON.stringify(entry)});\n${source}` });
      const child = runNode(dir, ['app.cjs']);
      children.push(child);
      return child;
    },
  };
  try {
    return { observed: JSON.parse(JSON.stringify(await scenario(ctx)).replaceAll(prefix, '<p>')), errors: ctx.errors };
  } catch (error) {
    return { observed: { scenario: name, threw: (error as Error).message.replaceAll(prefix, '<p>') }, errors: ctx.errors };
  } finally {
    for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    await Promise.all(made.map((w) => w.actions.forceCloseAll().catch(() => undefined)));
  }
}

describe('side by side: polymongo@1.3.0 and @polymongo/mongoose/compat', () => {
  for (const [name, scenario] of Object.entries(scenarios)) {
    test(name, async () => {
      const reference = (await observe(v1(), name, scenario)).observed;
      const { observed: ours, errors } = await observe(compat(), name, scenario);
      if (knownDifferences[name]) {
        // A listed difference: both sides ran the scenario to its end, and still differ.
        expect([reference, ours]).not.toContainEqual(expect.objectContaining({ threw: expect.anything() }));
        if (process.env.SBS_SHOW) console.log(name, JSON.stringify({ reference, ours }));
        expect(ours, knownDifferences[name]).not.toEqual(reference);
      } else expect(ours).toEqual(reference);
      // Same messages as 1.3.0, and every error the compat entry threw is a PolyMongoError with its stable code (#17).
      for (const error of errors) expect(error instanceof PolyMongoError && typeof error.code === 'string', String(error)).toBe(true);
    }, 120_000); // the signal scenario starts four child processes; a loaded CI machine needs the room
  }
});
