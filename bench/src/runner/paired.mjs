// Paired, interleaved rounds: every round measures every contender once, in an order rotated by one each round
// (A B C, B C A, C A B, ...), so a contender is never always first or last and a slow minute of the machine hits all
// of them alike. Ratios are taken inside a round (pairing), then summarised across rounds.
import { noiseFloor, pairedRatios, round, verdict } from './stats.mjs';

/**
 * @param {string[]} names contender names
 * @param {number} rounds
 * @param {(name: string, round: number) => Promise<object>} measure one measurement of one contender
 * @returns {Promise<Array<Map<string, object>>>}
 */
export async function pairedRounds(names, rounds, measure, log = () => {}) {
  const results = [];
  for (let r = 0; r < rounds; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    const byName = new Map();
    for (const name of order) byName.set(name, await measure(name, r));
    results.push(byName);
    log(`  round ${r + 1}/${rounds} done`);
  }
  return results;
}

/**
 * Rows for a report: per contender the median of its raw figures, and for each figure the median, min and max of its
 * per-round ratio against its baseline (and any `alsoVs` contender), with a verdict against the noise floor of its
 * group (see noiseFloor). Every contender's per-round figures are kept in `perRound`, for a reader to recompute.
 * @param {Array<Map<string, object>>} rounds
 * @param {Array<[string, { group: string, baseline?: string, twinOf?: string, extra?: boolean, alsoVs?: string[] }]>} entries
 * @param {Record<string, { higherIsBetter: boolean }>} figures measured fields
 */
export function summarise(rounds, entries, figures) {
  const floors = {};
  for (const [name, def] of entries) {
    if (!def.twinOf) continue;
    floors[def.group] = {};
    for (const [figure, { higherIsBetter }] of Object.entries(figures)) {
      const { ratios } = pairedRatios(rounds, name, def.twinOf, (m) => m[figure], higherIsBetter);
      floors[def.group][figure] = round(noiseFloor(ratios), 4);
    }
  }
  const ratio = (name, vs, figure, higherIsBetter, floor) => {
    const p = pairedRatios(rounds, name, vs, (m) => m[figure], higherIsBetter);
    return { vs, median: round(p.median), min: round(p.min), max: round(p.max), verdict: verdict(p.median, floor ?? 0) };
  };
  const rows = entries.map(([name, def]) => {
    const row = { contender: name, group: def.group, baseline: def.baseline ?? null, twin: Boolean(def.twinOf), extra: Boolean(def.extra) };
    for (const [figure, { higherIsBetter }] of Object.entries(figures)) {
      const values = rounds.map((r) => r.get(name)?.[figure]).filter((v) => v !== undefined);
      values.sort((a, b) => a - b);
      row[figure] = round(values[values.length >> 1], 3);
      row.perRound ??= {};
      row.perRound[figure] = rounds.map((r) => round(r.get(name)?.[figure], 3));
      const floor = floors[def.group]?.[figure];
      const vs = [...(def.baseline ? [def.baseline] : []), ...(def.alsoVs ?? [])];
      const present = vs.filter((v) => rounds.some((r) => r.has(v)));
      if (present.length > 0) row[`${figure}Ratio`] = present.map((v) => ratio(name, v, figure, higherIsBetter, floor));
    }
    return row;
  });
  return { rows, noiseFloor: floors, rounds: rounds.length };
}
