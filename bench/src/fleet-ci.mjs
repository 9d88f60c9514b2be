// The fleet against both hand-loop runs of its round, with a bootstrap interval: reads the per-run rows that
// bench/src/fleet.mjs prints on stderr (one JSON object per line) and prints, per scenario and fleet size, the median of
// fleet ÷ mean(hand, hand #2) over the rounds for wall time and client CPU, its 95% bootstrap interval, and the same
// for hand #2 ÷ hand (the noise floor); with rows of a --baseline-build run, also fleet ÷ baseline build.
//
//   node bench/src/fleet.mjs --tenants 1000 --rounds 15 2> rows.jsonl
//   node bench/src/fleet-ci.mjs rows.jsonl [more.jsonl ...]
import { readFileSync } from 'node:fs';
import { median } from './runner/stats.mjs';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node bench/src/fleet-ci.mjs rows.jsonl [more.jsonl ...]  (the stderr of bench/src/fleet.mjs)');
  process.exit(2);
}

const RESAMPLES = 4000;

// A seeded generator (Park–Miller), so the printed interval is the same on every run of the same rows.
let seed = 1;
const random = () => {
  seed = (seed * 16807) % 2147483647;
  return seed / 2147483647;
};

/** The 2.5th and 97.5th percentiles of the median over resamples (with replacement) of the rounds. */
function interval(values) {
  const medians = [];
  for (let i = 0; i < RESAMPLES; i++) medians.push(median(values.map(() => values[Math.floor(random() * values.length)])));
  medians.sort((a, b) => a - b);
  return [medians[Math.floor(RESAMPLES * 0.025)], medians[Math.floor(RESAMPLES * 0.975)]];
}

// Rounds are numbered per run of the bench: several files are pooled as separate rounds.
const rows = files.flatMap((file, i) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line))
    .map((row) => ({ ...row, round: `${i}:${row.round}` })),
);
const fmt = (values) => {
  const [low, high] = interval(values);
  return `${median(values).toFixed(3)} [${low.toFixed(3)}–${high.toFixed(3)}]`;
};

for (const key of new Set(rows.map((r) => `${r.scenario}\t${r.tenants}`))) {
  const [scenario, tenants] = key.split('\t');
  const ofKey = rows.filter((r) => r.scenario === scenario && String(r.tenants) === tenants);
  for (const [field, label] of [
    ['seconds', 'wall'],
    ['clientCpuSeconds', 'client CPU'],
  ]) {
    const fleet = [];
    const floor = [];
    const vsBaseline = [];
    for (const round of new Set(ofKey.map((r) => r.round))) {
      const of = (contender) => ofKey.find((r) => r.round === round && r.contender === contender);
      const [hand, second, fleetRun] = [of('hand-written driver loop'), of('hand loop #2 (noise floor)'), of('@polymongo/fleet')];
      const baseline = of('@polymongo/fleet (baseline build)');
      if (fleetRun && baseline) vsBaseline.push(fleetRun[field] / baseline[field]);
      if (!hand || !second || !fleetRun) continue;
      fleet.push(fleetRun[field] / ((hand[field] + second[field]) / 2));
      floor.push(second[field] / hand[field]);
    }
    if (fleet.length > 0) {
      console.log(
        `${scenario}, ${tenants} tenants, ${label}: fleet ÷ mean(hand, hand #2) ${fmt(fleet)}; hand #2 ÷ hand ${fmt(floor)} (${fleet.length} rounds)`,
      );
    }
    if (vsBaseline.length > 0) {
      console.log(`${scenario}, ${tenants} tenants, ${label}: fleet ÷ baseline build ${fmt(vsBaseline)} (${vsBaseline.length} rounds)`);
    }
  }
}
