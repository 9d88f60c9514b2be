// A bounded load for the demo: a fixed number of requests over a fixed time, across many tenants, localhost only.
// Usage: pnpm demo:load [--requests 3000] [--seconds 30] [--tenants 40] [--concurrency 8] [--url http://127.0.0.1:3000]
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '3000' },
    seconds: { type: 'string', default: '30' },
    tenants: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '8' },
    url: { type: 'string', default: `http://127.0.0.1:${process.env.PORT ?? 3000}` },
  },
});
const base = new URL(values.url);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) {
  process.stderr.write('demo:load only targets this machine (127.0.0.1, localhost or [::1]).\n');
  process.exit(2);
}
const total = Math.max(1, Math.min(Number(values.requests), 100_000));
const seconds = Math.max(1, Math.min(Number(values.seconds), 600));
const tenantCount = Math.max(1, Math.min(Number(values.tenants), 1000));
const concurrency = Math.max(1, Math.min(Number(values.concurrency), 64));
const tenants = ['acme', 'globex', 'initech', ...Array.from({ length: tenantCount - 3 }, (_, i) => `load-${i + 1}`)].slice(0, tenantCount);

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(new URL(path, base), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

for (const t of tenants) await post('/tenants', { id: t });

const interval = (seconds * 1000) / total;
const started = Date.now();
const statuses = new Map<number, number>();
let sent = 0;
async function worker(): Promise<void> {
  while (sent < total && Date.now() - started < seconds * 1000 + 5000) {
    const n = sent++;
    // Spread requests evenly over the time budget.
    const due = started + n * interval;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    const tenant = tenants[Math.floor(Math.random() ** 2 * tenants.length)] as string;
    const kind = n % 10;
    const res =
      kind < 5
        ? await fetch(new URL(`/t/${tenant}/events?limit=20`, base))
        : kind < 8
          ? await post(`/t/${tenant}/events`, { type: 'page.view', payload: { n } })
          : kind < 9
            ? await fetch(new URL('/api/users', base), { headers: { 'x-tenant': tenant } })
            : await post(`/t/${tenant}/events`, { type: '' });
    await res.arrayBuffer();
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const elapsed = (Date.now() - started) / 1000;
process.stdout.write(
  `sent ${Math.min(sent, total)} requests to ${tenants.length} tenants in ${elapsed.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries(statuses))} (422s are deliberate bad input)\n`,
);
