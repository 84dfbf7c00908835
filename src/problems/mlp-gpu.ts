/**
 * The `mlp` problem on a float32 backend (`--backend gpu`), any number of hidden layers: the Problem and
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

/**
 * A hidden pre-activation within this share of its summed terms' magnitude of 0 is at a ReLU kink for
 * float32: rounding (≤ ~(k+1)·2^-24 of that magnitude) may put it on either side, and then the terms
 * that pass through its derivative (its row's terms of the unit's weights and bias, and of every layer
 * below through δ) are in one gradient and not in the other. The magnitude of a pre-activation is
 * |b_u| + Σ_v |W[u,v]|·m_v, m_v = |a_v| for the inputs and, for a hidden unit below, its own magnitude
 * when it is active or at a kink (0 when inactive): the float32 error of the whole forward chain.
 */
export const RELU_KINK_MARGIN = 1e-5;

export interface MlpCheckBounds {
  /** max_s (|λx_s| + Σ_r |∂ softplus(−b_r z_r)/∂x_s|⁺ / N_i): the magnitude the float32 gradient adds up. */
  readonly scale: number;
  /** Per parameter: the most its row terms can change when pre-activations at a ReLU kink (RELU_KINK_MARGIN) flip. */
  readonly kinkAllowance: Float64Array;
  /** Hidden pre-activations found at a kink. */
  readonly kinks: number;
}

/**
 * The scale and kink allowances of a shard's gradient at x, any depth (float64, about one gradient's
 * work). |∂/∂x_s|⁺ is the derivative with every product through the chain taken in absolute value
 * (|δ_l| = [z_l > 0] |W_{l+1}|ᵀ|δ_{l+1}|, |δ_out| = |c_r|), so float32 summation errors anywhere in
 * the backward pass are relative to it. A unit at a kink may take or drop its whole δ̃ (the
 * pre-mask value, bounded by |W_{l+1}|ᵀ(|δ_{l+1}| + Δ_{l+1})); that change Δ_l travels down through
 * |W_l|ᵀ to the layers below, and every parameter's allowance is Σ_r Δ·(its input's magnitude).
 * For one hidden layer this is the rows at a kink times |w₂_u c_r| (and |a_rj| for W₁[u, j]).
 */
export function mlpCheckBounds(problem: MlpProblem, shard: MlpShard, x: Float64Array): MlpCheckBounds {
  const { sizes, weightOffset, biasOffset } = problem.layout;
  const L = sizes.length - 2;
  const p = sizes[0];
  const d = problem.d;
  const { A, b } = shard;
  const s = new Float64Array(d);
  const allowance = new Float64Array(d);
  for (let j = 0; j < d; j++) s[j] = Math.abs(shard.lambda * x[j]);
  const z = sizes.slice(1, L + 1).map((n) => new Float64Array(n));
  const size = sizes.slice(1, L + 1).map((n) => new Float64Array(n));
  const kink = sizes.slice(1, L + 1).map((n) => new Uint8Array(n));
  const delta = sizes.slice(1, L + 1).map((n) => new Float64Array(n));
  const change = sizes.slice(1, L + 1).map((n) => new Float64Array(n));
  const inv = 1 / A.rows;
  let kinks = 0;
  const w0 = weightOffset[0];
  for (let r = 0; r < A.rows; r++) {
    const start = A.rowPtr[r];
    const end = A.rowPtr[r + 1];
    // forward: pre-activations, their magnitudes, kinks
    for (let l = 0; l < L; l++) {
      const nIn = sizes[l];
      const zl = z[l];
      const ml = size[l];
      const kl = kink[l];
      for (let u = 0; u < sizes[l + 1]; u++) {
        let v = x[biasOffset[l] + u];
        let m = Math.abs(v);
        const row = weightOffset[l] + u * nIn;
        if (l === 0) {
          for (let k = start; k < end; k++) {
            const t = A.values[k] * x[row + A.colIdx[k]];
            v += t;
            m += Math.abs(t);
          }
        } else {
          const below = z[l - 1];
          const belowSize = size[l - 1];
          const belowKink = kink[l - 1];
          for (let q = 0; q < nIn; q++) {
            if (below[q] > 0) v += x[row + q] * below[q];
            if (below[q] > 0 || belowKink[q]) m += Math.abs(x[row + q]) * belowSize[q];
          }
        }
        zl[u] = v;
        ml[u] = m;
        kl[u] = m > 0 && Math.abs(v) <= RELU_KINK_MARGIN * m ? 1 : 0;
        kinks += kl[u];
      }
    }
    const top = z[L - 1];
    const wOut = weightOffset[L];
    let logit = x[biasOffset[L]];
    for (let u = 0; u < sizes[L]; u++) if (top[u] > 0) logit += x[wOut + u] * top[u];
    const c = Math.abs(sigmoid64(-b[r] * logit)) * inv;
    // output layer: its terms do not pass through a kink
    s[biasOffset[L]] += c;
    for (let u = 0; u < sizes[L]; u++) if (top[u] > 0) s[wOut + u] += c * top[u];
    // backward, top hidden layer down: |δ_l| (scale), Δ_l (kink changes)
    for (let l = L - 1; l >= 0; l--) {
      const n = sizes[l + 1];
      const m = sizes[l + 2];
      const wAbove = weightOffset[l + 1];
      for (let v = 0; v < n; v++) {
        let nominal = 0;
        let moved = 0;
        for (let u = 0; u < m; u++) {
          const w = Math.abs(x[wAbove + u * n + v]);
          nominal += w * (l === L - 1 ? c : delta[l + 1][u]);
          if (l < L - 1) moved += w * change[l + 1][u];
        }
        const active = z[l][v] > 0;
        delta[l][v] = active ? nominal : 0;
        change[l][v] = kink[l][v] ? nominal + moved : active ? moved : 0;
      }
      // this hidden layer's weights and bias
      const nIn = sizes[l];
      for (let u = 0; u < n; u++) {
        const du = delta[l][u];
        const cu = change[l][u];
        if (du === 0 && cu === 0) continue;
        s[biasOffset[l] + u] += du;
        allowance[biasOffset[l] + u] += cu;
        const row = weightOffset[l] + u * nIn;
        if (l === 0) {
          for (let k = start; k < end; k++) {
            const a = Math.abs(A.values[k]);
            s[w0 + u * p + A.colIdx[k]] += du * a;
            allowance[w0 + u * p + A.colIdx[k]] += cu * a;
          }
        } else {
          const below = z[l - 1];
          for (let q = 0; q < nIn; q++) {
            if (!(below[q] > 0)) continue;
            s[row + q] += du * below[q];
            allowance[row + q] += cu * below[q];
          }
        }
      }
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
