import type { IndexDrift, ValidatorDrift } from '@polymongo/fleet';
import { type Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { UsageError } from '../UsageError.js';
import { type ActionFactory, reportFailures, type TenantFlags, tenantOptions } from './shared.js';

function describeIndexDrift(ctx: CliContext, d: IndexDrift): string {
  const parts = [
    ...d.missing.map((m) => `${ctx.out.yellow('missing')} ${m.name}`),
    ...d.extra.map((e) => `${ctx.out.yellow('extra')} ${e.name}`),
    ...d.different.map((x) => `${ctx.out.yellow('different')} ${x.name} (${x.fields.join(', ')})`),
  ];
  return `${d.tenant}\t${d.collection}\t${parts.join('; ')}`;
}

function describeValidatorDrift(ctx: CliContext, d: ValidatorDrift): string {
  const what = d.missing ? 'missing validator' : d.extra ? 'extra validator' : 'different validator';
  return `${d.tenant}\t${d.collection}\t${ctx.out.yellow(what)}`;
}

/** The config's spec for `key`, or a usage error naming what to add. */
async function specOf<K extends 'indexes' | 'validators'>(ctx: CliContext, key: K) {
  const spec = (await ctx.config())[key];
  if (!Array.isArray(spec) || spec.length === 0) {
    throw new UsageError(`no ${key === 'indexes' ? 'index' : 'validator'} spec: add ${key}: [...] to polymongo.config.mjs`);
  }
  return spec as NonNullable<Awaited<ReturnType<CliContext['config']>>[K]>;
}

/**
 * Prints a plan (a dry-run sync: the plan plus its run summary) and gives the exit code: the JSON document is the plan,
 * failing tenants are named (on stderr with --json), and `--exit-code` turns drift into 1.
 */
function printPlan<D extends { tenant: string }>(
  ctx: CliContext,
  run: { tenants: number; drift: D[]; failed: Parameters<typeof reportFailures>[1] },
  describe: (ctx: CliContext, d: D) => string,
  exitCode: boolean | undefined,
): number {
  const plan = { tenants: run.tenants, drift: run.drift };
  ctx.out.document(plan);
  for (const d of plan.drift) ctx.out.line(describe(ctx, d));
  const drifted = new Set(plan.drift.map((d) => d.tenant)).size;
  ctx.out.line(`${plan.tenants} tenants checked, ${drifted === 0 ? ctx.out.green('no drift') : ctx.out.yellow(`${drifted} with drift`)}`);
  return reportFailures(ctx, run.failed, { toStderrWithJson: true }) || (exitCode && drifted > 0 ? 1 : 0);
}

export function registerIndexes(program: Command, action: ActionFactory): void {
  const indexes = program.command('indexes').description("compare and sync every tenant's indexes with the config's spec");
  tenantOptions(indexes.command('plan').description('report missing, extra and different indexes per tenant'))
    .option('--exit-code', 'exit 1 when any tenant has drift')
    .action(
      action<TenantFlags & { exitCode?: boolean }>(async (ctx, flags) => {
        const spec = await specOf(ctx, 'indexes');
        const progress = ctx.out.progress('indexes plan');
        const run = await (await ctx.fleet()).indexes.sync(spec, {
          tenants: await ctx.tenants(flags),
          concurrency: ctx.concurrency,
          onProgress: progress.onProgress,
          dryRun: true,
        });
        progress.stop();
        return printPlan(ctx, run, describeIndexDrift, flags.exitCode);
      }),
    );
  tenantOptions(indexes.command('sync').description('create missing indexes (and with flags drop extra / replace different ones)'))
    .option('--drop-extra', 'drop indexes the spec does not name (never _id_)')
    .option('--replace-different', 'drop and recreate indexes whose options differ')
    .option('--dry-run', 'report what would change; change nothing')
    .action(
      action<TenantFlags & { dropExtra?: boolean; replaceDifferent?: boolean; dryRun?: boolean }>(async (ctx, flags) => {
        const spec = await specOf(ctx, 'indexes');
        const progress = ctx.out.progress('indexes sync');
        const result = await (await ctx.fleet()).indexes.sync(spec, {
          tenants: await ctx.tenants(flags),
          concurrency: ctx.concurrency,
          onProgress: progress.onProgress,
          dropExtra: flags.dropExtra === true,
          replaceDifferent: flags.replaceDifferent === true,
          dryRun: flags.dryRun === true,
        });
        progress.stop();
        ctx.out.document(result);
        for (const d of result.drift) ctx.out.line(describeIndexDrift(ctx, d));
        const verb = result.dryRun ? 'would change' : 'changed';
        ctx.out.line(
          `${result.tenants} tenants, ${verb}: ${result.created} created, ${result.dropped} dropped, ${result.replaced} replaced${result.dryRun ? ' (dry run: nothing written)' : ''}`,
        );
        return reportFailures(ctx, result.failed);
      }),
    );
}

export function registerValidators(program: Command, action: ActionFactory): void {
  const validators = program.command('validators').description("compare and sync every tenant's $jsonSchema validators");
  tenantOptions(validators.command('plan').description('report missing, extra and different validators per tenant'))
    .option('--exit-code', 'exit 1 when any tenant has drift')
    .action(
      action<TenantFlags & { exitCode?: boolean }>(async (ctx, flags) => {
        const spec = await specOf(ctx, 'validators');
        const progress = ctx.out.progress('validators plan');
        const run = await (await ctx.fleet()).validators.sync(spec, {
          tenants: await ctx.tenants(flags),
          concurrency: ctx.concurrency,
          onProgress: progress.onProgress,
          dryRun: true,
        });
        progress.stop();
        return printPlan(ctx, run, describeValidatorDrift, flags.exitCode);
      }),
    );
  tenantOptions(validators.command('sync').description('set validators with collMod; create missing collections with theirs'))
    .option('--drop-extra', 'remove validators of collections the spec does not name')
    .addOption(new Option('--dry-run', 'report what would change; change nothing'))
    .action(
      action<TenantFlags & { dropExtra?: boolean; dryRun?: boolean }>(async (ctx, flags) => {
        const spec = await specOf(ctx, 'validators');
        const progress = ctx.out.progress('validators sync');
        const result = await (await ctx.fleet()).validators.sync(spec, {
          tenants: await ctx.tenants(flags),
          concurrency: ctx.concurrency,
          onProgress: progress.onProgress,
          dropExtra: flags.dropExtra === true,
          dryRun: flags.dryRun === true,
        });
        progress.stop();
        ctx.out.document(result);
        for (const d of result.drift) ctx.out.line(describeValidatorDrift(ctx, d));
        ctx.out.line(
          `${result.tenants} tenants, ${result.dryRun ? 'would change' : 'changed'}: ${result.created} created, ${result.modified} modified, ${result.dropped} dropped${result.dryRun ? ' (dry run: nothing written)' : ''}`,
        );
        return reportFailures(ctx, result.failed);
      }),
    );
}
