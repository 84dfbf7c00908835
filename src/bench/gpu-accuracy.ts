/**
 * The accuracy table of docs/backends.md: the largest relative error (max |a − r| / max |r|, see
 * src/backends/accuracy.ts) of each gpu.js kernel against the float64 reference, per dataset, over
 * three points: x = 0 (the usual x⁰), a random point (entries N(0, 0.1²), seed 0), and the iterate
 * after 100 float64 gd steps with γ = 1/L (a point where the gradient is small and cancels).
 * Run it with `npm run gpu-accuracy -- <mode> <dataset files…>` (gpu-accuracy-main.ts).
 */
import { GpuBackend } from '../backends/gpujs/index.js';
import { maxRelativeError } from '../backends/accuracy.js';
import type { GpuMode } from '../backends/types.js';
import { createRng } from '../core/rng.js';
import { readLibsvmFile } from '../data/libsvm.js';
import { splitShards } from '../data/split.js';
import { logregSpec, sigmoid, type LogregProblem } from '../problems/logreg.js';
import { GpuLogregProblem, gradientTermScale, logregShardData } from '../problems/logreg-gpu.js';

export interface AccuracyRow {
  readonly dataset: string;
  readonly kernel: string;
  /** Largest relative error over the points, and the point where it occurred. */
  readonly maxRelativeError: number;
  readonly at: string;
}

export const ACCURACY_WORKERS = 20;

/** The measured errors of one mode on one dataset file. */
export async function measureGpuAccuracy(mode: Exclude<GpuMode, 'auto'>, name: string, path: string, workers = ACCURACY_WORKERS): Promise<AccuracyRow[]> {
  const data = await readLibsvmFile(path);
  const shards = splitShards(data, workers, 'iid', createRng(0, 'split'));
  const reference = logregSpec.create(data, { shards }) as LogregProblem;
  const d = reference.d;
  const gamma = 1 / reference.smoothness().L;
  const rng = createRng(0, 'gpu-accuracy');
  const points: Array<[string, Float64Array]> = [
    ['x = 0', new Float64Array(d)],
    ['random x', Float64Array.from({ length: d }, () => 0.1 * rng.normal())],
  ];
  const x = new Float64Array(d);
  const g = new Float64Array(d);
  for (let t = 0; t < 100; t++) {
    reference.gradient(x, g);
    for (let j = 0; j < d; j++) x[j] -= gamma * g[j];
  }
  points.push(['after 100 gd steps', x]);

  const backend = await GpuBackend.open(mode);
  try {
    const kernels = backend.logregKernels(logregShardData(reference));
    const problem = new GpuLogregProblem(reference, kernels);
    const topk = backend.topKKernels(d);
    const worst = new Map<string, { e: number; at: string }>();
    const note = (kernel: string, e: number, at: string) => {
      const w = worst.get(kernel);
      if (!w || !(e <= w.e)) worst.set(kernel, { e, at });
    };
    const N = reference.totalRows;
    const c64 = new Float64Array(N);
    const c32 = new Float64Array(N);
    const outs = reference.workers.map(() => new Float64Array(d));
    const refs = reference.workers.map(() => new Float64Array(d));
    for (const [at, point] of points) {
      // float64 row coefficients c_r = −b_r σ(−b_r a_rᵀx)/N_i and data gradients A_iᵀc
      let r0 = 0;
      for (let i = 0; i < workers; i++) {
        const { A, b } = reference.workers[i];
        const ref = refs[i].fill(0);
        for (let r = 0; r < A.rows; r++) {
          let dot = 0;
          for (let k = A.rowPtr[r]; k < A.rowPtr[r + 1]; k++) dot += A.values[k] * point[A.colIdx[k]];
          const c = (-b[r] * sigmoid(-b[r] * dot)) / A.rows;
          c64[r0 + r] = c;
          for (let k = A.rowPtr[r]; k < A.rowPtr[r + 1]; k++) ref[A.colIdx[k]] += c * A.values[k];
        }
        r0 += A.rows;
      }
      kernels.rowCoefficients(point, c32);
      note('margins and σ (row coefficients c_r)', maxRelativeError(c32, c64), at);
      kernels.columnSums(c64, outs);
      let e = 0;
      for (let i = 0; i < workers; i++) e = Math.max(e, maxRelativeError(outs[i], refs[i]));
      note('Aᵀr (column sums, float64 r given)', e, at);
      kernels.gradients(point, outs);
      e = 0;
      for (let i = 0; i < workers; i++) e = Math.max(e, maxRelativeError(outs[i], refs[i]));
      note('local gradients, all shards (one iteration)', e, at);
      // the accuracy contract's metric: the same difference over the magnitude of the summed terms
      e = 0;
      const full32 = new Float64Array(d);
      const full64 = new Float64Array(d);
      for (let i = 0; i < workers; i++) {
        problem.workers[i].gradientOnly(point, full32);
        reference.workers[i].gradient(point, full64);
        let diff = 0;
        for (let j = 0; j < d; j++) diff = Math.max(diff, Math.abs(full32[j] - full64[j]));
        e = Math.max(e, diff / gradientTermScale(reference.workers[i], point));
      }
      note('∇f_i, error / summed terms (the contract, tolerance 1e-4)', e, at);
      const sums = new Float64Array(workers);
      kernels.lossSums(point, sums);
      const refSums = Float64Array.from(reference.workers, (w) => (w.loss(point) - w.regulariserValue(point)) * w.rows);
      note('loss (per-shard sums)', maxRelativeError(sums, refSums), at);
      const v = new Float64Array(d);
      const scores = new Float64Array(d);
      const refScores = new Float64Array(d);
      e = 0;
      for (const i of [0, Math.floor(workers / 2), workers - 1]) {
        reference.workers[i].gradient(point, v);
        problem.workers[i].coordinateDecrease(point, v, gamma, scores);
        reference.workers[i].referenceCoordinateDecrease(point, v, gamma, refScores);
        e = Math.max(e, maxRelativeError(scores, refScores));
      }
      note('imp-a scores (workers 0, n/2, n−1)', e, at);
      reference.workers[0].gradient(point, v);
      const sorted = Array.from(v, Math.abs).sort((a, b) => b - a);
      // the radix search is exact on the float32 keys: its only error is the keys' rounding
      let exact = 0;
      let rounding = 0;
      for (const k of [1, Math.max(1, Math.round(d / 100)), Math.max(1, Math.round(d / 10)), d]) {
        const { threshold, greater } = topk.threshold(v, d, k);
        const key = Math.fround(sorted[k - 1]);
        const above = sorted.filter((a) => Math.fround(a) > key).length;
        if (threshold !== key || greater !== above) exact = Math.max(exact, Math.abs(threshold - key) / key || 1);
        if (k === Math.max(1, Math.round(d / 10))) rounding = Math.abs(threshold - sorted[k - 1]) / sorted[k - 1];
      }
      note(`top-k threshold vs float64 k-th largest (k = d/10, worker 0's gradient)`, rounding, at);
      note(`top-k threshold vs the exact float32 k-th key and #{> T} (k = 1, d/100, d/10, d)`, exact, at);
    }
    return [...worst].map(([kernel, { e, at }]) => ({ dataset: name, kernel, maxRelativeError: e, at }));
  } finally {
    backend.dispose();
  }
}

/** A markdown table: one row per kernel, one column per dataset. */
export function accuracyTable(rows: readonly AccuracyRow[]): string {
  const datasets = [...new Set(rows.map((r) => r.dataset))];
  const kernels = [...new Set(rows.map((r) => r.kernel))];
  const lines = [`| kernel | ${datasets.join(' | ')} |`, `|---|${datasets.map(() => '---:').join('|')}|`];
  for (const k of kernels) {
    const cells = datasets.map((ds) => {
      const r = rows.find((q) => q.kernel === k && q.dataset === ds);
      return r ? `${r.maxRelativeError.toExponential(1)} (${r.at})` : 'n/a';
    });
    lines.push(`| ${k} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
