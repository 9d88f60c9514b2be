import { closeSync, existsSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LoggerLike } from '@polymongo/core';
import { redactText } from '@polymongo/core';

type DebugOption = boolean | { log?: boolean; logPath?: string; logHandler?: (line: string) => void } | undefined;

/** Winston's File transport limits in 1.3: 5 MB a file, 5 files. */
const MAX_BYTES = 5 * 1024 * 1024;
const MAX_FILES = 5;

/**
 * One log file as Winston's File transport writes it with `maxsize`/`maxFiles`: once a file holds `maxBytes`, the next
 * file is `<name>1.log`, then `<name>2.log`..., and only the newest `maxFiles` are kept.
 */
class RotatingFile {
  private fd: number;
  private size = 0;
  private index = 0;

  constructor(
    private readonly dir: string,
    private readonly base: string,
    private readonly maxBytes: number,
    private readonly maxFiles: number,
  ) {
    this.fd = openSync(this.path(0), 'a');
  }

  private path(index: number): string {
    return join(this.dir, `${this.base}${index === 0 ? '' : index}.log`);
  }

  write(line: string): void {
    // As Winston: a file that reached maxBytes gets no more lines (so a file may pass the limit by one line).
    if (this.size >= this.maxBytes) {
      closeSync(this.fd);
      this.index += 1;
      this.fd = openSync(this.path(this.index), 'a');
      this.size = 0;
      const stale = this.path(this.index - this.maxFiles);
      if (this.index - this.maxFiles >= 0 && existsSync(stale)) unlinkSync(stale);
    }
    writeSync(this.fd, line);
    this.size += Buffer.byteLength(line);
  }
}

export interface CompatLogOptions {
  /** Test seam: the size at which a log file rotates (1.3: 5 MB). */
  maxBytes?: number;
  /** Test seam: the clock. */
  now?: () => Date;
}

const pad = (n: number) => String(n).padStart(2, '0');
/** Winston's `timestamp({ format: 'YYYY-MM-DD HH:mm:ss' })`: local time. */
const winstonTime = (d: Date) =>
  `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;

/** The message of a pino-style call (`obj`, `msg`) as 1.3 wrote its messages: text, then the fields as JSON. */
function text(bindings: Record<string, unknown>, obj: object, msg: string | undefined): string {
  const fields = { ...bindings, ...(obj as Record<string, unknown>) };
  const err = fields.err;
  if (err instanceof Error) fields.err = err.message;
  const rest = Object.keys(fields).length > 0 ? JSON.stringify(fields, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) : '';
  return redactText([msg, rest].filter(Boolean).join(' '));
}

interface Sink {
  /** 1.3 `debug` on: PolyMongo's trace/debug/info lines are written (as 1.3 `[INFO] [PolyMongo Debug]` lines). */
  enabled: boolean;
  main?: RotatingFile;
  errors?: RotatingFile;
  handler?: (line: string) => void;
  now: () => Date;
}

/** A LoggerLike that writes 1.3's files and handler lines. */
class LegacyLogger implements LoggerLike {
  constructor(
    private readonly sink: Sink,
    private readonly bindings: Record<string, unknown> = {},
  ) {}

  child(bindings: Record<string, unknown>): LoggerLike {
    return new LegacyLogger(this.sink, { ...this.bindings, ...bindings });
  }

  private debugLine(obj: object, msg?: string): void {
    if (!this.sink.enabled) return;
    this.emit('INFO', `[PolyMongo Debug] ${text(this.bindings, obj, msg)}`);
  }

  private emit(level: 'INFO' | 'WARN' | 'ERROR', message: string): void {
    const now = this.sink.now();
    const fileLine = `[${winstonTime(now)}] [${level}] ${message}\n`;
    this.sink.main?.write(fileLine);
    if (level === 'ERROR') this.sink.errors?.write(fileLine);
    if (this.sink.handler) {
      const handler = this.sink.handler;
      // 1.3 forwards `[<ISO time>] [LEVEL] message` at once and ignores a rejected promise (a throw is ignored too).
      try {
        Promise.resolve(handler(`[${now.toISOString()}] [${level}] ${message}`)).catch(() => undefined);
      } catch {
        // a throwing handler must not break the operation that logged
      }
    }
  }

  trace(obj: object, msg?: string): void {
    this.debugLine(obj, msg);
  }
  debug(obj: object, msg?: string): void {
    this.debugLine(obj, msg);
  }
  info(obj: object, msg?: string): void {
    this.debugLine(obj, msg);
  }
  warn(obj: object, msg?: string): void {
    this.emit('WARN', text(this.bindings, obj, msg));
  }
  error(obj: object, msg?: string): void {
    this.emit('ERROR', text(this.bindings, obj, msg));
  }
}

/**
 * The 1.3 logging options. `debug: true` (or `debug.log: true`) turns on PolyMongo's debug lines; `logPath` (or
 * `debug.logPath`) gets 1.3's files — `polymongo-<UTC time>.log` with every line and `error.log` with the errors,
 * `[YYYY-MM-DD HH:mm:ss] [LEVEL] message` lines, 5 files of 5 MB at most — and `debug.logHandler` receives each line
 * as `[<ISO time>] [LEVEL] message`. Nothing goes to stdout (1.3 wrote none). URIs are redacted in every line.
 */
export function compatLogger(debug: DebugOption, logPath: string | undefined, options: CompatLogOptions = {}): LoggerLike {
  const settings = typeof debug === 'object' ? debug : {};
  const now = options.now ?? (() => new Date());
  const sink: Sink = {
    enabled: typeof debug === 'boolean' ? debug : settings.log === true,
    now,
    ...(settings.logHandler ? { handler: settings.logHandler } : {}),
  };
  const path = settings.logPath ?? logPath;
  if (path) {
    const dir = resolve(path);
    mkdirSync(dir, { recursive: true });
    const stamp = now().toISOString().replace(/[:.]/g, '-').slice(0, -5);
    sink.main = new RotatingFile(dir, `polymongo-${stamp}`, options.maxBytes ?? MAX_BYTES, MAX_FILES);
    sink.errors = new RotatingFile(dir, 'error', options.maxBytes ?? MAX_BYTES, MAX_FILES);
  }
  return new LegacyLogger(sink);
}
