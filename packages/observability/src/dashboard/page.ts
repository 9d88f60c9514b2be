/** The dashboard page: self-contained HTML, CSS and script, no external resources; data only ever set as text. */
export function dashboardPage(title: string): string {
  const safeTitle = title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${safeTitle} dashboard</title>
<style>
  :root { --bg: #0f172a; --panel: #1e293b; --text: #e2e8f0; --muted: #94a3b8; --accent: #38bdf8; --ok: #4ade80; --bad: #f87171; --warn: #fbbf24; --line: #334155; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, Segoe UI, Roboto, sans-serif; background: var(--bg); color: var(--text); }
  header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 12px; padding: 14px 20px; border-bottom: 1px solid var(--line); }
  h1 { font-size: 18px; margin: 0; }
  .badge { padding: 2px 10px; border-radius: 999px; font-weight: 600; background: var(--line); }
  .badge.connected { background: #14532d; color: var(--ok); }
  .badge.failed, .badge.auth_failed, .badge.closed, .badge.disconnected { background: #450a0a; color: var(--bad); }
  .badge.connecting, .badge.retrying, .badge.disconnecting { background: #422006; color: var(--warn); }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 14px; padding: 20px; }
  .card { background: var(--panel); border-radius: 10px; padding: 14px; min-width: 0; }
  .card h2 { margin: 0 0 6px; font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); font-weight: 600; }
  .value { font-size: 26px; font-weight: 700; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
  .wide { grid-column: 1 / -1; }
  .scroll { overflow-x: auto; }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { color: var(--muted); font-weight: 600; font-size: 12px; }
  #tenants tr { cursor: pointer; }
  #tenants tr:hover, #tenants tr.selected { background: #0b3b57; }
  canvas { width: 100%; height: 130px; display: block; }
  .muted { color: var(--muted); }
  .legend { display: flex; flex-wrap: wrap; gap: 2px 12px; }
  .legend span { white-space: nowrap; }
  #drill[hidden] { display: none; }
  #admission td.warn { color: var(--warn); }
  #drill-name { text-transform: none; letter-spacing: 0; color: var(--text); font-size: 14px; }
  #drill dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 0; }
  #drill dt { color: var(--muted); }
  @media (max-width: 600px) {
    main { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px; padding: 10px; }
    .value { font-size: 20px; }
    header { padding: 10px 12px; }
  }
</style>
</head>
<body>
<header>
  <h1>${safeTitle}</h1>
  <span id="state" class="badge">connecting…</span>
  <span class="muted" id="updated"></span>
</header>
<main>
  <div class="card"><h2>Operations / s</h2><div class="value" id="ops-rate">—</div></div>
  <div class="card"><h2>Operations</h2><div class="value" id="ops-total">—</div></div>
  <div class="card"><h2>Server errors</h2><div class="value" id="server-errors">—</div></div>
  <div class="card"><h2>Refused by PolyMongo</h2><div class="value" id="refusals">—</div></div>
  <div class="card"><h2>Latency p50</h2><div class="value"><span id="p50">—</span> <small class="muted">ms</small></div></div>
  <div class="card"><h2>Latency p99</h2><div class="value"><span id="p99">—</span> <small class="muted">ms</small></div></div>
  <div class="card"><h2>Connections open</h2><div class="value" id="conn-open">—</div></div>
  <div class="card"><h2>Cached tenants</h2><div class="value" id="tenants-cached">—</div></div>
  <div class="card"><h2>Evictions</h2><div class="value" id="evictions">—</div></div>
  <div class="card"><h2>Dedicated pools</h2><div class="value" id="dedicated">—</div></div>
  <div class="card"><h2>Change streams</h2><div class="value" id="streams">—</div></div>
  <div class="card wide"><h2>Operations per second</h2><canvas id="chart" width="900" height="130"></canvas></div>
  <div class="card wide"><h2>Latency p99 by command (ms)</h2><canvas id="latency" width="900" height="130"></canvas><div class="legend muted" id="legend"></div></div>
  <div class="card wide"><h2>Pools</h2><div class="scroll">
    <table><thead><tr><th>pool</th><th>kind</th><th>state</th><th>open</th><th>in use</th><th>available</th><th>waiting</th><th>max</th></tr></thead>
    <tbody id="pools"></tbody></table></div></div>
  <div class="card wide"><h2>Tenants <small class="muted">(select one for details)</small></h2><div class="scroll">
    <table><thead><tr><th>tenant</th><th>operations</th><th>server errors</th><th>refused</th></tr></thead><tbody id="tenants"></tbody></table></div></div>
  <div class="card wide"><h2>Admission <small class="muted">(fairness and quotas: the busiest tenants first)</small></h2>
    <div class="muted" id="admission-summary">—</div><div class="scroll">
    <table><thead><tr><th>tenant</th><th>in flight</th><th>queued</th><th>rejected</th><th>throttled</th></tr></thead><tbody id="admission"></tbody></table></div></div>
  <div class="card wide" id="drill" hidden><h2>Tenant <span id="drill-name"></span></h2><dl id="drill-body"></dl></div>
</main>
<script>
(() => {
  const $ = (id) => document.getElementById(id);
  const COLORS = ['#38bdf8', '#f472b6', '#a3e635', '#fbbf24', '#c084fc', '#34d399', '#fb923c', '#f87171'];
  let history = [];
  let selected = null;
  const fmt = (n, d = 0) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d }));
  const cell = (text) => { const td = document.createElement('td'); td.textContent = String(text); return td; };
  function plot(canvas, series, labelUnit) {
    // Draw at the canvas's real size, so labels stay legible on a phone.
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 900, h = canvas.clientHeight || 130;
    if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const values = series.flatMap((s) => s.points.filter((v) => v !== null));
    const max = Math.max(1, ...values);
    ctx.strokeStyle = '#334155'; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(0, h - 0.5); ctx.lineTo(w, h - 0.5); ctx.stroke();
    for (const s of series) {
      ctx.strokeStyle = s.color; ctx.lineWidth = 2; ctx.beginPath();
      let started = false;
      s.points.forEach((v, i) => {
        if (v === null) { started = false; return; }
        const x = s.points.length < 2 ? w : (i / (s.points.length - 1)) * w, y = h - 4 - (v / max) * (h - 16);
        if (!started) { ctx.moveTo(x, y); started = true; } else ctx.lineTo(x, y);
      });
      ctx.stroke();
    }
    ctx.fillStyle = '#94a3b8'; ctx.font = '12px system-ui';
    ctx.fillText(values.length ? 'max ' + fmt(max, 1) + labelUnit : 'no data yet', 6, 14);
  }
  function drawHistory() {
    const recent = history.slice(-120);
    plot($('chart'), [{ color: COLORS[0], points: recent.map((p) => p.opsPerSec) }], '/s');
    const commands = new Map();
    for (const p of recent) for (const [c, v] of Object.entries(p.byCommand)) commands.set(c, (commands.get(c) || 0) + v.count);
    const top = [...commands.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([c]) => c);
    plot($('latency'), top.map((c, i) => ({ color: COLORS[i % COLORS.length], points: recent.map((p) => (p.byCommand[c] ? p.byCommand[c].p99 : null)) })), ' ms');
    const legend = $('legend'); legend.replaceChildren();
    top.forEach((c, i) => { const s = document.createElement('span'); s.style.color = COLORS[i % COLORS.length]; s.textContent = '● ' + c; legend.appendChild(s); });
    if (top.length === 0) legend.textContent = '—';
  }
  async function drill(tenant) {
    selected = tenant;
    for (const tr of $('tenants').children) tr.classList.toggle('selected', tr.dataset.tenant === tenant);
    const res = await fetch(base + '/tenant/' + encodeURIComponent(tenant), { cache: 'no-store' });
    const box = $('drill'); box.hidden = false;
    $('drill-name').textContent = tenant;
    const body = $('drill-body'); body.replaceChildren();
    if (!res.ok) { const dd = document.createElement('dd'); dd.textContent = 'no data for this tenant'; body.appendChild(dd); return; }
    const d = await res.json();
    const codes = Object.entries(d.errorsByCode).map(([c, n]) => c + ' × ' + n).join(', ') || '—';
    for (const [k, v] of [['operations', fmt(d.ops)], ['server errors', fmt(d.serverErrors)], ['refused', fmt(d.refusals)], ['errors by code', codes], ['latency p50', fmt(d.p50, 2) + ' ms'], ['latency p99', fmt(d.p99, 2) + ' ms'], ['last seen', d.lastSeen ? new Date(d.lastSeen).toLocaleTimeString() : '—']]) {
      const dt = document.createElement('dt'); dt.textContent = k; const dd = document.createElement('dd'); dd.textContent = v; dd.dataset.field = k;
      body.append(dt, dd);
    }
  }
  function renderAdmission(a) {
    const rows = $('admission'); rows.replaceChildren();
    if (!a) { $('admission-summary').textContent = 'off: no fairness or quotas configured'; return; }
    $('admission-summary').textContent = 'in flight ' + fmt(a.inFlight) + ' · queued ' + fmt(a.queued) + ' · rejected (TENANT_OVERLOADED) ' + fmt(a.rejected) + ' · throttled (TENANT_QUOTA_EXCEEDED) ' + fmt(a.throttled);
    const o = a.other;
    const all = a.tenants.concat(o.inFlight + o.queued + o.rejected + o.throttled > 0 ? [Object.assign({ tenant: null }, o)] : []);
    for (const t of all) {
      const tr = document.createElement('tr'); tr.dataset.tenant = t.tenant === null ? '' : t.tenant;
      tr.appendChild(cell(t.tenant === null ? 'other tenants' : t.tenant));
      if (t.tenant === null) tr.firstChild.classList.add('muted');
      tr.appendChild(cell(fmt(t.inFlight)));
      // Waiting and refusals are what an operator looks for: they stand out.
      for (const v of [t.queued, t.rejected, t.throttled]) { const td = cell(fmt(v)); if (v > 0) td.classList.add('warn'); tr.appendChild(td); }
      rows.appendChild(tr);
    }
  }
  function render(s) {
    const state = $('state');
    state.textContent = s.state; state.className = 'badge ' + s.state;
    $('updated').textContent = 'updated ' + new Date(s.ts).toLocaleTimeString();
    $('ops-rate').textContent = fmt(s.opsPerSec, 1);
    $('ops-total').textContent = fmt(s.totalOps);
    $('server-errors').textContent = fmt(s.serverErrors);
    $('refusals').textContent = fmt(s.refusals);
    $('p50').textContent = fmt(s.p50, 2);
    $('p99').textContent = fmt(s.p99, 2);
    $('conn-open').textContent = fmt(s.pools.reduce((n, p) => n + p.open, 0));
    $('tenants-cached').textContent = fmt(s.cachedTenants) + ' / ' + fmt(s.maxCachedTenants);
    $('evictions').textContent = fmt(s.evictions);
    $('dedicated').textContent = fmt(s.dedicatedPools);
    $('streams').textContent = fmt(s.openStreams);
    const pools = $('pools'); pools.replaceChildren();
    for (const p of s.pools) {
      const tr = document.createElement('tr'); tr.dataset.pool = p.key;
      for (const v of [p.key, p.kind, p.state, p.open, p.inUse, p.available, p.waiting, p.max]) tr.appendChild(cell(v));
      pools.appendChild(tr);
    }
    const tenants = $('tenants'); tenants.replaceChildren();
    for (const t of s.topTenants) {
      const tr = document.createElement('tr'); tr.dataset.tenant = t.tenant; tr.tabIndex = 0;
      if (t.tenant === selected) tr.classList.add('selected');
      for (const v of [t.tenant, fmt(t.ops), fmt(t.serverErrors), fmt(t.refusals)]) tr.appendChild(cell(v));
      tr.addEventListener('click', () => drill(t.tenant));
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') drill(t.tenant); });
      tenants.appendChild(tr);
    }
    renderAdmission(s.admission);
    if (s.point && (history.length === 0 || history[history.length - 1].ts !== s.point.ts)) history.push(s.point);
    if (history.length > 900) history = history.slice(-900);
    drawHistory();
  }
  const base = location.pathname.replace(/\\/$/, '');
  const source = new EventSource(base + '/events');
  source.addEventListener('history', (e) => { history = JSON.parse(e.data); drawHistory(); });
  source.addEventListener('stats', (e) => render(JSON.parse(e.data)));
  source.onerror = () => { const s = $('state'); s.textContent = 'dashboard disconnected'; s.className = 'badge failed'; };
})();
</script>
</body>
</html>`;
}
