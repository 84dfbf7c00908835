/**
 * `dcomp perf --backend gpu`: the gpu.js kernels, per kernel and per iteration, in every mode given,
 * each row beside the float64 CPU figure of the same operation (baseline kind `cpu`, measured in the
 * same process just before). Each mode runs in a child process of its own (gpu-perf-main.ts): on
 * Mesa, Dawn's EGL and headless-gl's GLX cannot share a process, and one mode's crash must not lose
 * the others' figures.
 *
 * Rows (unit µs per call):
 *  - gpu-iteration: ∇D_i(x) for all n shards (margins, σ, Aᵀr in one dispatch chain; x in, n·d out),
 *    end to end from the main thread (worker hop included), vs the n float64 local gradients.
 *  - gpu-gd: one gd step on the gpu problem vs on the float64 problem (gradients + update).
 *  - gpu-kernel: one kernel timed inside the worker (gpu.js upload, dispatch, readback), no baseline.
 *  - gpu-imp-a / gpu-topk: one worker's imp-a scores; the top-k selection on d entries.
 *  - gpu-mlp-iteration / gpu-mlp-loss / gpu-mlp-gd / gpu-mlp-kernel: the mlp (hidden 32 and 64,32 by
 *    default; x⁰ the seeded initialisation): every shard's gradient and loss terms in one pass, the
 *    loss terms alone (forward only), a gd step (γ = 0.5), each beside its float64 cpu figure, and
 *    every mlp kernel timed inside the worker (no baseline: the float64 path is not split that way).
 *  - gpu-mlp-imp-a, gpu-topk-scaling: see gpu-perf-extra.ts.
 */
import { execFile } from 'node:child_process';
import { GpuBackend, type RowLayout, type TimedKernel } from '../backends/gpujs/index.js';
import type { GpuMode } from '../backends/types.js';
import { TopKSelector } from '../compressors/select.js';
import { GpuTopKCompressor } from '../compressors/topk-gpu.js';
import { createRng } from '../core/rng.js';
import { readLibsvmFile } from '../data/libsvm.js';
import { splitShards } from '../data/split.js';
import { gdSpec } from '../methods/gd.js';
import { createOracle } from '../methods/oracle.js';
import type { MethodEnv } from '../methods/types.js';
import { logregSpec, type LogregProblem } from '../problems/logreg.js';
import { GpuLogregProblem, logregShardData } from '../problems/logreg-gpu.js';
import { mlpSpec } from '../problems/mlp.js';
import { checkGpuMlpGradients, GpuMlpProblem } from '../problems/mlp-gpu.js';
import type { LabeledData } from '../data/types.js';
import type { Problem } from '../problems/types.js';
import { mlpImpARecords, topkScalingRecords } from './gpu-perf-extra.js';
import { measureSync, summarize, timeRatio, bestTimeRatio, DEFAULT_MEASURE, type MeasureOptions, type PerfRecord, type Stats } from './perf.js';

export type ConcreteGpuMode = Exclude<GpuMode, 'auto'>;

export interface GpuPerfDataset {
  readonly name: string;
  /** A LIBSVM file (the parent resolves names; the child reads the path). */
  readonly path: string;
}

export interface GpuPerfOptions {
  readonly datasets: readonly GpuPerfDataset[];
  readonly modes: readonly ConcreteGpuMode[];
  /** Shards (workers); default 20, as the cpu gd cases. */
  readonly workers?: number;
  readonly layouts?: readonly RowLayout[];
  readonly measure?: MeasureOptions;
  /** Hidden layers of the mlp rows (default [[32], [64, 32]]; [] for none). */
  readonly mlpHidden?: readonly (readonly number[])[];
  /** Per mode, so a hung device cannot hold the command forever. */
  readonly timeoutMs?: number;
}

export const GPU_PERF_WORKERS = 20;
const MARKER = 'dcomp-gpu-perf:';

function record(caseName: string, dataset: string, params: string, stats: Stats | undefined, cpu: Stats | undefined, note: string): PerfRecord {
  return {
    case: caseName, dataset, params, unit: 'us', stats,
    baseline: cpu ? { kind: 'cpu', stats: cpu } : undefined,
    ratio: timeRatio('us', stats, cpu),
    ratioBest: bestTimeRatio('us', stats, cpu),
    note,
  };
}

function gdEnv(problem: Problem, gamma: number): MethodEnv {
  return { problem, compressors: [], stepSize: gamma, floatBits: 32, oracle: createOracle(problem, { seed: 0 }) };
}

/**
 * One gd step per call, the run going on from x0 (each step is at a new point: the gpu problem
 * serves a repeated point from its cache, which would time nothing).
 */
function gdStepper(problem: Problem, gamma: number, x0: Float64Array): () => void {
  const env = gdEnv(problem, gamma);
  const method = gdSpec.create();
  const state = method.init(x0, env);
  return () => method.step(state, env);
}

/** The figures of one mode (runs in the child process). */
export async function gpuPerfHere(mode: ConcreteGpuMode, options: Omit<GpuPerfOptions, 'modes'>): Promise<PerfRecord[]> {
  const measure = options.measure ?? DEFAULT_MEASURE;
  const n = options.workers ?? GPU_PERF_WORKERS;
  const layouts = options.layouts ?? ['csr', 'ell'];
  const records: PerfRecord[] = [];
  const backend = await GpuBackend.open(mode);
  const device = `${backend.label.backend} on ${backend.selected.device}`;
  try {
    for (const ds of options.datasets) {
      const data = await readLibsvmFile(ds.path);
      const shards = splitShards(data, n, 'iid', createRng(0, 'split'));
      const reference = logregSpec.create(data, { shards }) as LogregProblem;
      const d = reference.d;
      const x = Float64Array.from({ length: d }, (_, j) => 0.1 * Math.sin(j + 1));
      const g = new Float64Array(d);
      const cpuGradients = measureSync(() => {
        for (const w of reference.workers) w.gradientOnly(x, g);
      }, measure).stats;
      const gamma = 1 / reference.smoothness().L;
      const cpuGd = measureSync(gdStepper(reference, gamma, x), measure).stats;
      const cpuLoss = measureSync(() => reference.loss(x), measure).stats;
      for (const layout of layouts) {
        const kernels = backend.logregKernels(logregShardData(reference), { layout });
        const problem = new GpuLogregProblem(reference, kernels);
        const outs = reference.workers.map(() => new Float64Array(d));
        const tag = `mode=${mode} n=${n} rows=${layout.toUpperCase()}`;
        // A new point per call (x₀ and x₀ + 2^-20 alternate), as in a run.
        const x1 = Float64Array.from(x, (v) => v + 2 ** -20);
        let flip = false;
        const iteration = measureSync(() => kernels.gradients((flip = !flip) ? x : x1, outs), measure).stats;
        records.push(record('gpu-iteration', ds.name, tag, iteration, cpuGradients, `${device}; kernels built in ${kernels.built.buildMs.toFixed(0)} ms`));
        records.push(record('gpu-gd', ds.name, tag, measureSync(gdStepper(problem, gamma, x), measure).stats, cpuGd, device));
        const kernelRows: Array<[TimedKernel, Stats | undefined]> = [
          ['rowCoefficients', undefined],
          ['columnSums', undefined],
          ['lossTerms', cpuLoss],
        ];
        if (layout === layouts[0]) kernelRows.push(['shardGradient', undefined], ['coordinateDecrease', undefined]);
        for (const [what, cpu] of kernelRows) {
          const sample = backend.time(what, Math.max(measure.reps, 10));
          const stats = summarize(sample.ms.map((ms) => ms * 1e3));
          records.push(record('gpu-kernel', ds.name, `${tag} ${sample.kernel}`, stats, cpu, `${device}; in the worker, gpu.js upload and readback included`));
        }
        if (layout === layouts[0]) {
          const v = Float64Array.from({ length: d }, (_, j) => Math.cos(3 * j));
          const out = new Float64Array(d);
          const eta = gamma;
          const cpuImpA = measureSync(() => reference.workers[0].coordinateDecrease(x, v, eta, out), measure).stats;
          const gpuImpA = measureSync(() => problem.workers[0].coordinateDecrease(x, v, eta, out), measure).stats;
          records.push(record('gpu-imp-a', ds.name, `mode=${mode} worker 0 of ${n}`, gpuImpA, cpuImpA, device));
          const k = Math.max(1, Math.round(d / 10));
          const topk = new GpuTopKCompressor(d, k, 32, backend.topKKernels(d));
          const selector = new TopKSelector(d);
          const indices = new Int32Array(k);
          const cpuTopk = measureSync(() => selector.select(v, d, k, indices, true), measure).stats;
          const gpuTopk = measureSync(() => topk.compress(v), measure).stats;
          records.push(record('gpu-topk', ds.name, `mode=${mode} d=${d} k=${k}`, gpuTopk, cpuTopk, `${device}; radix search over the float32 key bits, 8 dispatches of O(16·d) compares`));
        }
      }
      for (const hidden of options.mlpHidden ?? GPU_PERF_MLP_HIDDEN) records.push(...mlpRecords(backend, device, mode, ds.name, shards, data, hidden, measure));
      records.push(...mlpImpARecords(backend, mode, ds.name, data, shards, measure, device));
    }
    records.push(...topkScalingRecords(backend, measure, device));
  } finally {
    backend.dispose();
  }
  return records;
}

export const GPU_PERF_MLP_HIDDEN: readonly (readonly number[])[] = [[32], [64, 32]];

/** The mlp rows of one dataset and network (see the header). */
function mlpRecords(
  backend: GpuBackend, device: string, mode: ConcreteGpuMode, dataset: string, shards: Int32Array[], data: LabeledData, hidden: readonly number[], measure: MeasureOptions,
): PerfRecord[] {
  const records: PerfRecord[] = [];
  const reference = mlpSpec.create(data, { shards, values: { hidden: [...hidden], l2: 0 } });
  const d = reference.d;
  const n = reference.workers.length;
  const x = new Float64Array(d);
  reference.initialize(createRng(0, 'init'), x);
  const x1 = Float64Array.from(x, (v) => v + 2 ** -20);
  const g = new Float64Array(d);
  const gamma = 0.5;
  const cpuGradients = measureSync(() => {
    for (const w of reference.workers) w.gradientOnly(x, g);
  }, measure).stats;
  const cpuLoss = measureSync(() => reference.loss(x), measure).stats;
  const cpuGd = measureSync(gdStepper(reference, gamma, x), measure).stats;
  // not disposed: the next kernels replace these in the worker, and dispose() would end the backend
  const kernels = backend.mlpKernels(reference.workers.map((w) => ({ A: w.A, b: w.b })), { inputs: reference.layout.sizes[0], hidden, params: d });
  const problem = new GpuMlpProblem(reference, kernels);
  const check = checkGpuMlpGradients(problem, x);
  const net = reference.layout.sizes.join('→');
  const tag = `mode=${mode} n=${n} mlp=${net}`;
  const outs = reference.workers.map(() => new Float64Array(d));
  const terms = new Float64Array(reference.totalRows);
  let flip = false;
  const iteration = measureSync(() => kernels.evaluate((flip = !flip) ? x : x1, outs, terms), measure).stats;
  const built = `kernels built in ${kernels.built.buildMs.toFixed(0)} ms; gradients at x⁰ within ${check.maxScaledError.toExponential(1)} of float64 (contract)`;
  records.push(record('gpu-mlp-iteration', dataset, tag, iteration, cpuGradients, `${device}; ${built}`));
  const loss = measureSync(() => kernels.evaluate((flip = !flip) ? x : x1, undefined, terms), measure).stats;
  records.push(record('gpu-mlp-loss', dataset, tag, loss, cpuLoss, `${device}; forward and loss terms only`));
  records.push(record('gpu-mlp-gd', dataset, tag, measureSync(gdStepper(problem, gamma, x), measure).stats, cpuGd, device));
  for (const sample of kernels.timeKernels(x, Math.max(measure.reps, 10))) {
    const stats = summarize(sample.ms.map((ms) => ms * 1e3));
    records.push(record('gpu-mlp-kernel', dataset, `${tag} ${sample.kernel}`, stats, undefined, `${device}; in the worker, gpu.js upload and readback included`));
  }
  return records;
}

/** The line the child prints with its records. */
export function formatGpuPerfLine(records: PerfRecord[]): string {
  return MARKER + JSON.stringify(records);
}

/**
 * Every mode's figures, each mode in a child process. A mode that cannot run gives one row with
 * `error` set (the reason), so the table says what was not measured and why.
 */
export async function runGpuPerf(options: GpuPerfOptions): Promise<PerfRecord[]> {
  const entry = new URL('./gpu-perf-main.js', import.meta.url).pathname;
  const records: PerfRecord[] = [];
  for (const mode of options.modes) {
    const args = JSON.stringify({ mode, options: { ...options, modes: undefined } });
    const result = await new Promise<PerfRecord[]>((resolve) => {
      execFile(process.execPath, [entry, args], { timeout: options.timeoutMs ?? 1_800_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith(MARKER));
        if (line) {
          resolve(JSON.parse(line.slice(MARKER.length)) as PerfRecord[]);
          return;
        }
        const why = stderr.split('\n').filter((l) => l.startsWith('dcomp-gpu-perf-error:')).map((l) => l.slice(21)).join(' ') ||
          (err ? (err.killed ? 'timed out' : `exited with ${err.code ?? err.signal}`) : 'no result');
        resolve([{ case: 'gpu-iteration', dataset: '', params: `mode=${mode}`, unit: 'us', error: why.trim() }]);
      });
    });
    records.push(...result);
  }
  return records;
}
