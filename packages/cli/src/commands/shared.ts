import type { FailureInfo } from '@polymongo/fleet';
import { type Command, Option } from 'commander';
import type { CliContext, TenantFlags } from '../context.js';

export type { TenantFlags };

/** Adds --tenant (repeatable) and --tenants-from to a command that acts on tenants. */
export function tenantOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--tenant <id>', 'act on this tenant only (repeatable)').argParser((v: string, prev: string[] = []) => [...prev, v]),
    )
    .option('--tenants-from <file>', 'act on the tenants listed in FILE, one id a line');
}

/**
 * Names each failed tenant; returns the exit code (1 when any failed). With --json the failures are in the printed
 * document, except where its shape has no place for them (plans): `toStderrWithJson` names them on stderr then.
 */
export function reportFailures(
  ctx: CliContext,
  failed: ReadonlyArray<{ tenant: string; id?: string | null; error: FailureInfo }>,
  options: { toStderrWithJson?: boolean } = {},
): number {
  for (const f of failed) {
    const what = f.id ? ` (${f.id})` : '';
    const text = `${ctx.out.red('✗')} ${f.tenant}${what}: ${f.error.code ? `${f.error.code}: ` : ''}${f.error.message}`;
    if (ctx.out.json && options.toStderrWithJson) ctx.out.warn(text);
    else ctx.out.line(text);
  }
  return failed.length > 0 ? 1 : 0;
}

/**
 * Wraps a command body for commander: it gets the context, the command's flags and its arguments, and returns the
 * exit code.
 */
// biome-ignore lint/suspicious/noExplicitAny: commander passes flags and arguments untyped
export type ActionFactory = <F = any, A extends string[] = any[]>(
  body: (ctx: CliContext, flags: F, ...args: A) => Promise<number>,
) => (...params: unknown[]) => Promise<void>;
