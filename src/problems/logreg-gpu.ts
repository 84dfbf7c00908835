/**
 * Logistic regression on a float32 backend (`--backend gpu`): the Problem and LocalObjective
 * interfaces over LogregKernels (src/backends/types.ts), with the float64 LogregProblem kept beside
 * it for what is not a hot loop (smoothness constants, accuracy, the regulariser, which is O(d)) and
 * as the reference of the accuracy contract (`checkGpuGradients`).
 *
 * Dispatch: the methods ask for ∇f_i(x) worker by worker at one shared point x. The kernels compute
 * all n shards in one dispatch, so the first request at a point computes every shard and the others
 * are served from that result (the point is compared entry by entry). A point that only one worker
 * uses (imp-b/imp-c's inner points, each compressor's own buffer) gets a one-shard dispatch instead:
 * a point array is treated as shared once two different workers have asked at it. Both routes run
 * the same arithmetic, so they give the same bits.
 */
import { checkAgainstReference, type GradientCheck } from './gpu-check.js';
import type { LabeledData } from '../data/types.js';
import type { BackendLabel, LogregKernels, LogregShardData } from '../backends/types.js';
import { sigmoid, type LogregProblem, type LogregShard } from './logreg.js';
import type { LocalObjective, Problem, Smoothness } from './types.js';

/**
 * Largest accepted error of the float32 gradient on the first iteration, relative to the size of
 * the terms summed (gradientTermScale): max_j |g32_j − g64_j| / max_j (|∇r(x)_j| + Σ_r |c_r a_rj|).
 * Float32 summation errors are bounded relative to that sum of magnitudes, not to the result, which
 * can cancel to almost nothing; measured ≤ 2e-6 on mushrooms, a9a and w8a (docs/backends.md), so
 * 1e-4 has a factor 50 of room while a wrong index, a truncated loop or a mis-laid buffer (errors
 * of order one term, 1e-3 and up) is caught.
 */
export const GPU_GRADIENT_TOLERANCE = 1e-4;

/**
 * max_j (|∇r(x)_j| + Σ_r |c_r a_rj|) with c_r = σ(−b_r a_rᵀx)/N_i: the magnitude of what the
 * float32 gradient of shard `shard` adds up at x (float64, O(nnz)).
 */
export function gradientTermScale(shard: LogregShard, x: Float64Array): number {
  const { A, b } = shard;
  const d = shard.d;
  const s = new Float64Array(d);
  shard.writeRegulariserGradient(x, s);
  for (let j = 0; j < d; j++) s[j] = Math.abs(s[j]);
  for (let r = 0; r < A.rows; r++) {
    let dot = 0;
    for (let k = A.rowPtr[r]; k < A.rowPtr[r + 1]; k++) dot += A.values[k] * x[A.colIdx[k]];
    const c = sigmoid(-b[r] * dot) / A.rows;
    for (let k = A.rowPtr[r]; k < A.rowPtr[r + 1]; k++) s[A.colIdx[k]] += Math.abs(c * A.values[k]);
  }
  let max = 0;
  for (let j = 0; j < d; j++) if (s[j] > max) max = s[j];
  return max;
}

/** max_j |a_j − r_j| / scale (NaN when any entry is NaN). */
/** The shards of a float64 logreg problem, as the backend kernels take them. */
export function logregShardData(problem: LogregProblem): LogregShardData[] {
  return problem.workers.map((w) => ({ A: w.A, b: w.b }));
}

function equalVectors(a: Float64Array, b: Float64Array, d: number): boolean {
  for (let j = 0; j < d; j++) if (a[j] !== b[j]) return false;
  return true;
}

export class GpuLogregProblem implements Problem {
  readonly name: string;
  readonly d: number;
  readonly totalRows: number;
  readonly convex: boolean;
  readonly workers: readonly GpuLogregShard[];
  readonly label: BackendLabel;
  /** Data-term gradients of every shard at `cachedX` (valid when `cacheValid`). */
  private readonly dataGradients: Float64Array[];
  private readonly cachedX: Float64Array;
  private cacheValid = false;
  /** Point arrays seen: the first worker that asked at each, or −1 once a second worker did. */
  private readonly pointUsers = new WeakMap<Float64Array, number>();
  private readonly lossSums: Float64Array;
  private readonly lossX: Float64Array;
  private lossValid = false;
  private readonly regGradient: Float64Array;

  constructor(
    readonly reference: LogregProblem,
    readonly kernels: LogregKernels,
  ) {
    if (kernels.workers !== reference.workers.length || kernels.d !== reference.d) {
      throw new RangeError(`gpu logreg: kernels for ${kernels.workers}×${kernels.d}, problem ${reference.workers.length}×${reference.d}`);
    }
    this.name = reference.name;
    this.d = reference.d;
    this.totalRows = reference.totalRows;
    this.convex = reference.convex;
    this.label = kernels.label;
    this.dataGradients = reference.workers.map(() => new Float64Array(reference.d));
    this.cachedX = new Float64Array(reference.d);
    this.lossSums = new Float64Array(reference.workers.length);
    this.lossX = new Float64Array(reference.d);
    this.regGradient = new Float64Array(reference.d);
    this.workers = reference.workers.map((w, i) => new GpuLogregShard(this, i, w));
  }

  /** out = ∇D_i(x), the data term of worker i (see the header for which dispatch runs). */
  dataGradient(worker: number, x: Float64Array, out: Float64Array): void {
    const d = this.d;
    if (this.cacheValid && equalVectors(x, this.cachedX, d)) {
      out.set(this.dataGradients[worker]);
      return;
    }
    const first = this.pointUsers.get(x);
    if (first === undefined) this.pointUsers.set(x, worker);
    else if (first !== worker && first !== -1) this.pointUsers.set(x, -1);
    if (this.pointUsers.get(x) === -1) {
      this.computeAll(x);
      out.set(this.dataGradients[worker]);
    } else {
      this.kernels.shardGradient(worker, x, out);
    }
  }

  /** All shards' data gradients at x in one dispatch, kept for the requests that follow. */
  private computeAll(x: Float64Array): void {
    this.kernels.gradients(x, this.dataGradients);
    this.cachedX.set(x.subarray(0, this.d));
    this.cacheValid = true;
  }

  /** Σ_r softplus(−b_r a_rᵀx) of worker i (all shards computed at once, kept for the same x). */
  shardLossSum(worker: number, x: Float64Array): number {
    if (!(this.lossValid && equalVectors(x, this.lossX, this.d))) {
      this.kernels.lossSums(x, this.lossSums);
      this.lossX.set(x.subarray(0, this.d));
      this.lossValid = true;
    }
    return this.lossSums[worker];
  }

  loss(x: Float64Array): number {
    let s = 0;
    for (const w of this.workers) s += w.loss(x);
    return s / this.workers.length;
  }

  /** ∇f(x) = (1/n) Σ_i ∇f_i(x), the workers summed in order as the float64 problem does. */
  gradient(x: Float64Array, out: Float64Array): number {
    this.computeAll(x);
    const workers = this.workers;
    const d = this.d;
    const reg = this.regGradient;
    let s = 0;
    out.fill(0);
    for (let i = 0; i < workers.length; i++) {
      workers[i].reference.writeRegulariserGradient(x, reg);
      const g = this.dataGradients[i];
      for (let j = 0; j < d; j++) out[j] += reg[j] + g[j];
      s += workers[i].loss(x);
    }
    const inv = 1 / workers.length;
    if (workers.length > 1) for (let j = 0; j < d; j++) out[j] *= inv;
    return s * inv;
  }

  /** Classification accuracy of x (float64: it is a metric of the iterate, not a hot loop). */
  accuracy(x: Float64Array, data?: LabeledData): number {
    return this.reference.accuracy(x, data);
  }

  smoothness(): Smoothness {
    return this.reference.smoothness();
  }
}

/** f_i on the backend: the data term from the kernels, the regulariser in float64. */
export class GpuLogregShard implements LocalObjective {
  readonly d: number;
  readonly rows: number;
  private readonly data: Float64Array;
  private readonly invRows: number;

  constructor(
    private readonly problem: GpuLogregProblem,
    readonly index: number,
    readonly reference: LogregShard,
  ) {
    this.d = reference.d;
    this.rows = reference.rows;
    this.data = new Float64Array(reference.d);
    this.invRows = 1 / reference.rows;
  }

  loss(x: Float64Array): number {
    return this.problem.shardLossSum(this.index, x) * this.invRows + this.reference.regulariserValue(x);
  }

  gradient(x: Float64Array, out: Float64Array): number {
    this.gradientOnly(x, out);
    return this.loss(x);
  }

  gradientOnly(x: Float64Array, out: Float64Array): void {
    const data = this.data;
    this.problem.dataGradient(this.index, x, data);
    this.reference.writeRegulariserGradient(x, out);
    const d = this.d;
    for (let j = 0; j < d; j++) out[j] += data[j];
  }

  /**
   * Minibatch gradient (one-shard dispatch with per-row weights; on the gpu backend it costs a pass
   * over the whole shard). Returns the minibatch loss, from the row-loss kernel.
   */
  batchGradient(x: Float64Array, rows: Int32Array, count: number, out: Float64Array): number {
    const data = this.data;
    this.problem.kernels.shardBatchGradient(this.index, x, rows, count, data);
    this.reference.writeRegulariserGradient(x, out);
    const d = this.d;
    for (let j = 0; j < d; j++) out[j] += data[j];
    return this.problem.kernels.batchLossSum(this.index, x, rows, count) / count + this.reference.regulariserValue(x);
  }

  /** imp-a: out[j] = f_i(x) − f_i(x − η v_j e_j), data part from the kernels, regulariser in closed form. */
  coordinateDecrease(x: Float64Array, v: Float64Array, eta: number, out: Float64Array): void {
    this.problem.kernels.coordinateDecreaseSums(this.index, x, v, eta, out);
    const d = this.d;
    const invRows = this.invRows;
    const ref = this.reference;
    for (let j = 0; j < d; j++) {
      const delta = eta * v[j];
      out[j] = delta === 0 ? 0 : out[j] * invRows + ref.regulariserDecrease(x[j], delta);
    }
  }
}

export type { GradientCheck };

/**
 * The accuracy contract of `--backend gpu`: at x (the first iterate), every worker's float32
 * gradient must be within `tolerance` of the float64 one, relative to the magnitude of the terms
 * summed (GPU_GRADIENT_TOLERANCE). Throws a DcompError (exit 1) naming the worker, the error and the
 * tolerance when it is not. Costs one float64 gradient and one gpu gradient per worker.
 */
export function checkGpuGradients(problem: GpuLogregProblem, x: Float64Array, tolerance = GPU_GRADIENT_TOLERANCE): GradientCheck {
  const reference = problem.reference.workers;
  return checkAgainstReference(problem.workers, reference, x, problem.label, 'gradient', tolerance, (i) => ({ scale: gradientTermScale(reference[i], x) }));
}
