import type { Reporter, TestModule } from 'vitest/node';

interface FileSummary {
  lines: { total: number; covered: number };
  branches: { total: number; covered: number };
  functions: { total: number; covered: number };
}
interface CoverageMapLike {
  files(): string[];
  fileCoverageFor(file: string): { toSummary(): FileSummary };
}

/**
 * Ends the run with one plain line, `tests: N passed, N failed, N skipped`, that any CI log reader understands.
 * With coverage on, a table of line/branch/function coverage per package comes just before that line.
 */
export default class SummaryReporter implements Reporter {
  private table = '';

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failed += 1;
        else skipped += 1;
      }
      if (mod.state() === 'failed' && [...mod.children.allTests()].length === 0) failed += 1;
    }
    // Vitest reports coverage before the run ends, so the table can come just before the closing line.
    process.stdout.write(`${this.table}\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }

  onCoverage(coverage: unknown): void {
    const map = coverage as CoverageMapLike;
    const byPackage = new Map<string, FileSummary>();
    for (const file of map.files()) {
      const pkg = /packages\/([^/]+)\/src\//.exec(file)?.[1];
      if (!pkg) continue;
      const s = map.fileCoverageFor(file).toSummary();
      const acc = byPackage.get(pkg) ?? {
        lines: { total: 0, covered: 0 },
        branches: { total: 0, covered: 0 },
        functions: { total: 0, covered: 0 },
      };
      for (const k of ['lines', 'branches', 'functions'] as const) {
        acc[k].total += s[k].total;
        acc[k].covered += s[k].covered;
      }
      byPackage.set(pkg, acc);
    }
    const pct = (m: { total: number; covered: number }) =>
      m.total === 0 ? '   —  ' : `${((100 * m.covered) / m.total).toFixed(1).padStart(5)}%`;
    const rows = [...byPackage.entries()].sort(([a], [b]) => a.localeCompare(b));
    this.table = '\ncoverage by package (v8)    lines   branches  functions\n';
    for (const [pkg, s] of rows) this.table += `  ${pkg.padEnd(24)} ${pct(s.lines)}   ${pct(s.branches)}    ${pct(s.functions)}\n`;
  }
}
