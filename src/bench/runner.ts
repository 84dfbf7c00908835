/**
 * Runs one configuration end to end: data → shards → problem → compressors → method, logging the
 * metrics of spec §5 at iteration 0, every `logEvery` steps and the last step.
 *
 * `prepareRun` does everything that can fail because of bad input (it throws UsageError or a data
 * error, so `dcomp run` can exit 2 or 1 with the message); `executeRun` only iterates. `runOne`
 * combines them and turns any failure into an `errored` result, so a matrix goes on.
 */
import { performance } from 'node:perf_hooks';
import { createRng } from '../core/rng.js';
import { DataFormatError, DcompError, UsageError } from '../core/errors.js';
import { loadDataset } from '../data/resolve.js';
import { splitShards } from '../data/split.js';
import type { LabeledData } from '../data/types.js';
import { compressorSpec } from '../compressors/registry.js';
import type { Compressor } from '../compressors/types.js';
import { methodSpec } from '../methods/registry.js';
import { createOracle } from '../methods/oracle.js';
import { resolveStepSize } from '../methods/step.js';
import type { Method, MethodEnv, MethodState } from '../methods/types.js';
import { problemSpec } from '../problems/registry.js';
import { cachedOptimum } from '../problems/optimum-cache.js';
import type { Problem } from '../problems/types.js';
import { normalizeConfig, runId } from './config.js';
import type { MetricRow, RunConfig, RunResult } from './types.js';

export interface RunEnvironment {
  /** --data-dir */
  dataDir?: string;
  /** $DCOMP_DATA_DIR, passed in by the CLI (lower layers never read the environment). */
  envDataDir?: string;
  /** User cache dir (datasets, f* cache). */
  cacheDir: string;
  /** Report download progress (the CLI draws a bar on a TTY). */
  onDownloadProgress?: (received: number, total: number | undefined) => void;
}

export interface RunHooks {
  onRow?(row: MetricRow): void;
  signal?: AbortSignal;
}

/** Everything a run needs, built and validated before the first step. */
export interface PreparedRun {
  readonly config: RunConfig;
  readonly runId: string;
  readonly problem: Problem;
  readonly method: Method;
  readonly env: MethodEnv;
  readonly x0: Float64Array;
  readonly stepUsed: number;
  readonly fStar: number | undefined;
  readonly test: LabeledData | undefined;
  readonly precision: string;
}

/** f(x) above this multiple of f(x⁰) (or non-finite) marks a run diverged (spec §5). */
const DIVERGENCE_FACTOR = 1e10;

export async function prepareRun(input: RunConfig, environment: RunEnvironment): Promise<PreparedRun> {
  const config = normalizeConfig(input);
  if (config.backend === 'gpu') {
    throw new UsageError('--backend: the gpu backend (gpu.js kernels, float32) is not available in this version; use --backend cpu (float64, the reference)');
  }
  const mSpec = methodSpec(config.method);
  const cSpec = compressorSpec(config.compressor);
  const pSpec = problemSpec(config.problem);
  const locations = { dataDir: environment.dataDir, envDataDir: environment.envDataDir, cacheDir: environment.cacheDir, onDownloadProgress: environment.onDownloadProgress };

  // loadDataset verifies a named dataset's checksum against the registry.
  const data = await loadDataset(config.dataset, { ...locations, features: config.features });
  const d = data.X.cols;
  if (config.workers > data.X.rows) throw new UsageError(`--workers: expected at most ${data.X.rows} (the rows of ${config.dataset}), got ${config.workers}`);
  if (config.k !== undefined && config.k > d) throw new UsageError(`--k: expected an integer with 1 ≤ k ≤ d = ${d}, got ${config.k}`);
  let test: LabeledData | undefined;
  if (config.test !== undefined) {
    try {
      test = await loadDataset(config.test, { ...locations, features: d, labels: data.labelValues });
    } catch (err) {
      // The usual cause: the test file has features the training file never uses (a1a vs a9a).
      if (err instanceof DataFormatError && /exceeds --features/.test(err.message) && config.features === undefined) {
        throw new DataFormatError(err.file, err.line, `${err.message.slice(err.message.indexOf(': ') + 2)} (the test set is read with the training set's d = ${d}; pass --features with the larger dimension to align them)`);
      }
      throw err;
    }
  }

  const shards = splitShards(data, config.workers, config.split, createRng(config.seed, 'split'));
  const problem = pSpec.create(data, { l2: config.l2, shards });
  const l2 = config.l2 ?? pSpec.defaultL2;

  const compressors: Compressor[] = [];
  for (let i = 0; i < config.workers; i++) {
    compressors.push(
      cSpec.create({
        d, k: config.k, floatBits: config.floatBits, rng: createRng(config.seed, 'compressor', i),
        ranks: config.ranks, dims: config.dims, innerSteps: config.innerSteps, innerStep: config.innerStep, impCScale: config.impCScale,
      }),
    );
  }
  const stepUsed = resolveStepSize(config.step, mSpec, () => ({ smoothness: requireSmoothness(problem, config), compressor: cSpec, d, k: config.k }), config.compressor);
  const oracle = createOracle(problem, { batch: config.batch, seed: config.seed });
  const env: MethodEnv = { problem, compressors, stepSize: stepUsed, floatBits: config.floatBits, k: config.k, oracle };
  const x0 = startingPoint(config.x0, d, config.seed);
  const optimum = cachedOptimum(
    problem,
    { datasetSha256: data.sha256, problem: config.problem, l2, split: config.split, workers: config.workers, seed: config.seed },
    environment.cacheDir,
  );
  return {
    config, runId: runId(config), problem, method: mSpec.create(), env, x0, stepUsed, fStar: optimum?.fStar, test, precision: 'float64',
  };
}

function requireSmoothness(problem: Problem, config: RunConfig) {
  const s = problem.smoothness();
  if (!s) throw new UsageError(`--step: problem ${config.problem} has no smoothness constants, so no theory step; pass a number`);
  return s;
}

/** x⁰ per spec §1: zeros, or i.i.d. N(0, σ²) from the run's seed. */
export function startingPoint(kind: string, d: number, seed: number): Float64Array {
  const x = new Float64Array(d);
  if (kind === 'zeros') return x;
  const sigma = kind.includes(':') ? Number(kind.slice(kind.indexOf(':') + 1)) : 1;
  const rng = createRng(seed, 'x0');
  for (let j = 0; j < d; j++) x[j] = sigma * rng.normal();
  return x;
}

/** Iterates a prepared run; never throws for numerical trouble (that is `diverged`). */
export function executeRun(prepared: PreparedRun, hooks: RunHooks = {}): RunResult {
  const { config, problem, method, env } = prepared;
  const n = config.workers;
  const N = problem.totalRows;
  const grad = new Float64Array(problem.d);
  const rows: MetricRow[] = [];
  let elapsed = 0;

  const record = (state: MethodState): MetricRow => {
    const loss = problem.gradient(state.x, grad);
    let gradNormSq = 0;
    for (let j = 0; j < grad.length; j++) gradNormSq += grad[j] * grad[j];
    const row: MetricRow = {
      iteration: state.iteration,
      epoch: state.rowsProcessed / N,
      loss,
      lossGap: prepared.fStar === undefined ? undefined : loss - prepared.fStar,
      gradNormSq,
      trainAcc: problem.accuracy(state.x),
      testAcc: prepared.test === undefined ? undefined : problem.accuracy(state.x, prepared.test),
      bitsUpPerWorker: state.bitsUpTotal / n,
      bitsUpTotal: state.bitsUpTotal,
      bitsDown: state.bitsDownTotal / n,
      timeMs: elapsed,
    };
    rows.push(row);
    hooks.onRow?.(row);
    return row;
  };
  const base = { runId: prepared.runId, config, stepUsed: prepared.stepUsed, precision: prepared.precision };

  let t0 = performance.now();
  const state = method.init(prepared.x0, env);
  elapsed += performance.now() - t0;
  const first = record(state);
  const limit = Math.abs(first.loss) * DIVERGENCE_FACTOR;
  const diverged = (row: MetricRow) => !Number.isFinite(row.loss) || row.loss > limit;
  if (diverged(first)) return { ...base, status: 'diverged', rows, message: `f(x⁰) = ${first.loss} is not finite` };

  for (let t = 1; t <= config.iters; t++) {
    if (hooks.signal?.aborted) return { ...base, status: 'errored', rows, message: 'interrupted' };
    t0 = performance.now();
    method.step(state, env);
    elapsed += performance.now() - t0;
    // A non-finite iterate is divergence whether or not this iteration is logged (O(d) check).
    const logged = t % config.logEvery === 0 || t === config.iters || !finiteVector(state.x);
    if (!logged) continue;
    const row = record(state);
    if (diverged(row)) {
      return { ...base, status: 'diverged', rows, message: `diverged at iteration ${t}: f = ${row.loss} (limit ${limit}: 1e10·f(x⁰))` };
    }
  }
  return { ...base, status: 'completed', rows };
}

function finiteVector(x: Float64Array): boolean {
  for (let j = 0; j < x.length; j++) if (!Number.isFinite(x[j])) return false;
  return true;
}

/** Prepare and execute; any failure becomes an `errored` result so that a matrix goes on. */
export async function runOne(config: RunConfig, environment: RunEnvironment, hooks: RunHooks = {}): Promise<RunResult> {
  let prepared: PreparedRun;
  try {
    prepared = await prepareRun(config, environment);
  } catch (err) {
    return erroredResult(config, err);
  }
  try {
    return executeRun(prepared, hooks);
  } catch (err) {
    const result = erroredResult(prepared.config, err);
    return { ...result, stepUsed: prepared.stepUsed };
  }
}

function erroredResult(config: RunConfig, err: unknown): RunResult {
  let normalized: RunConfig;
  try {
    normalized = normalizeConfig(config);
  } catch {
    normalized = config;
  }
  const message = err instanceof DcompError ? err.message : err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { status: 'errored', runId: runId(normalized), config: normalized, stepUsed: undefined, precision: 'float64', rows: [], message };
}
