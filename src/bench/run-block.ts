/**
 * What a run's block of rows in a bench file must be, checked wherever a file is read back and trusted
 * (--resume keeps it, merge copies it): exactly the rows its configuration implies.
 *
 * - one row per logged iteration (schedule.ts: 0, every log_every, the last), in order, none twice;
 * - every row but the last has status ok; the last is ok only when it is the run's last iteration,
 *   otherwise the run stopped early and says why (diverged: possibly at an unlogged iteration, where
 *   its iterate became non-finite; errored);
 * - the configuration cells are those of the planned run and the same on every row (one run_id);
 * - the numeric cells are numbers as dcomp writes them (shortest round-trip form, nan, inf, -inf or
 *   empty), and the cumulative ones (epoch, bits, time) never decrease.
 *
 * A changed metric value that still looks like a number cannot be detected here (the file carries no
 * checksum); everything else a lost, doubled or edited row does is.
 */
import { escapeControl, quoted } from '../core/text.js';
import { runRecords } from '../report/csv.js';
import type { CsvRecord } from '../report/read-csv.js';
import type { PlannedRun } from './matrix.js';
import { loggedIterations } from './schedule.js';
import type { RunResult } from './types.js';

/** Columns written from the configuration alone: compared with the planned run's. */
const CONFIG_COLUMNS = ['experiment', 'run_id', 'dataset', 'problem', 'method', 'compressor', 'k', 'workers', 'split', 'seed', 'l2', 'batch'];
/** Columns that belong to the run, not the row (the configuration and what really ran): the same on every row of the block. */
const PER_RUN_COLUMNS = [...CONFIG_COLUMNS, 'step', 'x0', 'params', 'backend', 'device', 'precision'];
/** Numeric columns, as formatNumber writes them. */
const NUMERIC_COLUMNS = ['step', 'epoch', 'loss', 'loss_gap', 'grad_norm_sq', 'train_acc', 'test_acc', 'bits_up_per_worker', 'bits_up_total', 'bits_down', 'time_ms'];
/** Cumulative numeric columns: never decrease along a run. */
const CUMULATIVE_COLUMNS = ['epoch', 'bits_up_per_worker', 'bits_up_total', 'bits_down', 'time_ms'];
const STATUSES = ['ok', 'diverged', 'errored'];

export interface BlockProblem {
  /**
   * `partial`: the rows are a correct beginning of the run that stops early with status ok or a cut last
   * line (what a kill -9 leaves at the end of a file); `damaged`: anything else.
   */
  readonly kind: 'partial' | 'damaged';
  /** 1-based line of the file where the problem is. */
  readonly line: number;
  readonly reason: string;
}

/** The cells dcomp writes for the planned run's configuration columns, by column name. */
function expectedConfigCells(run: PlannedRun, experiment: string, header: readonly string[]): Map<string, string> {
  const probe: RunResult = {
    status: 'completed', runId: run.id, config: run.config, labels: { stepUsed: 0, params: '', x0: '', backend: '', device: '', precision: '' },
    rows: [{ iteration: 0, epoch: 0, loss: 0, lossGap: undefined, gradNormSq: 0, trainAcc: 0, testAcc: undefined, bitsUpPerWorker: 0, bitsUpTotal: 0, bitsDown: 0, timeMs: 0 }],
  };
  const cells = runRecords(probe, experiment)[0];
  const expected = new Map<string, string>();
  for (const column of CONFIG_COLUMNS) {
    const j = header.indexOf(column);
    if (j >= 0 && j < cells.length) expected.set(column, escapeControl(cells[j]));
  }
  return expected;
}

/** A cell as formatNumber writes it: empty, nan, inf, -inf, or the shortest form that reads back to the same number. */
function isNumberCell(cell: string): boolean {
  if (cell === '' || cell === 'nan' || cell === 'inf' || cell === '-inf') return true;
  const x = Number(cell);
  return Number.isFinite(x) && String(x) === cell;
}

function numberOf(cell: string): number {
  return cell === 'inf' ? Infinity : cell === '-inf' ? -Infinity : cell === '' || cell === 'nan' ? NaN : Number(cell);
}

/**
 * Checks one run's block (consecutive records with its run_id) against the run's configuration.
 * Returns undefined when the block is exactly what the run writes.
 */
export function checkRunBlock(block: readonly CsvRecord[], header: readonly string[], run: PlannedRun, experiment: string): BlockProblem | undefined {
  const col = (name: string) => header.indexOf(name);
  const cIteration = col('iteration');
  const cStatus = col('status');
  const m = block.length;
  const damaged = (line: number, reason: string): BlockProblem => ({ kind: 'damaged', line, reason });
  if (m === 0) return damaged(0, 'no rows');

  // Whole lines first: a cut last line is what a crash leaves; a short line anywhere else is damage.
  for (let p = 0; p < m; p++) {
    const r = block[p];
    if (r.terminated && r.cells.length === header.length) continue;
    if (p === m - 1) return { kind: 'partial', line: r.line, reason: `line ${r.line} is cut short (${r.cells.length} of ${header.length} cells${r.terminated ? '' : ', no line end'})` };
    return damaged(r.line, `line ${r.line} has ${r.cells.length} cells, the header ${header.length}`);
  }

  const first = block[0];
  for (const [column, want] of expectedConfigCells(run, experiment, header)) {
    const got = first.cells[col(column)];
    if (got !== want) return damaged(first.line, `${column} is ${quoted(got)}, the run's configuration says ${quoted(want)}`);
  }
  for (const r of block) {
    for (const column of PER_RUN_COLUMNS) {
      const j = col(column);
      if (j >= 0 && r.cells[j] !== first.cells[j]) return damaged(r.line, `${column} is ${quoted(r.cells[j])} here but ${quoted(first.cells[j])} on line ${first.line} of the same run`);
    }
    for (const column of NUMERIC_COLUMNS) {
      const j = col(column);
      if (j >= 0 && !isNumberCell(r.cells[j])) return damaged(r.line, `${column} ${quoted(r.cells[j])} is not a number as dcomp writes it`);
    }
  }
  for (const column of CUMULATIVE_COLUMNS) {
    const j = col(column);
    if (j < 0) continue;
    let previous = -Infinity;
    for (const r of block) {
      const x = numberOf(r.cells[j]);
      if (Number.isNaN(x)) continue;
      if (x < previous) return damaged(r.line, `${column} decreases (${escapeControl(r.cells[j])} after ${previous}); it is cumulative`);
      previous = x;
    }
  }

  const { iters, log_every: logEvery } = run.config;
  const schedule = loggedIterations(iters, logEvery);
  const scheduleText = `0..${iters} by ${logEvery}`;
  const lastStatus = block[m - 1].cells[cStatus];
  for (let p = 0; p < m; p++) {
    const r = block[p];
    const status = r.cells[cStatus];
    const cell = r.cells[cIteration];
    const it = Number(cell);
    if (!STATUSES.includes(status)) return damaged(r.line, `status ${quoted(status)}; expected one of ${STATUSES.join(', ')}`);
    if (p < m - 1 && status !== 'ok') return damaged(r.line, `status ${status} on a row that is not the run's last`);
    if (!(Number.isInteger(it) && it >= 0 && String(it) === cell)) return damaged(r.line, `iteration ${quoted(cell)} is not an integer ≥ 0`);
    if (p >= schedule.length) return damaged(r.line, `iteration ${it} after the run's last logged iteration ${iters} (a duplicated or extra row)`);
    const want = schedule[p];
    if (it === want) continue;
    // A run that diverged stops where its iterate became non-finite, which may be an unlogged iteration.
    if (p === m - 1 && lastStatus === 'diverged' && p > 0 && it > schedule[p - 1] && it < want) continue;
    if (p > 0 && it === Number(block[p - 1].cells[cIteration])) return damaged(r.line, `iteration ${it} appears twice (lines ${block[p - 1].line} and ${r.line})`);
    if (it > want) return damaged(r.line, `iteration ${want} is missing (line ${r.line} has iteration ${it}; the run logs ${scheduleText})`);
    return damaged(r.line, `iteration ${it} out of order (expected ${want}; the run logs ${scheduleText})`);
  }
  if (lastStatus === 'ok' && m < schedule.length) {
    const r = block[m - 1];
    return { kind: 'partial', line: r.line, reason: `the run stops at iteration ${r.cells[cIteration]} with status ok; it logs ${scheduleText}` };
  }
  return undefined;
}

/** Consecutive records with the same run_id. */
export function runBlocks(records: readonly CsvRecord[], cRunId: number): CsvRecord[][] {
  const blocks: CsvRecord[][] = [];
  for (const r of records) {
    const last = blocks[blocks.length - 1];
    if (last !== undefined && last[0].cells[cRunId] === r.cells[cRunId]) last.push(r);
    else blocks.push([r]);
  }
  return blocks;
}
