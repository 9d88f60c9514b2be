// The statistics every scenario reports: medians of per-round ratios, their range, and a noise floor.

export const median = (values) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export const round = (n, digits = 3) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : null);

const quantile = (sorted, q) => {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  return sorted[lo] + (sorted[Math.ceil(at)] - sorted[lo]) * (at - lo);
};

/**
 * The noise floor of a run, from the per-round ratios of a twin (a contender identical to the baseline) against the
 * baseline: the larger of how far the twin's median ratio landed from 1 and half the interquartile range of its
 * per-round ratios. A median ratio closer to 1 than this is what identical code scored: a tie.
 */
export const noiseFloor = (twinRatios) => {
  if (twinRatios.length === 0) return 0;
  const sorted = [...twinRatios].sort((a, b) => a - b);
  return Math.max(Math.abs(median(sorted) - 1), (quantile(sorted, 0.75) - quantile(sorted, 0.25)) / 2);
};

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
