// The statistics every scenario reports: medians of per-round ratios, their range, and a noise floor.

export const median = (values) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export const round = (n, digits = 3) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : null);

/**
 * The noise floor of a run: how far apart two identical contenders landed in a single round, at worst.
 * Per-round ratios of the twin against its original, as |ratio - 1|; the largest one.
 */
export const noiseFloor = (twinRatios) => Math.max(0, ...twinRatios.map((r) => Math.abs(r - 1)));

/** "ahead", "behind" or "tie" (a median ratio within the noise floor of 1). Ratios are "higher is better". */
export const verdict = (ratio, floor) => (ratio > 1 + floor ? 'ahead' : ratio < 1 - floor ? 'behind' : 'tie');

/**
 * Summarises paired rounds. `rounds` is an array of Map(contender name → measurement); `value(m)` gives the figure
 * and `higherIsBetter` its direction. Ratios are always reported as "× baseline, higher is better".
 */
export function pairedRatios(rounds, name, baseline, value, higherIsBetter) {
  const ratios = [];
  for (const r of rounds) {
    const a = r.get(name);
    const b = r.get(baseline);
    if (!a || !b) continue;
    ratios.push(higherIsBetter ? value(a) / value(b) : value(b) / value(a));
  }
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), ratios };
}
