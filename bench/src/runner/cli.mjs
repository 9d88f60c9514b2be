// The options every scenario file understands when run on its own: --uri, --quick.
import { parseArgs } from 'node:util';
import { startServer } from './server.mjs';

export function scenarioArgs(extra = {}) {
  const { values } = parseArgs({
    options: { uri: { type: 'string' }, quick: { type: 'boolean', default: false }, ...extra },
    strict: false,
  });
  return values;
}

export const log = (line) => process.stderr.write(`${line}\n`);

/** Runs a scenario against --uri, or against a server of its own; prints its JSON result as the last line. */
export async function runScenario(name, fn, extra) {
  const args = scenarioArgs(extra);
  const server = args.uri ? { uri: args.uri, stop: async () => {} } : await startServer();
  try {
    const result = await fn({ uri: server.uri, quick: args.quick, args });
    process.stdout.write(`${JSON.stringify({ scenario: name, ...result })}\n`);
  } finally {
    await server.stop();
  }
}
