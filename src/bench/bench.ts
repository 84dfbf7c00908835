/**
 * Running a matrix: up to `jobs` runs at once, each unit's rows written as one block in matrix order as
 * soon as every unit before it is written (a unit that finishes early waits in memory). The bytes
 * written therefore do not depend on `jobs` or on timing (apart from the time_ms column).
 */
import { csvLines, runRecords } from '../report/csv.js';
import { StoppedError, type RunExecutor } from './pool.js';
import type { PlannedRun, RunUnit } from './matrix.js';
import { unstartedLabels } from './runner.js';
import type { MetricRow, RunResult } from './types.js';

export interface BenchHooks {
  onRunStart?(run: PlannedRun): void;
  onRunProgress?(run: PlannedRun, iteration: number): void;
  onRunEnd?(run: PlannedRun, result: RunResult): void;
  /** After a unit's block is written; `selection` is set for step sweeps under `select: best`. */
  onUnitWritten?(unit: RunUnit, kept: RunResult, selection: Selection | undefined): void;
}

export interface Selection {
  readonly keptIndex: number;
  readonly results: readonly RunResult[];
}

export interface BenchOptions {
  readonly experiment: string;
  readonly units: readonly RunUnit[];
  readonly jobs: number;
  readonly execute: RunExecutor;
  /** Appends text durably (the CLI writes and fsyncs; tests collect). Called in matrix order. */
  readonly write: (text: string) => void;
  readonly hooks?: BenchHooks;
  readonly signal?: AbortSignal;
  /** `select: best` criterion (default: the final ‖∇f‖²). */
  readonly selectBy?: SelectBy;
}

export interface BenchOutcome {
  /** Units written by this call. */
  readonly written: number;
  /** Written units whose kept run diverged or errored. */
  readonly failed: readonly RunResult[];
  /** Stopped by the signal before every unit was written. */
  readonly interrupted: boolean;
}

/** A run that threw (or whose worker died) is recorded as errored, like one the runner reports as such. */
export function erroredResult(run: PlannedRun, message: string): RunResult {
  return { status: 'errored', runId: run.id, config: run.config, labels: unstartedLabels(run.config), rows: [], message };
}

/** A run must leave at least one row so that the CSV records its status; an errored run with none gets this one. */
function placeholderRow(): MetricRow {
  return {
    iteration: 0, epoch: NaN, loss: NaN, lossGap: undefined, gradNormSq: NaN, trainAcc: NaN, testAcc: undefined,
    bitsUpPerWorker: NaN, bitsUpTotal: NaN, bitsDown: NaN, timeMs: NaN,
  };
}

/** The CSV block of one written run. */
export function resultBlock(result: RunResult, experiment: string): string {
  const withRow = result.rows.length === 0 ? { ...result, rows: [placeholderRow()] } : result;
  return csvLines(runRecords(withRow as RunResult, experiment));
}

/** What `select: best` minimises at a run's last row (experiment key `select_by`). */
export type SelectBy = 'grad_norm_sq' | 'loss';

function finalValue(result: RunResult, by: SelectBy): number {
  const last = result.rows[result.rows.length - 1];
  return last === undefined ? NaN : by === 'loss' ? last.loss : last.gradNormSq;
}

/**
 * `select: best`: the completed run with the lowest final ‖∇f‖² (ties: the earlier step of the sweep);
 * when none completed, the first run (so its failure is recorded).
 */
export function selectBest(results: readonly RunResult[], by: SelectBy = 'grad_norm_sq'): number {
  let best = -1;
  results.forEach((r, i) => {
    const g = finalValue(r, by);
    if (r.status !== 'completed' || !Number.isFinite(g)) return;
    if (best < 0 || g < finalValue(results[best], by)) best = i;
  });
  return best < 0 ? 0 : best;
}

export async function runBench(options: BenchOptions): Promise<BenchOutcome> {
  const { units, execute, hooks, signal } = options;
  const flat = units.flatMap((unit, u) => unit.runs.map((run, r) => ({ u, r, run })));
  const results: Array<Array<RunResult | undefined>> = units.map((unit) => new Array(unit.runs.length).fill(undefined));
  let nextStart = 0;
  let nextWrite = 0;
  let interrupted = false;
  const failed: RunResult[] = [];

  const flush = () => {
    while (nextWrite < units.length && !interrupted) {
      const unit = units[nextWrite];
      const done = results[nextWrite];
      if (done.some((r) => r === undefined)) return;
      const all = done as RunResult[];
      const keptIndex = all.length > 1 ? selectBest(all, options.selectBy) : 0;
      const kept = all[keptIndex];
      options.write(resultBlock(kept, options.experiment));
      if (kept.status !== 'completed') failed.push(kept);
      hooks?.onUnitWritten?.(unit, kept, all.length > 1 ? { keptIndex, results: all } : undefined);
      results[nextWrite] = []; // written: let the rows go
      nextWrite++;
    }
  };

  const lane = async () => {
    while (nextStart < flat.length && !interrupted) {
      if (signal?.aborted) {
        interrupted = true;
        return;
      }
      const { u, r, run } = flat[nextStart++];
      hooks?.onRunStart?.(run);
      let result: RunResult;
      try {
        const out = await execute(run.config, (iteration) => hooks?.onRunProgress?.(run, iteration));
        result = 'runId' in out ? out : erroredResult(run, out.message);
      } catch (err) {
        if (err instanceof StoppedError || signal?.aborted) {
          interrupted = true;
          return;
        }
        result = erroredResult(run, err instanceof Error ? err.message : String(err));
      }
      if (signal?.aborted) {
        interrupted = true;
        return;
      }
      results[u][r] = result;
      hooks?.onRunEnd?.(run, result);
      flush();
    }
  };

  const lanes = Math.max(1, Math.min(options.jobs, flat.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  if (signal?.aborted) interrupted = true;
  return { written: nextWrite, failed, interrupted: interrupted && nextWrite < units.length };
}
