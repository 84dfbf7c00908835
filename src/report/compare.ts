/**
 * The regression gate: two results tables joined on (run_id, iteration), per metric the largest
 * relative difference and where it is, against a tolerance. Pure.
 *
 * Relative difference of a and b: |a − b| / max(|a|, |b|), 0 when a = b (both 0 included); equal
 * non-finite values (nan, inf) count as equal, any other pairing with a non-finite value as ∞, and an
 * empty cell on one side only as ∞. Non-numeric columns (status, precision, …) must match exactly.
 * time_ms is compared only when a time tolerance is given: the ratio of the new total to the base
 * total of the runs' final time_ms must not exceed it (totals, since single short runs are noisy).
 */
import { DataFormatError, UsageError } from '../core/errors.js';
import { escapeControl, quoted } from '../core/text.js';
import { parseNumberCell, type ResultTable } from './read-csv.js';

/** Default relative tolerances (docs/bench.md): exact where the numbers are counts. */
export const DEFAULT_TOLERANCES: Readonly<Record<string, number>> = {
  step: 1e-12,
  epoch: 0,
  loss: 1e-12,
  loss_gap: 1e-9,
  grad_norm_sq: 1e-9,
  train_acc: 0,
  test_acc: 0,
  bits_up_per_worker: 0,
  bits_up_total: 0,
  bits_down: 0,
};

/** Columns that must be equal as text (the configuration and the status). */
const EXACT_COLUMNS = ['experiment', 'dataset', 'problem', 'method', 'compressor', 'k', 'workers', 'split', 'seed', 'backend', 'precision', 'status'];

/** Parses `--tol grad_norm_sq=1e-9,loss=1e-12`. */
export function parseTolerances(text: string | undefined): Record<string, number> {
  const tol: Record<string, number> = { ...DEFAULT_TOLERANCES };
  if (text === undefined || text.trim() === '') return tol;
  for (const part of text.split(',')) {
    const m = /^\s*([a-z_]+)\s*=\s*(\S+)\s*$/.exec(part);
    const value = m ? Number(m[2]) : NaN;
    if (!m || !(value >= 0)) throw new UsageError(`--tol: expected METRIC=RELATIVE_TOLERANCE pairs separated by commas (e.g. grad_norm_sq=1e-9,loss=1e-12), got "${part}"`);
    if (!(m[1] in DEFAULT_TOLERANCES)) throw new UsageError(`--tol: unknown metric "${m[1]}"; accepted: ${Object.keys(DEFAULT_TOLERANCES).join(', ')} (time_ms: use --time-tol)`);
    tol[m[1]] = value;
  }
  return tol;
}

export function relativeDifference(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : Infinity;
  if (Object.is(a, b) || a === b || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Infinity;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

export interface Location {
  readonly runId: string;
  readonly iteration: string;
}

export interface MetricComparison {
  readonly metric: string;
  readonly tolerance: number;
  readonly maxRelative: number;
  /** Where the largest difference is (undefined when no rows were compared). */
  readonly at?: Location & { readonly base: string; readonly next: string };
  readonly pass: boolean;
}

export interface CompareReport {
  readonly metrics: readonly MetricComparison[];
  readonly missingRuns: readonly string[];
  readonly extraRuns: readonly string[];
  readonly missingRows: readonly Location[];
  readonly extraRows: readonly Location[];
  /** Text columns that differ: the first few. */
  readonly mismatches: ReadonlyArray<Location & { readonly column: string; readonly base: string; readonly next: string }>;
  readonly time?: { readonly ratio: number; readonly tolerance: number; readonly baseMs: number; readonly nextMs: number; readonly pass: boolean };
  readonly comparedRows: number;
  readonly pass: boolean;
}

/**
 * The columns both files must have: the join keys, the status and every metric with a tolerance
 * (time_ms too when it is gated). A missing one would otherwise pass for "no difference".
 */
export function requiredColumns(tolerances: Readonly<Record<string, number>>, timeTolerance?: number): string[] {
  return ['run_id', 'iteration', 'status', ...Object.keys(tolerances), ...(timeTolerance === undefined ? [] : ['time_ms'])];
}

/** Rows by run and iteration; a (run_id, iteration) pair twice in one file is an error naming both lines. */
function index(table: ResultTable): Map<string, Map<string, Readonly<Record<string, string>>>> {
  const runs = new Map<string, Map<string, Readonly<Record<string, string>>>>();
  const lineOf = new Map<Readonly<Record<string, string>>, number>();
  table.rows.forEach((row, i) => {
    let rows = runs.get(row.run_id);
    if (!rows) runs.set(row.run_id, (rows = new Map()));
    const line = table.lines?.[i] ?? i + 2;
    const earlier = rows.get(row.iteration);
    if (earlier !== undefined) {
      throw new DataFormatError(escapeControl(table.file), line, `duplicated row: run_id ${quoted(row.run_id)} iteration ${quoted(row.iteration)} is also on line ${lineOf.get(earlier)}`);
    }
    rows.set(row.iteration, row);
    lineOf.set(row, line);
  });
  return runs;
}

function lastTime(rows: Map<string, Readonly<Record<string, string>>>): number {
  let best = -1;
  let t = 0;
  for (const [it, row] of rows) {
    const i = Number(it);
    if (i > best) {
      best = i;
      t = parseNumberCell(row.time_ms) ?? 0;
    }
  }
  return Number.isFinite(t) ? t : 0;
}

export function compareTables(base: ResultTable, next: ResultTable, tolerances: Readonly<Record<string, number>> = DEFAULT_TOLERANCES, timeTolerance?: number): CompareReport {
  const a = index(base);
  const b = index(next);
  const missingRuns = [...a.keys()].filter((id) => !b.has(id));
  const extraRuns = [...b.keys()].filter((id) => !a.has(id));
  const metrics = Object.keys(tolerances).filter((m) => base.columns.includes(m) || next.columns.includes(m));
  const worst = new Map<string, { rel: number; at?: MetricComparison['at'] }>(metrics.map((m) => [m, { rel: 0 }]));
  const missingRows: Location[] = [];
  const extraRows: Location[] = [];
  const mismatches: Array<Location & { column: string; base: string; next: string }> = [];
  const exact = EXACT_COLUMNS.filter((c) => base.columns.includes(c) && next.columns.includes(c));
  let comparedRows = 0;
  let baseMs = 0;
  let nextMs = 0;

  for (const [runId, rowsA] of a) {
    const rowsB = b.get(runId);
    if (!rowsB) continue;
    baseMs += lastTime(rowsA);
    nextMs += lastTime(rowsB);
    for (const [iteration, rowA] of rowsA) {
      const rowB = rowsB.get(iteration);
      if (!rowB) {
        missingRows.push({ runId, iteration });
        continue;
      }
      comparedRows++;
      for (const m of metrics) {
        const rel = relativeDifference(parseNumberCell(rowA[m]), parseNumberCell(rowB[m]));
        const w = worst.get(m)!;
        if (rel > w.rel || (w.at === undefined && rel >= w.rel)) {
          w.rel = rel;
          w.at = { runId, iteration, base: rowA[m] ?? '', next: rowB[m] ?? '' };
        }
      }
      for (const c of exact) {
        if (rowA[c] !== rowB[c]) mismatches.push({ runId, iteration, column: c, base: rowA[c], next: rowB[c] });
      }
    }
    for (const iteration of rowsB.keys()) if (!rowsA.has(iteration)) extraRows.push({ runId, iteration });
  }

  const metricResults: MetricComparison[] = metrics.map((metric) => {
    const w = worst.get(metric)!;
    return { metric, tolerance: tolerances[metric], maxRelative: w.rel, at: w.at, pass: w.rel <= tolerances[metric] };
  });
  let time: CompareReport['time'];
  if (timeTolerance !== undefined) {
    const ratio = baseMs > 0 ? nextMs / baseMs : nextMs > 0 ? Infinity : 1;
    time = { ratio, tolerance: timeTolerance, baseMs, nextMs, pass: ratio <= timeTolerance };
  }
  const pass =
    metricResults.every((m) => m.pass) &&
    missingRuns.length === 0 &&
    extraRuns.length === 0 &&
    missingRows.length === 0 &&
    extraRows.length === 0 &&
    mismatches.length === 0 &&
    (time?.pass ?? true);
  return { metrics: metricResults, missingRuns, extraRuns, missingRows, extraRows, mismatches, time, comparedRows, pass };
}

function sci(x: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return String(x);
  return x.toExponential(2);
}

/** The report as a text table (what `dcomp compare` prints on stdout). */
export function formatCompareReport(report: CompareReport, baseFile: string, nextFile: string): string {
  const lines: string[] = [`compare ${escapeControl(baseFile)} (base) with ${escapeControl(nextFile)} (new): ${report.comparedRows} rows joined on (run_id, iteration)`];
  const rows = report.metrics.map((m) => [
    m.metric,
    sci(m.maxRelative),
    sci(m.tolerance),
    m.pass ? 'ok' : 'FAIL',
    m.at && m.maxRelative > 0 ? escapeControl(`run ${m.at.runId} iteration ${m.at.iteration}: ${m.at.base || '(empty)'} → ${m.at.next || '(empty)'}`) : '',
  ]);
  const head = ['metric', 'max rel diff', 'tolerance', 'result', 'where'];
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  for (const r of [head, ...rows]) lines.push(r.map((c, j) => c.padEnd(widths[j])).join('  ').trimEnd());
  if (report.time) {
    const t = report.time;
    lines.push(`time_ms: total ${t.nextMs.toFixed(0)} ms vs ${t.baseMs.toFixed(0)} ms, ratio ${t.ratio.toFixed(3)} (tolerance ${t.tolerance}) ${t.pass ? 'ok' : 'FAIL'}`);
  }
  const list = (what: string, items: readonly string[]) => {
    if (items.length > 0) lines.push(`${what} (${items.length}): ${items.slice(0, 20).map((i) => escapeControl(i)).join(', ')}${items.length > 20 ? ', …' : ''}`);
  };
  list('runs missing from the new file', report.missingRuns);
  list('runs only in the new file', report.extraRuns);
  list('rows missing from the new file', report.missingRows.map((l) => `${l.runId}@${l.iteration}`));
  list('rows only in the new file', report.extraRows.map((l) => `${l.runId}@${l.iteration}`));
  list('differing text cells', report.mismatches.map((m) => `${m.column} at ${m.runId}@${m.iteration}: ${quoted(m.base)} → ${quoted(m.next)}`));
  lines.push(report.pass ? 'PASS' : 'FAIL');
  return lines.join('\n') + '\n';
}

/** One line naming what failed, for the exit error. */
export function failureSummary(report: CompareReport): string {
  const parts: string[] = [];
  for (const m of report.metrics) {
    if (!m.pass) parts.push(`${m.metric} differs by ${sci(m.maxRelative)} (tolerance ${sci(m.tolerance)}) at run ${m.at?.runId} iteration ${m.at?.iteration}`);
  }
  if (report.missingRuns.length) parts.push(`${report.missingRuns.length} run(s) missing`);
  if (report.extraRuns.length) parts.push(`${report.extraRuns.length} extra run(s)`);
  if (report.missingRows.length) parts.push(`${report.missingRows.length} row(s) missing`);
  if (report.extraRows.length) parts.push(`${report.extraRows.length} extra row(s)`);
  if (report.mismatches.length) parts.push(`${report.mismatches.length} differing text cell(s), first ${report.mismatches[0].column} at run ${report.mismatches[0].runId} iteration ${report.mismatches[0].iteration}`);
  if (report.time && !report.time.pass) parts.push(`time ratio ${report.time.ratio.toFixed(3)} > ${report.time.tolerance}`);
  return parts.join('; ');
}
