import { parseArgs } from 'node:util';
import { EmbeddedMongo } from './embedded/server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '27017' },
    standalone: { type: 'boolean', default: false },
    user: { type: 'string', multiple: true },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    'polymongo-embedded [--port 27017] [--standalone] [--user name:password]...\n' +
      'An in-memory MongoDB wire-protocol server for tests and demos. Data is lost when it stops.\n',
  );
  process.exit(0);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`--port must be a whole number from 0 to 65535, got "${values.port}"\n`);
  process.exit(2);
}
const users = (values.user ?? []).map((spec) => {
  const colon = spec.indexOf(':');
  if (colon <= 0) {
    process.stderr.write(`--user takes name:password, got "${spec}"\n`);
    process.exit(2);
  }
  return { user: spec.slice(0, colon), password: spec.slice(colon + 1) };
});

const server = new EmbeddedMongo({ port, replSet: !values.standalone, ...(users.length > 0 ? { auth: { users } } : {}) });
server
  .start()
  .then(() => {
    process.stdout.write(`${server.uri}\n`);
  })
  .catch((err: Error) => {
    process.stderr.write(`polymongo-embedded: could not listen on port ${port}: ${err.message}\n`);
    process.exit(1);
  });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.stop().then(() => process.exit(0));
  });
}
