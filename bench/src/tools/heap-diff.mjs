// Compares two heap snapshots (heap-snapshot.mjs) by plain-object shape (its property names) and by node type:
// bytes and objects per tenant that B holds beyond A.
//   node bench/src/tools/heap-diff.mjs A.heapsnapshot B.heapsnapshot TENANTS [top=20]
import { readFileSync } from 'node:fs';

function aggregate(file) {
  const s = JSON.parse(readFileSync(file, 'utf8'));
  const { node_fields: nf, edge_fields: ef, node_types: nt, edge_types: et } = s.snapshot.meta;
  const [N, E] = [nf.length, ef.length];
  const [iType, iName, iSize, iEdges] = ['type', 'name', 'self_size', 'edge_count'].map((f) => nf.indexOf(f));
  const [eType, eName] = ['type', 'name_or_index'].map((f) => ef.indexOf(f));
  const byKey = new Map();
  let edge = 0;
  for (let i = 0; i < s.nodes.length; i += N) {
    const edges = s.nodes[i + iEdges];
    const type = nt[0][s.nodes[i + iType]];
    const name = s.strings[s.nodes[i + iName]];
    let key = type.includes('string') ? 'string' : `${type}:${type === 'object' || type === 'closure' ? name : ''}`;
    if (type === 'object' && name === 'Object') {
      const props = [];
      for (let k = 0; k < edges; k++) {
        const at = (edge + k) * E;
        if (et[0][s.edges[at + eType]] === 'property') props.push(s.strings[s.edges[at + eName]]);
      }
      key = `{ ${props
        .filter((p) => p !== '__proto__')
        .slice(0, 8)
        .join(', ')} }`;
    }
    const v = byKey.get(key) ?? [0, 0];
    v[0] += 1;
    v[1] += s.nodes[i + iSize];
    byKey.set(key, v);
    edge += edges;
  }
  return byKey;
}

const [a, b, tenants, top = '20'] = process.argv.slice(2);
const [A, B] = [aggregate(a), aggregate(b)];
const rows = [...new Set([...A.keys(), ...B.keys()])]
  .map((k) => [k, (B.get(k)?.[0] ?? 0) - (A.get(k)?.[0] ?? 0), (B.get(k)?.[1] ?? 0) - (A.get(k)?.[1] ?? 0)])
  .filter(([, count, bytes]) => count !== 0 || bytes !== 0)
  .sort((x, y) => Math.abs(y[2]) - Math.abs(x[2]));
const per = Number(tenants);
console.log(`B - A: ${(rows.reduce((t, r) => t + r[2], 0) / per).toFixed(1)} bytes per tenant`);
for (const [k, count, bytes] of rows.slice(0, Number(top)))
  console.log(`${(bytes / per).toFixed(1).padStart(8)} B ${(count / per).toFixed(2).padStart(6)} obj  ${k}`);
