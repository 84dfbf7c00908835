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
import { ceilLog2 } from '../core/integer.js';
import { DataFormatError, DcompError } from '../core/errors.js';
import { OptionError } from '../core/options.js';
import { loadDataset } from '../data/resolve.js';
import { HOLDOUT_RNG_STREAM, holdoutSplit, splitShards } from '../data/split.js';
import type { LabeledData } from '../data/types.js';
import { checkX0Length, parseX0, readX0File, X0_ACCEPTS } from '../data/x0.js';
import { compressorSpec } from '../compressors/registry.js';
import type { Compressor } from '../compressors/types.js';
import { methodSpec } from '../methods/registry.js';
import { createOracle } from '../methods/oracle.js';
import { resolveStepSize } from '../methods/step.js';
import type { Method, MethodEnv, MethodState } from '../methods/types.js';
import { problemSpec } from '../problems/registry.js';
import { cachedOptimum } from '../problems/optimum-cache.js';
import type { Problem } from '../problems/types.js';
import { normalizeConfig, paramsColumn, runId, type RawOptions, type RunContent } from './config.js';
import { isLoggedIteration } from './schedule.js';
import { prepareGpuRun } from './gpu-run.js';
import type { GpuMode, TopKKernels } from '../backends/types.js';
import type { MetricRow, RunConfig, RunLabels, RunResult } from './types.js';

export interface RunEnvironment {
  /** --data-dir */
  dataDir?: string;
  /** $DCOMP_DATA_DIR, passed in by the CLI (lower layers never read the environment). */
  envDataDir?: string;
  /** User cache dir (datasets, f* cache). */
  cacheDir: string;
  /** A line for the run log (stderr), e.g. the gpu device used. */
  onLog?: (line: string) => void;
  /** How an option error names its option: as a flag (`dcomp run`) or as a YAML key (bench runs). */
  optionStyle?: 'flag' | 'yaml';
  /** Report download progress (the CLI draws a bar on a TTY). */
  onDownloadProgress?: (received: number, total: number | undefined) => void;
}

export interface RunHooks {
  onRow?(row: MetricRow, status: RowStatus): void;
  signal?: AbortSignal;
  /** false: rows only go to onRow (streaming); default true. */
  keepRows?: boolean;
}

/** Everything a run needs, built and validated before the first step. */
export interface PreparedRun {
  readonly config: RunConfig;
  readonly runId: string;
  readonly problem: Problem;
  readonly method: Method;
  readonly env: MethodEnv;
  readonly x0: Float64Array;
  readonly fStar: number | undefined;
  readonly test: LabeledData | undefined;
  readonly labels: RunLabels;
  /** The files the run read (dataset, test set, x0 file), so that an output is never one of them. */
  readonly inputs: readonly string[];
  /** Frees what the run holds outside the heap (a gpu device); call once after executeRun. */
  readonly release: () => void;
}

/** f(x) above this multiple of f(x⁰) (or non-finite) marks a run diverged (spec §5). */
const DIVERGENCE_FACTOR = 1e10;

/** How long a run computes before it lets the event loop run (signals, aborts). */
const YIELD_MS = 50;

const CPU_LABELS = { backend: 'cpu', device: 'cpu', precision: 'float64' } as const;

export async function prepareRun(input: RunConfig | RawOptions, environment: RunEnvironment): Promise<PreparedRun> {
  const config = 'options' in input && typeof input.options === 'object' ? (input as RunConfig) : normalizeConfig(input as RawOptions);
  const mSpec = methodSpec(config.method);
  const cSpec = compressorSpec(config.compressor);
  const pSpec = problemSpec(config.problem);
  const locations = { dataDir: environment.dataDir, envDataDir: environment.envDataDir, cacheDir: environment.cacheDir, onDownloadProgress: environment.onDownloadProgress };

  // loadDataset verifies a named dataset's checksum against the registry.
  const loaded = await loadDataset(config.dataset, { ...locations, features: config.features });
  // --holdout f (spec v2 §1): before the split, the rows are permuted on the run's own 'holdout' stream
  // and the last ⌈f·N⌉ become the test set.
  const held = config.holdout === undefined ? undefined : holdoutSplit(loaded, config.holdout, createRng(config.seed, HOLDOUT_RNG_STREAM));
  const data: LabeledData = held?.train ?? loaded;
  if (config.workers > data.X.rows) throw new OptionError('workers', `expected at most ${data.X.rows} (the training rows of ${config.dataset}), got ${config.workers}`);
  let test: LabeledData | undefined = held?.test;
  let testSha: string | undefined;
  const inputs: string[] = [loaded.resolved.path];
  if (config.test !== undefined) {
    try {
      const file = await loadDataset(config.test, { ...locations, features: data.X.cols, labels: data.labelValues });
      test = file;
      testSha = file.sha256;
      inputs.push(file.resolved.path);
    } catch (err) {
      // The usual cause: the test file has features the training file never uses (a1a vs a9a).
      if (err instanceof DataFormatError && /exceeds --features/.test(err.message) && config.features === undefined) {
        throw new DataFormatError(err.file, err.line, `${err.message.slice(err.message.indexOf(': ') + 2)} (the test set is read with the training set's d = ${data.X.cols}; pass --features with the larger dimension to align them)`);
      }
      throw err;
    }
  }

  const shards = splitShards(data, config.workers, config.split, createRng(config.seed, 'split'), config.shard_sizes);
  const problem = pSpec.create(data, { values: config.options, shards });
  const d = problem.d;
  const indexBits = config.index_bits ?? ceilLog2(d);

  const createCompressors = (topKKernels?: TopKKernels): Compressor[] =>
    Array.from({ length: config.workers }, (_, i) =>
      cSpec.create({ d, floatBits: config.float_bits, indexBits, rng: createRng(config.seed, 'compressor', i), values: config.options, topKKernels }),
    );
  let compressors = createCompressors();
  const k = typeof config.options.k === 'number' ? config.options.k : undefined;
  const stepUsed = resolveStepSize(config.step, mSpec, () => ({ smoothness: requireSmoothness(problem, config), compressor: cSpec, d, k }), config.compressor);
  const start = startingPoint(config.x0, problem, config.seed);
  // --backend gpu: the method computes with the float32 gpu.js problem (checked against float64 at x⁰);
  // the metrics of every row stay float64, evaluated by the reference problem at the method's iterate.
  const gpu =
    config.backend === 'gpu'
      ? await prepareGpuRun(problem, start.x0, { mode: (config.gpu_mode ?? 'auto') as GpuMode, allowSoftware: config.allow_software_gpu === true, topK: config.compressor === 'topk', impAStep: config.compressor === 'imp-a' ? stepUsed : undefined })
      : undefined;
  // … and topk selects with the device's threshold (the cpu compressors above validated the options).
  if (gpu?.topK) compressors = createCompressors(gpu.topK);
  for (const line of gpu?.log ?? []) environment.onLog?.(line);
  const computed: Problem = gpu?.problem ?? problem;
  const oracle = createOracle(computed, { batch: config.batch, seed: config.seed });
  const env: MethodEnv = { problem: computed, compressors, stepSize: stepUsed, floatBits: config.float_bits, indexBits, k, oracle, options: config.options };
  const optimum = problem.convex
    ? cachedOptimum(
        problem,
        { datasetSha256: loaded.sha256, problem: config.problem, l2: config.options.l2 as number, split: config.split, workers: config.workers, seed: config.seed, shardSizes: config.shard_sizes, holdout: config.holdout },
        environment.cacheDir,
      )
    : undefined;
  const content: RunContent = { dataset: loaded.sha256, test: testSha, x0: start.sha256 };
  return {
    config,
    runId: runId(config, content),
    problem,
    method: mSpec.create(),
    env,
    x0: start.x0,
    fStar: optimum?.fStar,
    test,
    labels: { stepUsed, params: paramsColumn(config, d), x0: start.label, ...(gpu?.label ?? CPU_LABELS) },
    release: () => gpu?.backend.dispose(),
    inputs: start.path === undefined ? inputs : [...inputs, start.path],
  };
}

function requireSmoothness(problem: Problem, config: RunConfig) {
  const s = problem.smoothness();
  if (!s) throw new OptionError('step', `problem ${config.problem} has no smoothness constants, so no theory step; pass a number`);
  return s;
}

/** x⁰ per spec v2 §1, and how the CSV's `x0` column names it. */
export function startingPoint(text: string, problem: Problem, seed: number): { x0: Float64Array; label: string; sha256?: string; path?: string } {
  const d = problem.d;
  const choice = parseX0(text);
  if (choice === undefined) throw new OptionError('x0', `expected ${X0_ACCEPTS}, got ${JSON.stringify(text)}`);
  const x = new Float64Array(d);
  switch (choice.kind) {
    case 'zeros':
      return { x0: x, label: 'zeros' };
    case 'normal': {
      const rng = createRng(seed, 'x0');
      for (let j = 0; j < d; j++) x[j] = choice.sigma * rng.normal();
      return { x0: x, label: `normal:${choice.sigma}` };
    }
    case 'file': {
      const file = readX0File(choice.path);
      checkX0Length(choice.path, file, d);
      return { x0: file.values, label: `file:${file.sha256}`, sha256: file.sha256, path: choice.path };
    }
    case 'init': {
      if (!problem.initialize) throw new OptionError('x0', `problem ${problem.name} has no seeded initialisation`);
      problem.initialize(createRng(seed, 'init'), x);
      return { x0: x, label: 'init' };
    }
  }
}

/** A logged row's status: `ok`, or the early stop it is the last row of. */
export type RowStatus = 'ok' | 'diverged';

/**
 * Iterates a prepared run; never throws for numerical trouble (that is `diverged`). Rows go to
 * `hooks.onRow` as they are logged (streaming, spec §5) and are kept in the result unless
 * `hooks.keepRows` is false (memory then stays flat in the number of iterations). It yields to the
 * event loop every YIELD_MS of work, so that a signal handler can abort it between steps.
 */
export async function executeRun(prepared: PreparedRun, hooks: RunHooks = {}): Promise<RunResult> {
  // `problem` is the float64 reference (metrics); the method computes with env.problem (the gpu's on --backend gpu).
  const { config, problem, method, env } = prepared;
  const n = config.workers;
  const N = problem.totalRows;
  const grad = new Float64Array(problem.d);
  const rows: MetricRow[] = [];
  const keep = hooks.keepRows !== false;
  let elapsed = 0;
  let limit = Infinity;
  const diverged = (row: MetricRow) => !Number.isFinite(row.loss) || row.loss > limit;

  const record = (state: MethodState, nonFiniteIterate: boolean): MetricRow => {
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
    if (keep) rows.push(row);
    hooks.onRow?.(row, nonFiniteIterate || diverged(row) ? 'diverged' : 'ok');
    return row;
  };
  const base = { runId: prepared.runId, config, labels: prepared.labels };

  let t0 = performance.now();
  const state = method.init(prepared.x0, env);
  elapsed += performance.now() - t0;
  const first = record(state, !finiteVector(state.x));
  limit = Math.abs(first.loss) * DIVERGENCE_FACTOR;
  if (!Number.isFinite(first.loss) || !finiteVector(state.x)) return { ...base, status: 'diverged', rows, message: `f(x⁰) = ${first.loss} is not finite` };

  let lastYield = performance.now();
  for (let t = 1; t <= config.iters; t++) {
    if (performance.now() - lastYield > YIELD_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
    if (hooks.signal?.aborted) return { ...base, status: 'errored', rows, message: 'interrupted' };
    t0 = performance.now();
    method.step(state, env);
    elapsed += performance.now() - t0;
    // A non-finite iterate after any step is divergence (spec v2 §5), logged or not (O(d) check).
    const nonFinite = !finiteVector(state.x);
    const logged = isLoggedIteration(t, config.iters, config.log_every) || nonFinite;
    if (!logged) continue;
    const row = record(state, nonFinite);
    if (nonFinite) return { ...base, status: 'diverged', rows, message: `diverged at iteration ${t}: the iterate has a non-finite entry` };
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
    return erroredResult(config, err, environment.optionStyle);
  }
  try {
    return await executeRun(prepared, hooks);
  } catch (err) {
    return { ...erroredResult(prepared.config, err, environment.optionStyle), runId: prepared.runId, labels: prepared.labels };
  } finally {
    prepared.release();
  }
}

/** Labels of a run that never started (the CSV still says what was asked). */
export function unstartedLabels(config: RunConfig): RunLabels {
  return { stepUsed: undefined, params: '', x0: '', backend: config.backend, device: '', precision: '' };
}

function erroredResult(config: RunConfig, err: unknown, optionStyle: 'flag' | 'yaml' = 'flag'): RunResult {
  const message =
    err instanceof OptionError
      ? err.render(optionStyle === 'yaml' ? { yamlPath: err.option } : 'flag')
      : err instanceof DcompError
        ? err.message
        : err instanceof Error
          ? `${err.name}: ${err.message}`
          : String(err);
  return { status: 'errored', runId: runId(config), config, labels: unstartedLabels(config), rows: [], message };
}
