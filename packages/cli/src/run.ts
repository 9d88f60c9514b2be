import { PolyMongoError } from '@polymongo/core';
import { Command, CommanderError } from 'commander';
import { registerMigrate } from './commands/migrate.js';
import { registerIndexes, registerValidators } from './commands/schema.js';
import type { ActionFactory } from './commands/shared.js';
import { registerTenants } from './commands/tenants.js';
import { registerStatus, registerTransfer } from './commands/transfer.js';
import { CliContext, type GlobalFlags } from './context.js';
import { type CliIO, Output } from './output/Output.js';

/** Codes that mean the command or its configuration was wrong (exit 2), not that tenants failed. */
const USAGE_CODES = new Set([
  'CONFIG_INVALID',
  'INVALID_TENANT',
  'TENANT_REQUIRED',
  'FLEET_SPEC_INVALID',
  'DUPLICATE_MIGRATION',
  'UNKNOWN_MIGRATION',
  'MIGRATION_NOT_REVERSIBLE',
  'TENANT_NOT_EMPTY',
]);

function describe(error: unknown): { code: string | undefined; message: string } {
  if (error instanceof PolyMongoError) return { code: error.code, message: error.message };
  const e = error as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof e?.code === 'string' || typeof e?.code === 'number' ? String(e.code) : undefined;
  return { code, message: typeof e?.message === 'string' ? e.message : String(error) };
}

/**
 * Runs the `polymongo` command line and returns its exit code: 0 success, 1 some tenants failed (each named),
 * 2 usage or configuration error. Never prints a stack trace; every line is redacted.
 */
export async function run(argv: string[], io: CliIO): Promise<number> {
  let code = 0;
  let ctx: CliContext | undefined;
  const program = new Command('polymongo')
    .description('Operations across every tenant of a PolyMongo deployment')
    .option('--uri <uri>', 'MongoDB connection string (default: MONGODB_URI, then the config file)')
    .option('--config <file>', 'config file (default: polymongo.config.mjs|js|cjs|ts in the working directory)')
    .option('--json', 'print one JSON document with the result on stdout')
    .option('--concurrency <n>', 'tenants worked on at once', '8')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
      outputError: (text, write) => write(text),
    });
  const action: ActionFactory =
    (body) =>
    async (...params: unknown[]) => {
      // commander calls actions with (...arguments, flags, command)
      const call = body as unknown as (ctx: CliContext, flags: unknown, ...args: unknown[]) => Promise<number>;
      ctx = new CliContext(io, program.opts<GlobalFlags>());
      code = await call(ctx, params.at(-2), ...params.slice(0, -2));
    };
  registerTenants(program, action);
  registerIndexes(program, action);
  registerValidators(program, action);
  registerMigrate(program, action);
  registerTransfer(program, action);
  registerStatus(program, action);
  for (const command of program.commands) command.exitOverride().showHelpAfterError('(add --help for usage)');
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      code = error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version' ? 0 : 2;
    } else {
      const out = ctx?.out ?? new Output(io, false);
      const { code: errorCode, message } = describe(error);
      out.error(`${errorCode ? `${errorCode}: ` : ''}${message}`);
      code = errorCode && USAGE_CODES.has(errorCode) ? 2 : 1;
    }
  } finally {
    await ctx?.close();
  }
  return code;
}
