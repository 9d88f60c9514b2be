import { redactText } from '@polymongo/core';
import type { FleetProgress } from '@polymongo/fleet';
import cliProgress from 'cli-progress';
import pc from 'picocolors';

/** Where the CLI writes; the real process streams, or captures in tests. */
export interface CliIO {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  stdin: NodeJS.ReadableStream;
  env: Record<string, string | undefined>;
  cwd: string;
}

/** Every line the CLI prints goes through here, credentials redacted. */
export class Output {
  readonly json: boolean;
  readonly #io: CliIO;
  readonly #color: boolean;

  constructor(io: CliIO, json: boolean) {
    this.#io = io;
    this.json = json;
    this.#color = io.stderr.isTTY === true && io.env.NO_COLOR === undefined;
  }

  /** A human line on stdout (suppressed with --json). */
  line(text = ''): void {
    if (!this.json) this.#io.stdout.write(`${redactText(text)}\n`);
  }

  /** The one JSON document of --json. */
  document(value: unknown): void {
    if (this.json) this.#io.stdout.write(`${redactText(JSON.stringify(value, null, 2))}\n`);
  }

  /** Raw data on stdout (an export), not redacted: it is the user's data. Waits when the pipe is full. */
  async raw(text: string): Promise<void> {
    const stdout = this.#io.stdout as { write(text: string): unknown; once?: (event: 'drain', fn: () => void) => unknown };
    if (stdout.write(text) === false && typeof stdout.once === 'function') {
      await new Promise<void>((resolve) => stdout.once?.('drain', resolve));
    }
  }

  error(text: string): void {
    this.#io.stderr.write(`${this.red('error')}: ${redactText(text)}\n`);
  }

  warn(text: string): void {
    this.#io.stderr.write(`${redactText(text)}\n`);
  }

  red = (s: string) => (this.#color ? pc.red(s) : s);
  green = (s: string) => (this.#color ? pc.green(s) : s);
  yellow = (s: string) => (this.#color ? pc.yellow(s) : s);
  bold = (s: string) => (this.#color ? pc.bold(s) : s);

  /** A progress bar on a terminal (stderr), nothing otherwise; feed it forEach's onProgress. */
  progress(label: string): { onProgress: (p: FleetProgress) => void; stop(): void } {
    if (this.json || this.#io.stderr.isTTY !== true) return { onProgress: () => undefined, stop: () => undefined };
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} tenants | {failed} failed | {rate}/s | ETA {eta_formatted}`,
        stream: this.#io.stderr as NodeJS.WritableStream,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      onProgress: (p) => {
        const value = p.done + p.failed + p.skipped;
        const payload = { failed: p.failed, rate: p.rate.toFixed(1) };
        if (!started) {
          bar.start(p.total ?? value, value, payload);
          started = true;
        }
        if (p.total === undefined) bar.setTotal(value);
        bar.update(value, payload);
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
}
