/**
 * Logistic regression on LIBSVM data (spec §2): `logreg` (L2-regularised, convex) and
 * `logreg-nonconvex` (the EF21 papers' non-convex regulariser λ Σ x_t²/(1+x_t²)).
 *
 * Each worker owns a copy of its shard's rows in CSR (built once), so every evaluation walks only
 * its own non-zeros. Scratch buffers are allocated in the constructor (or once, lazily, for the
 * structures only some callers need: the CSC copy for importance (a), the curvature for Newton).
 */
import { meanGradient, meanLoss } from './workers-mean.js';
import { DcompError } from '../core/errors.js';
import { declare, OptionError, real, type OptionDecl } from '../core/options.js';
import type { CsrMatrix, LabeledData } from '../data/types.js';
import { selectRows, toCsc } from '../data/csr.js';
import type { LocalObjective, Problem, ProblemOptions, ProblemSpec, Smoothness } from './types.js';
import { logregSmoothness } from './smoothness.js';
import { createWasmCoordinateKernel, createWasmKernel, type WasmCoordinateKernel, type WasmCsrKernel } from '../backends/wasm.js';

export type RegulariserKind = 'l2' | 'nonconvex';

/**
 * Which loops evaluate loss, gradient and batchGradient: 'wasm' (default) runs the float64
 * WebAssembly kernels of src/backends (falling back to 'js' when WebAssembly or the compiled module
 * is unavailable); 'js' runs the reference loops in this file. Both are float64 with the same
 * summation order; they differ only in the exp/log1p implementations (agreement to ~1e-15 relative).
 */
export type KernelChoice = 'wasm' | 'js';

export interface LogregOptions {
  kernels?: KernelChoice;
}

/** log(1 + e^z) without overflow: for z > 0 it is z + log1p(e^{-z}). */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** σ(z) = 1/(1 + e^{-z}) without overflow: exp is only taken of a non-positive number. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** Column-major copy of a shard with b_r·a_rj stored, so a coordinate move updates margins directly. */
interface SignedCsc {
  readonly colPtr: Int32Array;
  readonly rowIdx: Int32Array;
  /** b_r · a_rj */
  readonly signedValues: Float64Array;
}

function signedCsc(A: CsrMatrix, b: Float64Array): SignedCsc {
  const csc = toCsc(A); // a fresh copy, so its values can be signed in place
  const { rowIdx, values } = csc;
  for (let k = 0; k < values.length; k++) values[k] *= b[rowIdx[k]];
  return { colPtr: csc.colPtr, rowIdx, signedValues: values };
}

/** Structures needed only by `coordinateDecrease`, made on its first call. */
interface CoordinateScratch {
  readonly csc: SignedCsc;
  /** σ(−m_r) at the current x */
  readonly rowSigma: Float64Array;
  /** softplus(−m_r) at the current x */
  readonly rowSoftplus: Float64Array;
}

/** f_i for one worker's shard. */
export class LogregShard implements LocalObjective {
  readonly d: number;
  readonly rows: number;
  /** This shard's rows (a private copy). */
  readonly A: CsrMatrix;
  /** Labels b ∈ {−1, +1} of this shard's rows. */
  readonly b: Float64Array;
  private readonly invRows: number;
  /** m_r = b_r a_rᵀx, filled by passes that need the margins again afterwards. */
  private readonly margins: Float64Array;
  private coordinate: CoordinateScratch | undefined;
  /** 0..N_i−1, made on first use by the reference full-gradient loop. */
  private allRows: Int32Array | undefined;
  /** σ(m)(1−σ(m)) per row at the point given to prepareHessian. */
  private curvature: Float64Array | undefined;
  /** The kernels actually in use (a 'wasm' request falls back to 'js' without WebAssembly). */
  readonly kernels: KernelChoice;
  private readonly wasm: WasmCsrKernel | undefined;
  /** Made on the first coordinateDecrease call (wasm kernels only). */
  private coordinateWasm: WasmCoordinateKernel | undefined;

  constructor(
    A: CsrMatrix,
    b: Float64Array,
    readonly lambda: number,
    readonly regulariser: RegulariserKind,
    options: LogregOptions = {},
  ) {
    if (A.rows === 0) throw new DcompError('problem: a worker has no rows (more workers than data rows?)');
    this.A = A;
    this.b = b;
    this.d = A.cols;
    this.rows = A.rows;
    this.invRows = 1 / A.rows;
    this.margins = new Float64Array(A.rows);
    this.wasm = (options.kernels ?? 'wasm') === 'wasm' ? createWasmKernel(A, b) : undefined;
    this.kernels = this.wasm ? 'wasm' : 'js';
  }

  /** Regulariser value: (λ/2)‖x‖² or λ Σ x_t²/(1+x_t²). */
  regulariserValue(x: Float64Array): number {
    const d = this.d;
    let s = 0;
    if (this.regulariser === 'l2') {
      for (let j = 0; j < d; j++) s += x[j] * x[j];
      return 0.5 * this.lambda * s;
    }
    for (let j = 0; j < d; j++) {
      const q = x[j] * x[j];
      s += q / (1 + q);
    }
    return this.lambda * s;
  }

  /** out = ∇ regulariser: λx, or 2λ x_t / (1+x_t²)². (Public for backends that compute only the data term.) */
  writeRegulariserGradient(x: Float64Array, out: Float64Array): void {
    const d = this.d;
    const lambda = this.lambda;
    if (this.regulariser === 'l2') {
      for (let j = 0; j < d; j++) out[j] = lambda * x[j];
      return;
    }
    const twoLambda = 2 * lambda;
    for (let j = 0; j < d; j++) {
      const xj = x[j];
      const s = 1 + xj * xj;
      out[j] = (twoLambda * xj) / (s * s);
    }
  }

  loss(x: Float64Array): number {
    const wasm = this.wasm;
    if (wasm) return wasm.lossSum(x) * this.invRows + this.regulariserValue(x);
    return this.referenceLoss(x);
  }

  gradient(x: Float64Array, out: Float64Array): number {
    const wasm = this.wasm;
    if (!wasm) return this.referenceGradient(x, out);
    // Regulariser gradient first (written by the kernel), then the rows added onto it: the reference loop's order.
    const sum = wasm.regularisedGradient(x, this.invRows, true, this.lambda, this.regulariser);
    out.set(wasm.out);
    return sum * this.invRows + this.regulariserValue(x);
  }

  /** ∇f_i(x) into `out` without evaluating the loss (bitwise the same gradient as `gradient`). */
  gradientOnly(x: Float64Array, out: Float64Array): void {
    const wasm = this.wasm;
    if (!wasm) {
      this.referenceGradient(x, out);
      return;
    }
    wasm.regularisedGradient(x, this.invRows, false, this.lambda, this.regulariser);
    out.set(wasm.out);
  }

  batchGradient(x: Float64Array, rows: Int32Array, count: number, out: Float64Array): number {
    const wasm = this.wasm;
    // The wasm row list holds at most N_i rows; a longer list (rows drawn with replacement) runs in JS.
    if (!wasm || count > this.rows) return this.referenceBatchGradient(x, rows, count, out);
    if (!(count >= 1 && count <= rows.length)) {
      throw new DcompError(`problem: minibatch size ${count} must be in [1, ${rows.length}]`);
    }
    this.writeRegulariserGradient(x, wasm.out);
    const invCount = 1 / count;
    const sum = wasm.accumulateBatchGradient(x, rows, count, invCount);
    out.set(wasm.out);
    return sum * invCount + this.regulariserValue(x);
  }

  /** The reference JS loop for `loss` (also the fallback without WebAssembly). */
  referenceLoss(x: Float64Array): number {
    const { rowPtr, colIdx, values } = this.A;
    const b = this.b;
    const n = this.rows;
    let sum = 0;
    for (let r = 0; r < n; r++) {
      let dot = 0;
      const end = rowPtr[r + 1];
      for (let k = rowPtr[r]; k < end; k++) dot += values[k] * x[colIdx[k]];
      const z = -b[r] * dot; // the loss term is softplus(−m)
      sum += softplus(z);
    }
    return sum * this.invRows + this.regulariserValue(x);
  }

  /** The reference JS loop for `gradient`: the minibatch loop over every row in order (same bits). */
  referenceGradient(x: Float64Array, out: Float64Array): number {
    this.allRows ??= Int32Array.from({ length: this.rows }, (_, r) => r);
    return this.referenceBatchGradient(x, this.allRows, this.rows, out);
  }

  /** The reference JS loop for `batchGradient`. */
  referenceBatchGradient(x: Float64Array, rows: Int32Array, count: number, out: Float64Array): number {
    if (!(count >= 1 && count <= rows.length)) {
      throw new DcompError(`problem: minibatch size ${count} must be in [1, ${rows.length}]`);
    }
    this.writeRegulariserGradient(x, out);
    const { rowPtr, colIdx, values } = this.A;
    const b = this.b;
    const invCount = 1 / count;
    let sum = 0;
    for (let i = 0; i < count; i++) {
      const r = rows[i];
      const start = rowPtr[r];
      const end = rowPtr[r + 1];
      let dot = 0;
      for (let k = start; k < end; k++) dot += values[k] * x[colIdx[k]];
      const br = b[r];
      const z = -br * dot;
      let sig: number;
      if (z > 0) {
        const e = Math.exp(-z);
        sum += z + Math.log1p(e);
        sig = 1 / (1 + e);
      } else {
        const e = Math.exp(z);
        sum += Math.log1p(e);
        sig = e / (1 + e);
      }
      const c = -br * sig * invCount;
      if (c !== 0) for (let k = start; k < end; k++) out[colIdx[k]] += c * values[k];
    }
    return sum * invCount + this.regulariserValue(x);
  }

  /**
   * out[j] = f_i(x) − f_i(x − eta·v_j·e_j) for all j in O(nnz). Moving coordinate j by −δ changes the
   * margin of row r by −b_r a_rj δ, i.e. the loss argument p = −m_r by u = b_r a_rj δ, so each row's
   * change is softplus(p) − softplus(p+u) = −log1p(σ(p)·expm1(u)): computed that way for |u| ≤ 1 so
   * that small differences keep full relative accuracy (no subtraction of two large losses).
   */
  coordinateDecrease(x: Float64Array, v: Float64Array, eta: number, out: Float64Array): void {
    if (this.kernels !== 'wasm') {
      this.referenceCoordinateDecrease(x, v, eta, out);
      return;
    }
    // The wasm instance keeps its own copies; the JS CSC is only needed to fill it.
    const kernel = (this.coordinateWasm ??= createWasmCoordinateKernel(this.A, this.b, signedCsc(this.A, this.b)));
    if (!kernel) {
      this.referenceCoordinateDecrease(x, v, eta, out);
      return;
    }
    const sums = kernel.columnSums(x, v, eta);
    const d = this.d;
    const invRows = this.invRows;
    for (let j = 0; j < d; j++) {
      const delta = eta * v[j];
      out[j] = delta === 0 ? 0 : sums[j] * invRows + this.regulariserDecrease(x[j], delta);
    }
  }

  /**
   * Regulariser change r(x) − r(x − δe_j) in closed form, factored so it has no cancellation:
   * with y = x_j − δ, x_j² − y² = δ(2x_j − δ).
   */
  regulariserDecrease(xj: number, delta: number): number {
    const sq = delta * (2 * xj - delta);
    if (this.regulariser === 'l2') return 0.5 * this.lambda * sq;
    const y = xj - delta;
    return (this.lambda * sq) / ((1 + xj * xj) * (1 + y * y));
  }

  /** The reference JS loops for `coordinateDecrease`. */
  referenceCoordinateDecrease(x: Float64Array, v: Float64Array, eta: number, out: Float64Array): void {
    const scratch = (this.coordinate ??= {
      csc: signedCsc(this.A, this.b),
      rowSigma: new Float64Array(this.rows),
      rowSoftplus: new Float64Array(this.rows),
    });
    const { rowPtr, colIdx, values } = this.A;
    const b = this.b;
    const n = this.rows;
    const p = this.margins; // holds p_r = −m_r here
    const { rowSigma, rowSoftplus } = scratch;
    for (let r = 0; r < n; r++) {
      let dot = 0;
      const end = rowPtr[r + 1];
      for (let k = rowPtr[r]; k < end; k++) dot += values[k] * x[colIdx[k]];
      const z = -b[r] * dot;
      p[r] = z;
      if (z > 0) {
        const e = Math.exp(-z);
        rowSoftplus[r] = z + Math.log1p(e);
        rowSigma[r] = 1 / (1 + e);
      } else {
        const e = Math.exp(z);
        rowSoftplus[r] = Math.log1p(e);
        rowSigma[r] = e / (1 + e);
      }
    }
    const { colPtr, rowIdx, signedValues } = scratch.csc;
    const d = this.d;
    const invRows = this.invRows;
    for (let j = 0; j < d; j++) {
      const delta = eta * v[j];
      if (delta === 0) {
        out[j] = 0;
        continue;
      }
      let sum = 0;
      const end = colPtr[j + 1];
      // Binary features make b_r·a_rj take two values per column: remember the last two expm1(u).
      let sv1 = Number.NaN;
      let em1 = 0;
      let sv2 = Number.NaN;
      let em2 = 0;
      for (let k = colPtr[j]; k < end; k++) {
        const r = rowIdx[k];
        const sv = signedValues[k];
        const u = sv * delta;
        if (u <= 1 && u >= -1) {
          let em: number;
          if (sv === sv1) em = em1;
          else if (sv === sv2) em = em2;
          else {
            em = Math.expm1(u);
            sv2 = sv1;
            em2 = em1;
            sv1 = sv;
            em1 = em;
          }
          sum -= Math.log1p(rowSigma[r] * em);
        } else {
          const z = p[r] + u;
          sum += rowSoftplus[r] - softplus(z);
        }
      }
      out[j] = sum * invRows + this.regulariserDecrease(x[j], delta);
    }
  }

  /** Stores σ(m_r)(1 − σ(m_r)) per row at x, for dataHessianVector. */
  prepareHessian(x: Float64Array): void {
    const curvature = (this.curvature ??= new Float64Array(this.rows));
    const { rowPtr, colIdx, values } = this.A;
    const n = this.rows;
    for (let r = 0; r < n; r++) {
      let dot = 0;
      const end = rowPtr[r + 1];
      for (let k = rowPtr[r]; k < end; k++) dot += values[k] * x[colIdx[k]];
      // σ(m)(1−σ(m)) = e^{−|m|}/(1+e^{−|m|})², symmetric in the sign of m (and of b).
      const e = Math.exp(-Math.abs(dot));
      const s = 1 + e;
      curvature[r] = e / (s * s);
    }
  }

  /** out += scale · (1/N_i) A_iᵀ D A_i v at the point given to prepareHessian (data term only). */
  addDataHessianVector(v: Float64Array, scale: number, out: Float64Array): void {
    const curvature = this.curvature;
    if (!curvature) throw new Error('LogregShard.prepareHessian must be called before addDataHessianVector');
    const { rowPtr, colIdx, values } = this.A;
    const n = this.rows;
    const c0 = scale * this.invRows;
    for (let r = 0; r < n; r++) {
      const start = rowPtr[r];
      const end = rowPtr[r + 1];
      let dot = 0;
      for (let k = start; k < end; k++) dot += values[k] * v[colIdx[k]];
      const c = c0 * curvature[r] * dot;
      if (c !== 0) for (let k = start; k < end; k++) out[colIdx[k]] += c * values[k];
    }
  }
}

/** Correct predictions of sign(aᵀx) against b over the rows of A; sign(0) counts as +1. */
function countCorrect(A: CsrMatrix, b: Float64Array, x: Float64Array): number {
  const { rowPtr, colIdx, values } = A;
  let correct = 0;
  for (let r = 0; r < A.rows; r++) {
    let dot = 0;
    const end = rowPtr[r + 1];
    for (let k = rowPtr[r]; k < end; k++) dot += values[k] * x[colIdx[k]];
    const predicted = dot >= 0 ? 1 : -1;
    if (predicted === b[r]) correct++;
  }
  return correct;
}

/** f = (1/n) Σ f_i over the workers' shards. */
export class LogregProblem implements Problem {
  readonly d: number;
  readonly workers: readonly LogregShard[];
  readonly totalRows: number;
  readonly convex: boolean;
  private readonly scratch: Float64Array;
  private cachedSmoothness: Smoothness | undefined;

  constructor(
    readonly name: string,
    data: LabeledData,
    readonly lambda: number,
    readonly regulariser: RegulariserKind,
    shards: readonly Int32Array[],
    options: LogregOptions = {},
  ) {
    if (shards.length === 0) throw new DcompError('problem: at least one worker shard is required');
    this.d = data.X.cols;
    this.convex = regulariser === 'l2';
    this.workers = shards.map((rows) => {
      const b = new Float64Array(rows.length);
      const shard = selectRows(data.X, rows);
      for (let i = 0; i < rows.length; i++) b[i] = data.b[rows[i]];
      return new LogregShard(shard, b, lambda, regulariser, options);
    });
    this.totalRows = this.workers.reduce((s, w) => s + w.rows, 0);
    this.scratch = new Float64Array(this.d);
  }

  loss(x: Float64Array): number {
    return meanLoss(this.workers, x);
  }

  gradient(x: Float64Array, out: Float64Array): number {
    return meanGradient(this.workers, x, out, this.scratch);
  }

  accuracy(x: Float64Array, data?: LabeledData): number {
    if (data === undefined) {
      let correct = 0;
      for (const w of this.workers) correct += countCorrect(w.A, w.b, x);
      return correct / this.totalRows;
    }
    if (data.X.cols > this.d) {
      throw new DcompError(
        `${data.source}: has ${data.X.cols} features but the model has ${this.d}; ` +
          `align them with --features ${data.X.cols}`,
      );
    }
    if (data.X.rows === 0) return Number.NaN;
    return countCorrect(data.X, data.b, x) / data.X.rows;
  }

  smoothness(): Smoothness {
    return (this.cachedSmoothness ??= logregSmoothness(
      this.workers.map((w) => w.A),
      this.regulariser === 'l2' ? this.lambda : 2 * this.lambda,
    ));
  }

  /** Stores the per-row curvature at x for hessianVector. */
  prepareHessian(x: Float64Array): void {
    for (const w of this.workers) w.prepareHessian(x);
  }

  /** out = ∇²f(x) v at the point given to prepareHessian (convex L2 problem only). */
  hessianVector(v: Float64Array, out: Float64Array): void {
    if (this.regulariser !== 'l2') throw new Error('hessianVector is implemented for the L2 (convex) problem only');
    const d = this.d;
    for (let j = 0; j < d; j++) out[j] = this.lambda * v[j];
    const scale = 1 / this.workers.length;
    for (const w of this.workers) w.addDataHessianVector(v, scale, out);
  }
}

/** λ of spec §2, declared per problem: the defaults differ (spec §6). */
export function l2Option(defaultL2: number) {
  return declare('l2', real({ min: 0 }), { default: defaultL2, help: 'regularisation λ ≥ 0', record: 'column' });
}
const LOGREG_L2 = l2Option(1e-3);
const NONCONVEX_L2 = l2Option(0.1);

function resolveLambda(options: ProblemOptions, decl: OptionDecl): number {
  const lambda = options.values?.l2 ?? decl.default;
  if (typeof lambda !== 'number' || !(Number.isFinite(lambda) && lambda >= 0)) {
    throw new OptionError('l2', `expected a finite number ≥ 0, got ${String(lambda)}`);
  }
  return lambda;
}

/** A ProblemSpec whose problems expose the logreg internals (shards, Hessian products). */
export interface LogregSpec extends ProblemSpec {
  create(data: LabeledData, options: ProblemOptions): LogregProblem;
}

export const logregSpec: LogregSpec = {
  name: 'logreg',
  description: 'logistic regression with (λ/2)‖x‖² (convex)',
  options: [LOGREG_L2],
  convex: true,
  create(data: LabeledData, options: ProblemOptions): LogregProblem {
    return new LogregProblem('logreg', data, resolveLambda(options, LOGREG_L2), 'l2', options.shards);
  },
};

export const logregNonconvexSpec: LogregSpec = {
  name: 'logreg-nonconvex',
  description: 'logistic regression with λ Σ x_t²/(1+x_t²) (non-convex, EF21 papers)',
  options: [NONCONVEX_L2],
  convex: false,
  create(data: LabeledData, options: ProblemOptions): LogregProblem {
    return new LogregProblem('logreg-nonconvex', data, resolveLambda(options, NONCONVEX_L2), 'nonconvex', options.shards);
  },
};
