import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { createFleet, defineMigration, type Fleet, type Migration } from '@polymongo/fleet';
import { createPolyMongo, type PolyMongo } from '@polymongo/native';
import { type CliConfig, loadConfig } from './config/loadConfig.js';
import { type CliIO, Output } from './output/Output.js';
import { UsageError } from './UsageError.js';

/** Global flags, given before the command. */
export interface GlobalFlags {
  uri?: string;
  config?: string;
  json?: boolean;
  concurrency?: string;
}

/** Flags of every command that acts on tenants. */
export interface TenantFlags {
  tenant?: string[];
  tenantsFrom?: string;
}

/** What a command works with: output, the loaded config, and (opened on demand) the client and fleet. */
export class CliContext {
  readonly out: Output;
  readonly io: CliIO;
  readonly #flags: GlobalFlags;
  #config: CliConfig | undefined;
  #poly: PolyMongo | undefined;
  #fleet: Fleet | undefined;

  constructor(io: CliIO, flags: GlobalFlags) {
    this.io = io;
    this.#flags = flags;
    this.out = new Output(io, flags.json === true);
  }

  async config(): Promise<CliConfig> {
    this.#config ??= (await loadConfig(this.io.cwd, this.#flags.config)).config;
    return this.#config;
  }

  get concurrency(): number {
    const raw = this.#flags.concurrency ?? '8';
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--concurrency: must be a whole number of at least 1, got "${raw}"`);
    return n;
  }

  async poly(): Promise<PolyMongo> {
    if (this.#poly) return this.#poly;
    const config = await this.config();
    const uri = this.#flags.uri ?? this.io.env.MONGODB_URI ?? config.uri;
    if (!uri) {
      throw new UsageError('no MongoDB URI: pass --uri, set MONGODB_URI, or add uri to polymongo.config.mjs');
    }
    const client = config.client ?? {};
    this.#poly = createPolyMongo({
      ...client,
      uri,
      ...(config.tenantDb ? { tenantDb: config.tenantDb } : {}),
      logger: client.logger ?? { level: 'silent' },
      // Audit events of what the CLI does (tenants drop, fleet operations) name the operating-system user.
      audit: { actor: cliActor, ...(client.audit ?? {}) },
      driverOptions: { serverSelectionTimeoutMS: 10_000, ...(client.driverOptions ?? {}) },
    });
    return this.#poly;
  }

  async fleet(): Promise<Fleet> {
    if (this.#fleet) return this.#fleet;
    const config = await this.config();
    this.#fleet = createFleet(await this.poly(), config.discover ? { discover: config.discover } : {});
    return this.#fleet;
  }

  /** The `tenants` option from --tenant / --tenants-from, or undefined for the whole fleet. */
  async tenants(flags: TenantFlags): Promise<string[] | undefined> {
    const ids = [...(flags.tenant ?? [])];
    if (flags.tenantsFrom !== undefined) {
      let text: string;
      try {
        text = await readFile(flags.tenantsFrom, 'utf8');
      } catch (error) {
        throw new UsageError(`--tenants-from: cannot read ${flags.tenantsFrom}: ${(error as Error).message}`);
      }
      ids.push(
        ...text
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l.length > 0 && !l.startsWith('#')),
      );
    }
    if (ids.length === 0 && flags.tenant === undefined && flags.tenantsFrom === undefined) return undefined;
    return ids;
  }

  async migrations(): Promise<Migration[]> {
    const list = (await this.config()).migrations;
    if (!Array.isArray(list) || list.length === 0) {
      throw new UsageError('no migrations: add migrations: [...] to polymongo.config.mjs');
    }
    return list.map((m) => defineMigration(m as Parameters<typeof defineMigration>[0]));
  }

  async close(): Promise<void> {
    await this.#poly?.close({ timeoutMS: 5_000 }).catch(() => this.#poly?.forceClose());
  }
}

/** `cli:<os user>`, the actor of audit events when the config names none. */
function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}
