/**
 * The `mlp` problem on a float32 backend (`--backend gpu`), one hidden layer: the Problem and
 * LocalObjective interfaces over MlpKernels (src/backends/types.ts), with the float64 MlpProblem kept
 * beside it as the reference of the accuracy contract and for what is not a hot loop (accuracy,
 * initialisation, the regulariser, which is O(d)).
 *
 * Dispatch: every kernel call is one pass over all n shards (forward, row terms, gradients; see
 * src/backends/gpujs/mlp-kernels.ts). The methods ask worker by worker at one shared x, so the first
 * request at a point computes every shard and the rest are served from that result (the point is
 * compared entry by entry). Costs, said plainly: a worker-specific point (imp-b/imp-c inner points)
 * and a minibatch gradient (row weights, zero outside the batch) each cost a pass over all shards.
 * imp-a's coordinateDecrease runs on the device when `coordinateKernels` is set (mlp-gpu-impa.ts,
 * done by --backend gpu runs whose compressor is imp-a), else on the float64 reference.
 */
import { checkAgainstReference, type GradientCheck } from './gpu-check.js';
import { DcompError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { LabeledData } from '../data/types.js';
import type { BackendLabel, MlpCoordinateKernels, MlpKernels } from '../backends/types.js';
import type { MlpProblem, MlpShard } from './mlp.js';
import type { LocalObjective, Problem } from './types.js';
import { GPU_GRADIENT_TOLERANCE } from './logreg-gpu.js';

/**
 * Largest accepted error of the float32 mlp gradient at x⁰, relative to the size of the terms summed
 * (mlpCheckBounds), after the ReLU-kink allowance. The same bound as logreg's: float32 summation
 * errs relative to the sum of magnitudes; measured ≤ 2e-7 (docs/backends.md), while a wrong index or
 * a dropped row is ≥ 1e-3 at our shard sizes.
 */
export const GPU_MLP_GRADIENT_TOLERANCE = GPU_GRADIENT_TOLERANCE;

function sigmoid64(p: number): number {
  if (p > 0) return 1 / (1 + Math.exp(-p));
  const e = Math.exp(p);
  return e / (1 + e);
}

/** Offsets of W₁, b₁, w₂, b₂ in x for a one-hidden-layer network (spec §2 layout). */
function oneHidden(problem: MlpProblem): { p: number; h: number; bias1: number; w2: number; bias2: number } {
  const { sizes, biasOffset, weightOffset } = problem.layout;
  if (sizes.length !== 3) throw new RangeError(`gpu mlp: one hidden layer expected, the network has ${sizes.length - 2}`);
  return { p: sizes[0], h: sizes[1], bias1: biasOffset[0], w2: weightOffset[1], bias2: biasOffset[1] };
}

/**
 * A hidden pre-activation within this share of its summed terms' magnitude (|b₁_u| + Σ_k |a_k W₁[u,k]|)
 * of 0 is at a ReLU kink for float32: rounding (≤ ~(k+1)·2^-24 of that magnitude) may put it on either
 * side, and then its row's terms of W₁[u,·] and b₁_u are in one gradient and not in the other.
 */
export const RELU_KINK_MARGIN = 1e-5;

export interface MlpCheckBounds {
  /** max_s (|λx_s| + Σ_r |∂ softplus(−b_r z_r)/∂x_s| / N_i): the magnitude the float32 gradient adds up. */
  readonly scale: number;
  /** Per parameter: Σ |term| over the rows at a ReLU kink (RELU_KINK_MARGIN), which float32 may drop or add. */
  readonly kinkAllowance: Float64Array;
  /** Hidden pre-activations found at a kink. */
  readonly kinks: number;
}

/** The scale and kink allowances of a one-hidden-layer shard's gradient at x (float64, O(nnz·h)). */
export function mlpCheckBounds(problem: MlpProblem, shard: MlpShard, x: Float64Array): MlpCheckBounds {
  const { p, h, bias1, w2, bias2 } = oneHidden(problem);
  const d = problem.d;
  const { A, b } = shard;
  const s = new Float64Array(d);
  const allowance = new Float64Array(d);
  for (let j = 0; j < d; j++) s[j] = Math.abs(shard.lambda * x[j]);
  const z = new Float64Array(h);
  const size = new Float64Array(h);
  const inv = 1 / A.rows;
  let kinks = 0;
  for (let r = 0; r < A.rows; r++) {
    const start = A.rowPtr[r];
    const end = A.rowPtr[r + 1];
    for (let u = 0; u < h; u++) {
      let v = x[bias1 + u];
      let m = Math.abs(v);
      for (let k = start; k < end; k++) {
        const t = A.values[k] * x[u * p + A.colIdx[k]];
        v += t;
        m += Math.abs(t);
      }
      z[u] = v;
      size[u] = m;
    }
    let logit = x[bias2];
    for (let u = 0; u < h; u++) if (z[u] > 0) logit += x[w2 + u] * z[u];
    const c = Math.abs(sigmoid64(-b[r] * logit)) * inv;
    s[bias2] += c;
    for (let u = 0; u < h; u++) {
      const atKink = Math.abs(z[u]) <= RELU_KINK_MARGIN * size[u];
      if (!(z[u] > 0) && !atKink) continue;
      const cu = c * Math.abs(x[w2 + u]);
      if (atKink) {
        kinks++;
        allowance[bias1 + u] += cu;
        for (let k = start; k < end; k++) allowance[u * p + A.colIdx[k]] += cu * Math.abs(A.values[k]);
        if (!(z[u] > 0)) continue;
      }
      s[w2 + u] += c * z[u];
      s[bias1 + u] += cu;
      for (let k = start; k < end; k++) s[u * p + A.colIdx[k]] += cu * Math.abs(A.values[k]);
    }
  }
  let max = 0;
  for (let j = 0; j < d; j++) if (s[j] > max) max = s[j];
  return { scale: max, kinkAllowance: allowance, kinks };
}

function equalVectors(a: Float64Array, b: Float64Array, d: number): boolean {
  for (let j = 0; j < d; j++) if (a[j] !== b[j]) return false;
  return true;
}

export class GpuMlpProblem implements Problem {
  readonly name: string;
  readonly d: number;
  readonly totalRows: number;
  readonly convex = false;
  readonly workers: readonly GpuMlpShard[];
  readonly label: BackendLabel;
  private readonly dataGradients: Float64Array[];
  private readonly gradientX: Float64Array;
  private gradientValid = false;
  private readonly lossTerms: Float64Array;
  private readonly lossSums: Float64Array;
  private readonly lossX: Float64Array;
  private lossValid = false;
  /** Minibatch scratch: row weights (all rows), the gradients of every shard, the loss terms. */
  private readonly batchWeights: Float64Array;
  private readonly batchGradients: Float64Array[];
  private readonly batchTerms: Float64Array;
  private readonly workerGradient: Float64Array;
  /** imp-a's row sums on the device (one hidden layer); unset: the float64 reference's scores. */
  coordinateKernels: MlpCoordinateKernels | undefined;

  constructor(
    readonly reference: MlpProblem,
    readonly kernels: MlpKernels,
  ) {
    oneHidden(reference);
    if (kernels.workers !== reference.workers.length || kernels.d !== reference.d) {
      throw new RangeError(`gpu mlp: kernels for ${kernels.workers}×${kernels.d}, problem ${reference.workers.length}×${reference.d}`);
    }
    const n = reference.workers.length;
    this.name = reference.name;
    this.d = reference.d;
    this.totalRows = reference.totalRows;
    this.label = kernels.label;
    this.dataGradients = reference.workers.map(() => new Float64Array(reference.d));
    this.gradientX = new Float64Array(reference.d);
    this.lossTerms = new Float64Array(reference.totalRows);
    this.lossSums = new Float64Array(n);
    this.lossX = new Float64Array(reference.d);
    this.batchWeights = new Float64Array(reference.totalRows);
    this.batchGradients = reference.workers.map(() => new Float64Array(reference.d));
    this.batchTerms = new Float64Array(reference.totalRows);
    this.workerGradient = new Float64Array(reference.d);
    this.workers = reference.workers.map((w, i) => new GpuMlpShard(this, i, w));
  }

  private sumLosses(): void {
    const off = this.kernels.rowOffset;
    for (let i = 0; i < this.lossSums.length; i++) {
      let s = 0;
      for (let r = off[i]; r < off[i + 1]; r++) s += this.lossTerms[r];
      this.lossSums[i] = s;
    }
  }

  /** Every shard's data gradient (and loss terms) at x in one pass, kept for the requests that follow. */
  private computeAll(x: Float64Array): void {
    this.kernels.evaluate(x, this.dataGradients, this.lossTerms);
    this.sumLosses();
    this.gradientX.set(x.subarray(0, this.d));
    this.lossX.set(x.subarray(0, this.d));
    this.gradientValid = true;
    this.lossValid = true;
  }

  /** out = ∇D_i(x), the data term of worker i. */
  dataGradient(worker: number, x: Float64Array, out: Float64Array): void {
    if (!(this.gradientValid && equalVectors(x, this.gradientX, this.d))) this.computeAll(x);
    out.set(this.dataGradients[worker]);
  }

  /** Σ_r softplus(−b_r z_r) of worker i (not divided by N_i). */
  shardLossSum(worker: number, x: Float64Array): number {
    if (!(this.lossValid && equalVectors(x, this.lossX, this.d))) {
      this.kernels.evaluate(x, undefined, this.lossTerms);
      this.sumLosses();
      this.lossX.set(x.subarray(0, this.d));
      this.lossValid = true;
    }
    return this.lossSums[worker];
  }

  /**
   * Minibatch data gradient of worker i over its local rows rows[0..count) (a row listed twice counts
   * twice): one pass over all shards with row weights, zero outside the batch. Returns Σ_t loss terms.
   */
  batchDataGradient(worker: number, x: Float64Array, rows: Int32Array, count: number, out: Float64Array): number {
    const off = this.kernels.rowOffset;
    const base = off[worker];
    const n = off[worker + 1] - base;
    if (!(Number.isInteger(count) && count >= 1 && count <= rows.length)) {
      throw new DcompError(`problem: minibatch size ${count} must be in [1, ${rows.length}]`);
    }
    const w = this.batchWeights;
    w.fill(0);
    for (let t = 0; t < count; t++) {
      const r = rows[t];
      if (!(r >= 0 && r < n)) throw new RangeError(`minibatch row ${r} is outside the shard's ${n} rows`);
      w[base + r] += 1 / count;
    }
    this.kernels.evaluate(x, this.batchGradients, this.batchTerms, w);
    out.set(this.batchGradients[worker]);
    let s = 0;
    for (let t = 0; t < count; t++) s += this.batchTerms[base + rows[t]];
    return s;
  }

  loss(x: Float64Array): number {
    let s = 0;
    for (const w of this.workers) s += w.loss(x);
    return s / this.workers.length;
  }

  /** ∇f(x) = (1/n) Σ_i ∇f_i(x), the workers summed in order. */
  gradient(x: Float64Array, out: Float64Array): number {
    const d = this.d;
    const g = this.workerGradient;
    let s = 0;
    out.fill(0);
    for (const w of this.workers) {
      s += w.gradient(x, g);
      for (let j = 0; j < d; j++) out[j] += g[j];
    }
    const inv = 1 / this.workers.length;
    if (this.workers.length > 1) for (let j = 0; j < d; j++) out[j] *= inv;
    return s * inv;
  }

  accuracy(x: Float64Array, data?: LabeledData): number {
    return this.reference.accuracy(x, data);
  }

  smoothness(): undefined {
    return undefined;
  }

  initialize(rng: Rng, out: Float64Array): void {
    this.reference.initialize(rng, out);
  }
}

/** f_i on the backend: the data term from the kernels, the regulariser (λ/2)‖x‖² in float64. */
export class GpuMlpShard implements LocalObjective {
  readonly d: number;
  readonly rows: number;
  private readonly invRows: number;

  constructor(
    private readonly problem: GpuMlpProblem,
    readonly index: number,
    readonly reference: MlpShard,
  ) {
    this.d = reference.d;
    this.rows = reference.rows;
    this.invRows = 1 / reference.rows;
  }

  private regulariserValue(x: Float64Array): number {
    const lambda = this.reference.lambda;
    if (lambda === 0) return 0;
    let s = 0;
    for (let j = 0; j < this.d; j++) s += x[j] * x[j];
    return 0.5 * lambda * s;
  }

  private addRegulariserGradient(x: Float64Array, out: Float64Array): void {
    const lambda = this.reference.lambda;
    if (lambda === 0) return;
    for (let j = 0; j < this.d; j++) out[j] += lambda * x[j];
  }

  loss(x: Float64Array): number {
    return this.problem.shardLossSum(this.index, x) * this.invRows + this.regulariserValue(x);
  }

  gradient(x: Float64Array, out: Float64Array): number {
    this.gradientOnly(x, out);
    return this.loss(x);
  }

  gradientOnly(x: Float64Array, out: Float64Array): void {
    this.problem.dataGradient(this.index, x, out);
    this.addRegulariserGradient(x, out);
  }

  /** Minibatch gradient: on the gpu backend it costs a pass over every shard (see the header). */
  batchGradient(x: Float64Array, rows: Int32Array, count: number, out: Float64Array): number {
    const sum = this.problem.batchDataGradient(this.index, x, rows, count, out);
    this.addRegulariserGradient(x, out);
    return sum / count + this.regulariserValue(x);
  }

  /**
   * imp-a: the device's row sums (problem.coordinateKernels), then 1/N_i and the regulariser's
   * (λ/2)·δ(2x_j − δ) in float64 as the reference does; without the kernels the reference's scores.
   */
  coordinateDecrease(x: Float64Array, v: Float64Array, eta: number, out: Float64Array): void {
    const kernels = this.problem.coordinateKernels;
    if (!kernels) {
      this.reference.coordinateDecrease(x, v, eta, out);
      return;
    }
    kernels.coordinateDecreaseSums(this.index, x, v, eta, out);
    const lambda = this.reference.lambda;
    for (let j = 0; j < this.d; j++) {
      const step = eta * v[j];
      out[j] = step === 0 ? 0 : out[j] * this.invRows + (lambda === 0 ? 0 : 0.5 * lambda * step * (2 * x[j] - step));
    }
  }
}

/** The accuracy contract's result for the mlp (the same as logreg's). */
export type MlpGradientCheck = GradientCheck;

/**
 * The accuracy contract of `--backend gpu` for mlp: at x (the first iterate) every worker's float32
 * gradient must be within `tolerance` of the float64 one relative to the summed terms' magnitude,
 * once the terms of rows at a ReLU kink (mlpCheckBounds) are allowed for: per parameter,
 * max(0, |g32 − g64| − allowance) / scale ≤ tolerance.
 * Throws a DcompError (exit 1) naming the worker, the error and the tolerance when it is not.
 */
export function checkGpuMlpGradients(problem: GpuMlpProblem, x: Float64Array, tolerance = GPU_MLP_GRADIENT_TOLERANCE): MlpGradientCheck {
  const reference = problem.reference;
  return checkAgainstReference(problem.workers, reference.workers, x, problem.label, 'mlp gradient', tolerance, (i) => {
    const { scale, kinkAllowance } = mlpCheckBounds(reference, reference.workers[i], x);
    return { scale, allowance: kinkAllowance };
  });
}
