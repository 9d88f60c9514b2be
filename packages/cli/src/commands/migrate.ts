import type { Command } from 'commander';
import { type ActionFactory, reportFailures, type TenantFlags, tenantOptions } from './shared.js';

type MigrateFlags = TenantFlags & { to?: string; dryRun?: boolean };

export function registerMigrate(program: Command, action: ActionFactory): void {
  const migrate = program.command('migrate').description("run the config's migrations on every tenant");
  tenantOptions(migrate.command('status').description('applied and pending migrations per tenant')).action(
    action<TenantFlags>(async (ctx, flags) => {
      const migrations = await ctx.migrations();
      const status = await (await ctx.fleet()).migrationStatus({
        migrations,
        tenants: await ctx.tenants(flags),
        concurrency: ctx.concurrency,
      });
      ctx.out.document(status);
      for (const s of status) {
        if (s.error) continue; // named below
        const pending = s.pending.length === 0 ? ctx.out.green('up to date') : ctx.out.yellow(`pending: ${s.pending.join(', ')}`);
        ctx.out.line(`${s.tenant}\t${s.applied.length} applied\t${pending}`);
      }
      // With --json the errors are in the document (each entry's `error`); exit 1 either way.
      return reportFailures(
        ctx,
        status.flatMap((s) => (s.error ? [{ tenant: s.tenant, error: s.error }] : [])),
      );
    }),
  );
  for (const direction of ['up', 'down'] as const) {
    tenantOptions(
      migrate
        .command(direction)
        .description(direction === 'up' ? 'apply pending migrations in id order' : 'revert the last migration, or every one after --to'),
    )
      .option('--to <id>', direction === 'up' ? 'apply up to and including this id' : 'revert every migration after this id')
      .option('--dry-run', 'report what would run; write nothing (no records, no lease)')
      .action(
        action<MigrateFlags>(async (ctx, flags) => {
          const migrations = await ctx.migrations();
          const progress = ctx.out.progress(`migrate ${direction}`);
          const result = await (await ctx.fleet()).migrate({
            migrations,
            direction,
            ...(flags.to !== undefined ? { to: flags.to } : {}),
            dryRun: flags.dryRun === true,
            tenants: await ctx.tenants(flags),
            concurrency: ctx.concurrency,
            onProgress: progress.onProgress,
          });
          progress.stop();
          ctx.out.document(result);
          const verb = direction === 'up' ? 'applied' : 'reverted';
          for (const a of result.applied) ctx.out.line(`${ctx.out.green('✓')} ${a.tenant}\t${a.id}${result.dryRun ? ' (dry run)' : ''}`);
          ctx.out.line(
            `${result.applied.length} migration(s) ${result.dryRun ? `would be ${verb}` : verb}, ${result.failed.length} failed`,
          );
          return reportFailures(ctx, result.failed);
        }),
      );
  }
}
