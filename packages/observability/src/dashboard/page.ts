/** The dashboard page: self-contained HTML, CSS and script, no external resources. */
export function dashboardPage(title: string): string {
  const safeTitle = title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${safeTitle} dashboard</title>
<style>
  :root { --bg: #0f172a; --panel: #1e293b; --text: #e2e8f0; --muted: #94a3b8; --accent: #38bdf8; --ok: #4ade80; --bad: #f87171; --warn: #fbbf24; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, Segoe UI, Roboto, sans-serif; background: var(--bg); color: var(--text); }
  header { display: flex; align-items: center; gap: 12px; padding: 16px 24px; border-bottom: 1px solid #334155; }
  h1 { font-size: 18px; margin: 0; }
  .badge { padding: 2px 10px; border-radius: 999px; font-weight: 600; background: #334155; }
  .badge.connected { background: #14532d; color: var(--ok); }
  .badge.failed, .badge.auth_failed, .badge.closed { background: #450a0a; color: var(--bad); }
  .badge.connecting, .badge.retrying, .badge.disconnecting { background: #422006; color: var(--warn); }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 16px; padding: 24px; }
  .card { background: var(--panel); border-radius: 10px; padding: 16px; }
  .card h2 { margin: 0 0 6px; font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); font-weight: 600; }
  .value { font-size: 28px; font-weight: 700; font-variant-numeric: tabular-nums; }
  .wide { grid-column: 1 / -1; }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #334155; }
  th { color: var(--muted); font-weight: 600; font-size: 12px; }
  canvas { width: 100%; height: 120px; display: block; }
  .muted { color: var(--muted); }
</style>
</head>
<body>
<header>
  <h1>${safeTitle}</h1>
  <span id="state" class="badge">connecting…</span>
  <span class="muted" id="updated"></span>
</header>
<main>
  <div class="card"><h2>Operations / s</h2><div class="value" id="ops-rate">0</div></div>
  <div class="card"><h2>Operations</h2><div class="value" id="ops-total">0</div></div>
  <div class="card"><h2>Errors</h2><div class="value" id="ops-errors">0</div></div>
  <div class="card"><h2>Latency p50</h2><div class="value"><span id="p50">\u2014</span> <small class="muted">ms</small></div></div>
  <div class="card"><h2>Latency p99</h2><div class="value"><span id="p99">\u2014</span> <small class="muted">ms</small></div></div>
  <div class="card"><h2>Connections open</h2><div class="value" id="conn-open">0</div></div>
  <div class="card"><h2>Cached tenants</h2><div class="value" id="tenants-cached">0</div></div>
  <div class="card"><h2>Change streams</h2><div class="value" id="streams">0</div></div>
  <div class="card wide"><h2>Operations per second, last 60 s</h2><canvas id="chart" width="900" height="120"></canvas></div>
  <div class="card wide"><h2>Pools</h2>
    <table><thead><tr><th>pool</th><th>state</th><th>open</th><th>in use</th><th>available</th><th>waiting</th><th>max</th></tr></thead>
    <tbody id="pools"></tbody></table></div>
  <div class="card wide"><h2>Top tenants</h2>
    <table><thead><tr><th>tenant</th><th>operations</th><th>errors</th></tr></thead><tbody id="tenants"></tbody></table></div>
</main>
<script>
(() => {
  const $ = (id) => document.getElementById(id);
  const history = [];
  const fmt = (n, d = 0) => (n === null || n === undefined ? '\u2014' : Number(n).toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d }));
  const cell = (text) => { const td = document.createElement('td'); td.textContent = String(text); return td; };
  function draw() {
    const canvas = $('chart');
    const ctx = canvas.getContext('2d');
    const w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    const max = Math.max(1, ...history);
    ctx.strokeStyle = '#334155';
    ctx.beginPath(); ctx.moveTo(0, h - 0.5); ctx.lineTo(w, h - 0.5); ctx.stroke();
    ctx.strokeStyle = '#38bdf8'; ctx.lineWidth = 2; ctx.beginPath();
    history.forEach((v, i) => {
      const x = (i / 59) * w, y = h - 4 - (v / max) * (h - 12);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
    ctx.fillStyle = '#94a3b8'; ctx.font = '12px system-ui'; ctx.fillText('max ' + fmt(max, 1) + '/s', 6, 14);
  }
  function render(s) {
    const state = $('state');
    state.textContent = s.state; state.className = 'badge ' + s.state;
    $('updated').textContent = 'updated ' + new Date(s.ts).toLocaleTimeString();
    $('ops-rate').textContent = fmt(s.opsPerSec, 1);
    $('ops-total').textContent = fmt(s.totalOps);
    $('ops-errors').textContent = fmt(s.errors);
    $('p50').textContent = fmt(s.p50, 2);
    $('p99').textContent = fmt(s.p99, 2);
    $('conn-open').textContent = fmt(s.pools.reduce((n, p) => n + p.open, 0));
    $('tenants-cached').textContent = fmt(s.cachedTenants);
    $('streams').textContent = fmt(s.openStreams);
    const pools = $('pools'); pools.replaceChildren();
    for (const p of s.pools) {
      const tr = document.createElement('tr'); tr.dataset.pool = p.key;
      for (const v of [p.key, p.state, p.open, p.inUse, p.available, p.waiting, p.max]) tr.appendChild(cell(v));
      pools.appendChild(tr);
    }
    const tenants = $('tenants'); tenants.replaceChildren();
    for (const t of s.topTenants) {
      const tr = document.createElement('tr');
      for (const v of [t.tenant, fmt(t.ops), fmt(t.errors)]) tr.appendChild(cell(v));
      tenants.appendChild(tr);
    }
    history.push(s.opsPerSec); if (history.length > 60) history.shift();
    draw();
  }
  const base = location.pathname.replace(/\\/$/, '');
  const source = new EventSource(base + '/events');
  source.addEventListener('stats', (e) => render(JSON.parse(e.data)));
  source.onerror = () => { const s = $('state'); s.textContent = 'dashboard disconnected'; s.className = 'badge failed'; };
})();
</script>
</body>
</html>`;
}
