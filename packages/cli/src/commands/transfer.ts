import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { ActionFactory } from './shared.js';

export function registerTransfer(program: Command, action: ActionFactory): void {
  program
    .command('export <tenant>')
    .description('write a tenant as canonical Extended JSON lines (stdout unless --out)')
    .option('--out <file>', 'write to FILE')
    .action(
      action<{ out?: string }, [string]>(async (ctx, flags, tenant) => {
        const fleet = await ctx.fleet();
        const stream = fleet.exportTenant(tenant);
        if (flags.out !== undefined) {
          await pipeline(stream, createWriteStream(flags.out));
          ctx.out.document({ tenant, out: flags.out });
          ctx.out.line(`${ctx.out.green('✓')} exported ${tenant} to ${flags.out}`);
        } else {
          for await (const chunk of stream) await ctx.out.raw(String(chunk));
        }
        return 0;
      }),
    );
  program
    .command('import <tenant>')
    .description('read an export into a tenant (stdin unless --in); refuses a tenant with data unless --drop')
    .option('--in <file>', 'read from FILE')
    .option('--drop', "replace the tenant's data")
    .option('--bypass-document-validation', 'insert documents even where a collection validator refuses them')
    .action(
      action<{ in?: string; drop?: boolean; bypassDocumentValidation?: boolean }, [string]>(async (ctx, flags, tenant) => {
        const fleet = await ctx.fleet();
        const input = flags.in !== undefined ? createReadStream(flags.in) : ctx.io.stdin;
        const result = await fleet.importTenant(tenant, input as AsyncIterable<unknown>, {
          drop: flags.drop === true,
          bypassDocumentValidation: flags.bypassDocumentValidation === true,
        });
        ctx.out.document({ tenant, ...result });
        ctx.out.line(
          `${ctx.out.green('✓')} imported ${result.documents} documents in ${result.collections} collections (${result.indexes} indexes) into ${tenant}`,
        );
        return 0;
      }),
    );
  program
    .command('copy <from> <to>')
    .description("copy a tenant's collections, documents and indexes to another tenant")
    .option('--drop', "replace the target tenant's data")
    .option('--no-indexes', 'copy data only')
    .option('--bypass-document-validation', 'insert documents even where a collection validator refuses them')
    .action(
      action<{ drop?: boolean; indexes?: boolean; bypassDocumentValidation?: boolean }, [string, string]>(async (ctx, flags, from, to) => {
        const result = await (await ctx.fleet()).copyTenant(from, to, {
          drop: flags.drop === true,
          indexes: flags.indexes !== false,
          bypassDocumentValidation: flags.bypassDocumentValidation === true,
        });
        ctx.out.document({ from, to, ...result });
        ctx.out.line(
          `${ctx.out.green('✓')} copied ${from} → ${to}: ${result.documents} documents, ${result.collections} collections, ${result.indexes} indexes`,
        );
        return 0;
      }),
    );
}

export function registerStatus(program: Command, action: ActionFactory): void {
  program
    .command('health')
    .description('ping the deployment and report pool states (exit 1 when unhealthy)')
    .action(
      action(async (ctx) => {
        const health = await (await ctx.poly()).health();
        ctx.out.document(health);
        ctx.out.line(
          health.ok
            ? `${ctx.out.green('ok')} ${health.state}, ping ${health.latencyMS?.toFixed(1)} ms`
            : `${ctx.out.red('unhealthy')} ${health.state}: ${health.error?.message ?? ''}`,
        );
        return health.ok ? 0 : 1;
      }),
    );
  program
    .command('stats')
    .description("the client's stats snapshot after a ping (pools, connections)")
    .action(
      action(async (ctx) => {
        const poly = await ctx.poly();
        await poly.ping();
        const stats = poly.stats();
        ctx.out.document(stats);
        if (!ctx.out.json) ctx.out.line(JSON.stringify(stats, null, 2));
        return 0;
      }),
    );
}
