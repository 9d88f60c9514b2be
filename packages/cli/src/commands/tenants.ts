import type { SkippedDatabase } from '@polymongo/fleet';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { UsageError } from '../UsageError.js';
import { type ActionFactory, reportFailures, tenantOptions } from './shared.js';

export function registerTenants(program: Command, action: ActionFactory): void {
  const tenants = program.command('tenants').description('list, inspect and drop tenants');
  tenantOptions(tenants.command('list').description('list the tenant ids (discovery, or the given subset)')).action(
    action(async (ctx, flags) => {
      const fleet = await ctx.fleet();
      const ids: string[] = [];
      const skipped: SkippedDatabase[] = [];
      for await (const id of fleet.tenants({ tenants: await ctx.tenants(flags), onSkip: (s) => skipped.push(s) })) {
        if (ctx.out.json) ids.push(id);
        else ctx.out.line(id);
      }
      ctx.out.document(ids);
      // On stderr, so that stdout stays one id a line (or the JSON array): how many databases were not tenants, and
      // each one whose lookup threw (it may be a tenant missing from the list: exit 1).
      const failed = skipped.filter((s) => s.reason === 'lookup-failed');
      if (skipped.length > 0 && !ctx.out.json) {
        const elsewhere = skipped.filter((s) => s.reason === 'placed-elsewhere').length;
        const others = skipped.length - elsewhere - failed.length;
        // Each reason counted on its own: a stale copy on another cluster or a failed lookup is not "not a tenant".
        const reasons =
          others === skipped.length
            ? 'not tenants'
            : [
                others > 0 ? `${others} not tenants` : '',
                elsewhere > 0 ? `${elsewhere} placed on another cluster` : '',
                failed.length > 0 ? `${failed.length} lookup failed` : '',
              ]
                .filter(Boolean)
                .join(', ');
        ctx.out.warn(`${skipped.length} database${skipped.length === 1 ? '' : 's'} skipped (${reasons})`);
      }
      for (const f of failed) ctx.out.warn(`${ctx.out.red('✗')} ${f.database} (cluster ${f.cluster}): tenant lookup failed: ${f.code}`);
      return failed.length > 0 ? 1 : 0;
    }),
  );
  tenantOptions(tenants.command('stats').description('collections, documents and data size per tenant (dbStats)')).action(
    action(async (ctx, flags) => {
      const fleet = await ctx.fleet();
      const rows: Array<{ tenant: string; collections: number; objects: number; dataSize: number; indexes: number }> = [];
      const progress = ctx.out.progress('stats');
      const result = await fleet.forEach(
        async (scope) => {
          const s = await scope.db.stats();
          rows.push({
            tenant: scope.id,
            collections: Number(s.collections),
            objects: Number(s.objects),
            dataSize: Number(s.dataSize),
            indexes: Number(s.indexes),
          });
        },
        { tenants: await ctx.tenants(flags), concurrency: ctx.concurrency, onProgress: progress.onProgress },
      );
      progress.stop();
      rows.sort((a, b) => a.tenant.localeCompare(b.tenant));
      ctx.out.document({ tenants: rows, failed: result.failed });
      for (const r of rows)
        ctx.out.line(`${r.tenant}\t${r.collections} collections\t${r.objects} documents\t${r.dataSize} bytes\t${r.indexes} indexes`);
      return reportFailures(ctx, result.failed);
    }),
  );
  tenants
    .command('drop <id>')
    .description("drop a tenant's database (needs --yes)")
    .option('--yes', 'really drop it')
    .action(
      action<{ yes?: boolean }, [string]>(async (ctx: CliContext, flags, id) => {
        if (flags.yes !== true) {
          throw new UsageError(`--yes: dropping tenant "${id}" deletes its database; rerun with --yes to confirm`);
        }
        const poly = await ctx.poly();
        poly.route(id);
        await poly.dropTenant(id);
        ctx.out.document({ dropped: id });
        ctx.out.line(`${ctx.out.green('✓')} dropped tenant ${id}`);
        return 0;
      }),
    );
}
