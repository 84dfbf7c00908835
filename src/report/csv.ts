/**
 * Pure serializers from run results to the long-format CSV of spec §6. No I/O here.
 */
import { stringify } from 'csv-stringify/sync';
import { escapeControl } from '../core/text.js';
import type { MetricRow, RunConfig, RunLabels, RunResult } from '../bench/types.js';

/** Spec v2 §6, in this order. */
export const RUN_COLUMNS = [
  'run_id', 'dataset', 'problem', 'method', 'compressor', 'k', 'workers', 'split', 'seed', 'step', 'l2', 'batch', 'x0', 'params',
  'backend', 'device', 'precision',
  'iteration', 'epoch', 'loss', 'loss_gap', 'grad_norm_sq', 'train_acc', 'test_acc',
  'bits_up_per_worker', 'bits_up_total', 'bits_down', 'time_ms', 'status',
] as const;

/** Bench files carry the experiment name first; everything else is the `dcomp run` layout. */
export const BENCH_COLUMNS = ['experiment', ...RUN_COLUMNS] as const;

/**
 * Shortest string that reads back to the same float64 (JavaScript's Number→String is exactly that);
 * non-finite values as `inf`, `-inf`, `nan`, which pandas, DuckDB and R all read as floats.
 */
export function formatNumber(x: number | undefined): string {
  if (x === undefined) return '';
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return String(x);
}

export function statusLabel(result: RunResult): string {
  return result.status === 'completed' ? 'ok' : result.status;
}

/** The configuration cells of a run's rows (run_id … precision). */
export function runPrefix(runId: string, c: RunConfig, l: RunLabels): string[] {
  const k = c.options.k;
  const l2 = c.options.l2;
  return [
    runId, c.dataset, c.problem, c.method, c.compressor, k === undefined ? '' : String(k), String(c.workers), c.split,
    String(c.seed), formatNumber(l.stepUsed), typeof l2 === 'number' ? formatNumber(l2) : '', c.batch === undefined ? '' : String(c.batch),
    l.x0, l.params, l.backend, l.device, l.precision,
  ];
}

/** One row's cells after the prefix (iteration … status). */
export function rowCells(prefix: readonly string[], row: MetricRow, status: string): string[] {
  return [
    ...prefix,
    String(row.iteration), formatNumber(row.epoch), formatNumber(row.loss), formatNumber(row.lossGap), formatNumber(row.gradNormSq),
    formatNumber(row.trainAcc), formatNumber(row.testAcc), formatNumber(row.bitsUpPerWorker), formatNumber(row.bitsUpTotal),
    formatNumber(row.bitsDown), formatNumber(row.timeMs), status,
  ];
}

/**
 * One record (array of cells) per logged iteration; `status` is `ok` except on the last row of a run that
 * stopped early. (The bench gives an errored run that logged nothing one placeholder row first.)
 */
export function runRecords(result: RunResult, experiment?: string): string[][] {
  const prefix = runPrefix(result.runId, result.config, result.labels);
  const last = result.rows.length - 1;
  return result.rows.map((row: MetricRow, i) => {
    const cells = rowCells(prefix, row, i === last && result.status !== 'completed' ? result.status : 'ok');
    return experiment === undefined ? cells : [experiment, ...cells];
  });
}

/** CSV text of the records; control characters in cells (from dataset names or merged files) are escaped. */
export function csvLines(records: readonly (readonly string[])[]): string {
  return stringify(records.map((r) => r.map((c) => escapeControl(c))), { eof: true, record_delimiter: 'unix' });
}

export function csvHeader(withExperiment: boolean): string {
  return csvLines([withExperiment ? [...BENCH_COLUMNS] : [...RUN_COLUMNS]]);
}
