import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type DestinationStream, multistream, pino, type StreamEntry } from 'pino';

type DebugOption = boolean | { log?: boolean; logPath?: string; logHandler?: (line: string) => void } | undefined;

/**
 * The 1.x logging options on pino: `debug: true` logs to stdout at debug level, `logPath` writes
 * `<logPath>/polymongo.log`, `logHandler` receives every line. Without any of them nothing is logged.
 */
export function compatLogger(debug: DebugOption, logPath: string | undefined) {
  const options = typeof debug === 'object' ? debug : {};
  const console = debug === true || (typeof debug === 'object' && debug.log === true);
  const path = options.logPath ?? logPath;
  const streams: StreamEntry[] = [];
  if (console) streams.push({ level: 'debug', stream: process.stdout });
  if (path) {
    mkdirSync(path, { recursive: true });
    streams.push({ level: 'debug', stream: pino.destination({ dest: join(path, 'polymongo.log'), sync: false }) as DestinationStream });
  }
  if (options.logHandler) {
    const handler = options.logHandler;
    streams.push({
      level: 'debug',
      stream: new Writable({
        write(chunk, _encoding, done) {
          try {
            handler(String(chunk).trimEnd());
          } finally {
            done();
          }
        },
      }),
    });
  }
  if (streams.length === 0) return pino({ level: 'silent' });
  return pino({ level: debug ? 'debug' : 'info', name: 'polymongo' }, multistream(streams));
}
