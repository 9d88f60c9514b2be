/**
 * Every TypeScript example in README.md and docs/*.md runs here against startMongo(), as a reader would paste it.
 * Free names an example uses without declaring (`poly`, `uri`, `app`, `mongoose`, `userSchema`) are provided by a
 * small prelude; an example that cannot run here (it listens on a fixed port, needs a cloud service, ...) says so
 * in an HTML comment on the line before its fence: `<!-- example: not run (why) -->` — the reason shows as a
 * skipped test.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { type RunningMongo, startMongo } from '@polymongo/testkit';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, test } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const generated = join(import.meta.dirname, '.generated');
const docs = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

interface Example {
  doc: string;
  line: number;
  code: string;
  skip?: string;
}

function examplesOf(doc: string): Example[] {
  const lines = readFileSync(join(root, doc), 'utf8').split('\n');
  const found: Example[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    if (!/^```(ts|typescript|js|mjs)\s*$/.test(lines[i] as string)) continue;
    const start = i;
    const body: string[] = [];
    for (i += 1; i < lines.length && !(lines[i] as string).startsWith('```'); i += 1) body.push(lines[i] as string);
    const marker = /<!--\s*example:\s*not run\s*\((.+)\)\s*-->/.exec(lines[start - 1] ?? '');
    found.push({ doc, line: start + 1, code: body.join('\n'), ...(marker ? { skip: marker[1] } : {}) });
  }
  return found;
}

const declares = (code: string, name: string) =>
  new RegExp(
    `\\b(const|let|var|function|class)\\s+${name}\\b|import\\s+(type\\s+)?${name}\\b|import\\s*(type\\s*)?\\{[^}]*\\b${name}\\b[^}]*\\}|import\\s+\\*\\s+as\\s+${name}\\b`,
  ).test(code);
const uses = (code: string, name: string) => new RegExp(`(^|[^.\\w$])${name}\\b`).test(code);

/** Declarations for the free names an example uses; each only when the example does not declare it itself. */
function prelude(code: string): string {
  const parts: string[] = [`const __uri = (globalThis as { __polymongoDocsUri?: string }).__polymongoDocsUri as string;`];
  const need = (name: string) => uses(code, name) && !declares(code, name);
  if (need('uri')) parts.push('const uri = __uri;');
  if (need('mongoose') || need('userSchema')) {
    parts.push(`import { Mongoose as __Mongoose } from 'mongoose';`);
    if (need('mongoose')) parts.push('const mongoose = new __Mongoose();');
  }
  if (need('userSchema'))
    parts.push(`const userSchema = new (${need('mongoose') ? 'mongoose' : 'new __Mongoose()'}).Schema({ name: String, email: String });`);
  if (need('poly')) {
    parts.push(`import { createPolyMongo as __createPolyMongo } from '@polymongo/native';`);
    parts.push(`const poly = __createPolyMongo({ uri: __uri, logger: { level: 'silent' } });`);
  }
  if (need('app')) {
    parts.push(`import __express from 'express';`);
    parts.push('const app = __express();');
  }
  return `${parts.join('\n')}\n`;
}

let mongo: RunningMongo;
beforeAll(async () => {
  mongo = await startMongo({ replSet: true, quiet: true });
  (globalThis as { __polymongoDocsUri?: string }).__polymongoDocsUri = mongo.uri;
  process.env.MONGODB_URI = mongo.uri;
  rmSync(generated, { recursive: true, force: true });
  mkdirSync(generated, { recursive: true });
});
afterAll(async () => {
  await mongo?.stop();
});

for (const doc of docs) {
  const examples = examplesOf(doc);
  if (examples.length === 0) continue;
  describe(doc, () => {
    for (const example of examples) {
      const name = `${doc}:${example.line}`;
      if (example.skip !== undefined) {
        // Skipped on purpose: the doc marks this example `<!-- example: not run (reason) -->`; the reason is in the
        // test name. Today: docs/migrating-from-1x.md's CommonJS file (packaging.test.ts requires the built entry in
        // a child process instead) and docs/tracing.md's OTLP-collector setup (needs a collector).
        test.skip(`${name} (not run: ${example.skip})`, () => undefined);
        continue;
      }
      test(`${name} runs`, async () => {
        // Each example starts with no Mongoose models, as a reader's own program would.
        for (const m of [mongoose, ...mongoose.connections.map((c) => c.base)]) for (const model of m.modelNames()) m.deleteModel(model);
        const file = join(generated, `${relative(root, join(root, doc)).replace(/[/.]/g, '_')}_${example.line}.ts`);
        writeFileSync(file, `${prelude(example.code)}\n${example.code}\nexport {};\n`);
        await import(file);
      });
    }
  });
}
