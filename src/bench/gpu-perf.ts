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
      records.push(...mlpImpARecords(backend, mode, ds.name, data, shards, measure, device));
    }
    records.push(...topkScalingRecords(backend, measure, device));
  } finally {
    backend.dispose();
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
