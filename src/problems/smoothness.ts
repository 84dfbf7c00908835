/**
 * Smoothness constants of logistic regression (spec §2) from the largest eigenvalue of Gram matrices,
 * computed matrix-free (v ↦ Aᵀ(Av) over the CSR rows, O(nnz) per product, O(d) memory).
 *
 * λ_max is found by Lanczos, the Krylov acceleration of power iteration: after k products its
 * estimate is the largest Rayleigh quotient over span{v, Mv, …, M^{k−1}v}, so it is never worse than
 * k power steps and usually far better. It stops on the Ritz residual ‖Mŷ − θŷ‖ ≤ tol·θ, which bounds
 * the distance from θ to an eigenvalue of M (Bauer–Fike for symmetric matrices), default tol = 1e-10.
 */
import { DcompError } from '../core/errors.js';
import type { CsrMatrix } from '../data/types.js';
import type { Smoothness } from './types.js';

export interface LambdaMaxOptions {
  /** Stop when the Ritz residual is at most this times the estimate (default 1e-10). */
  relativeTolerance?: number;
  /** Operator applications before giving up (default 20000). */
  maxSteps?: number;
}

export interface LambdaMaxResult {
  readonly value: number;
  /** Operator applications used. */
  readonly steps: number;
  /** Ritz residual estimate β_k·|s_k| at the end. */
  readonly residual: number;
}

/** Number of eigenvalues of the symmetric tridiagonal (alpha[0..k), beta[0..k−1)) below x (Sturm). */
function countBelow(alpha: Float64Array, beta: Float64Array, k: number, x: number): number {
  let count = 0;
  let q = alpha[0] - x;
  if (q < 0) count++;
  for (let j = 1; j < k; j++) {
    if (q === 0) q = Number.MIN_VALUE * 1e10;
    q = alpha[j] - x - (beta[j - 1] * beta[j - 1]) / q;
    if (q < 0) count++;
  }
  return count;
}

/** Largest eigenvalue of the tridiagonal by bisection; `hint` is a value believed to be below it. */
function tridiagonalLargest(alpha: Float64Array, beta: Float64Array, k: number, hint: number): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let j = 0; j < k; j++) {
    const radius = (j > 0 ? Math.abs(beta[j - 1]) : 0) + (j < k - 1 ? Math.abs(beta[j]) : 0);
    lo = Math.min(lo, alpha[j] - radius);
    hi = Math.max(hi, alpha[j] + radius);
  }
  // Interlacing: the largest Ritz value only grows with k, so the previous one is a lower bound.
  if (hint > lo && hint < hi && countBelow(alpha, beta, k, hint) <= k - 1) lo = hint;
  for (let it = 0; it < 200; it++) {
    const mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (countBelow(alpha, beta, k, mid) <= k - 1) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/**
 * |last component| of the unit eigenvector of the tridiagonal for its largest eigenvalue theta, by two
 * steps of inverse iteration with the shift just above theta (σI − T is then positive definite, so
 * the LDLᵀ solve without pivoting is stable). `work` has room for 2k numbers.
 */
function lastEigenvectorComponent(
  alpha: Float64Array,
  beta: Float64Array,
  k: number,
  theta: number,
  scale: number,
  work: Float64Array,
): number {
  const sigma = theta + 1e-10 * scale;
  const diag = work.subarray(0, k);
  const y = work.subarray(k, 2 * k);
  diag[0] = sigma - alpha[0];
  for (let j = 1; j < k; j++) {
    const prev = diag[j - 1] === 0 ? Number.MIN_VALUE : diag[j - 1];
    diag[j] = sigma - alpha[j] - (beta[j - 1] * beta[j - 1]) / prev;
  }
  y.fill(1);
  for (let pass = 0; pass < 2; pass++) {
    // (σI − T) = L D Lᵀ with L unit lower bidiagonal, L[j][j−1] = −β_{j−1}/D_{j−1}.
    for (let j = 1; j < k; j++) y[j] += (beta[j - 1] / diag[j - 1]) * y[j - 1];
    for (let j = 0; j < k; j++) y[j] /= diag[j];
    for (let j = k - 2; j >= 0; j--) y[j] += (beta[j] / diag[j]) * y[j + 1];
    let norm = 0;
    for (let j = 0; j < k; j++) norm = Math.max(norm, Math.abs(y[j]));
    if (!(norm > 0 && Number.isFinite(norm))) return 0;
    for (let j = 0; j < k; j++) y[j] /= norm;
  }
  let sq = 0;
  for (let j = 0; j < k; j++) sq += y[j] * y[j];
  return Math.abs(y[k - 1]) / Math.sqrt(sq);
}

/**
 * λ_max of a symmetric positive semi-definite operator given as `apply(v, out)` (out = Mv, length d).
 * Deterministic: the start vector is v_j = 1 + frac(j·φ⁻¹) (positive, so never orthogonal to the
 * non-negative Perron vector of a Gram matrix of non-negative data; the irrational offsets keep it off
 * the structured eigenvectors, e.g. the all-ones vector, of mixed-sign data).
 */
export function symmetricLambdaMax(
  apply: (v: Float64Array, out: Float64Array) => void,
  d: number,
  options: LambdaMaxOptions = {},
): LambdaMaxResult {
  const tol = options.relativeTolerance ?? 1e-10;
  const maxSteps = options.maxSteps ?? 20000;
  let q = new Float64Array(d);
  let qPrev = new Float64Array(d);
  let w = new Float64Array(d);
  let norm = 0;
  for (let j = 0; j < d; j++) {
    const phase = (j * 0.6180339887498949) % 1;
    q[j] = 1 + phase;
    norm += q[j] * q[j];
  }
  norm = Math.sqrt(norm);
  for (let j = 0; j < d; j++) q[j] /= norm;

  let capacity = 64;
  let alpha = new Float64Array(capacity);
  let beta = new Float64Array(capacity);
  let work = new Float64Array(2 * capacity);
  let betaPrev = 0;
  let theta = -Infinity;
  let scale = 0;
  for (let k = 0; k < maxSteps; k++) {
    if (k + 1 > capacity) {
      capacity *= 2;
      const a2 = new Float64Array(capacity);
      a2.set(alpha);
      alpha = a2;
      const b2 = new Float64Array(capacity);
      b2.set(beta);
      beta = b2;
      work = new Float64Array(2 * capacity);
    }
    apply(q, w);
    let a = 0;
    for (let j = 0; j < d; j++) a += q[j] * w[j];
    for (let j = 0; j < d; j++) w[j] -= a * q[j] + betaPrev * qPrev[j];
    // A second Gram–Schmidt pass against q keeps the three-term recurrence well conditioned.
    let c = 0;
    for (let j = 0; j < d; j++) c += q[j] * w[j];
    for (let j = 0; j < d; j++) w[j] -= c * q[j];
    a += c;
    alpha[k] = a;
    let bNext = 0;
    for (let j = 0; j < d; j++) bNext += w[j] * w[j];
    bNext = Math.sqrt(bNext);
    scale = Math.max(scale, Math.abs(a) + bNext + betaPrev);
    theta = tridiagonalLargest(alpha, beta, k + 1, theta);
    const residual = bNext * lastEigenvectorComponent(alpha, beta, k + 1, theta, scale, work);
    // β below rounding level: the Krylov space is invariant and θ is exact for it.
    if (residual <= tol * Math.abs(theta) || bNext <= 1e-14 * scale) {
      return { value: Math.max(theta, 0), steps: k + 1, residual };
    }
    beta[k] = bNext;
    const spare = qPrev;
    qPrev = q;
    q = w;
    w = spare;
    const inv = 1 / bNext;
    for (let j = 0; j < d; j++) q[j] *= inv;
    betaPrev = bNext;
  }
  throw new DcompError(`smoothness: Lanczos did not reach relative residual ${tol} in ${maxSteps} steps`);
}

/** out = Σ_r weight·(a_rᵀv) a_r, accumulated into out (not cleared). */
function addGramProduct(A: CsrMatrix, v: Float64Array, weight: number, out: Float64Array): void {
  const { rowPtr, colIdx, values } = A;
  for (let r = 0; r < A.rows; r++) {
    const start = rowPtr[r];
    const end = rowPtr[r + 1];
    let dot = 0;
    for (let k = start; k < end; k++) dot += values[k] * v[colIdx[k]];
    const c = weight * dot;
    if (c !== 0) for (let k = start; k < end; k++) out[colIdx[k]] += c * values[k];
  }
}

/** λ_max(AᵀA). */
export function gramLambdaMax(A: CsrMatrix, options?: LambdaMaxOptions): number {
  return symmetricLambdaMax(
    (v, out) => {
      out.fill(0);
      addGramProduct(A, v, 1, out);
    },
    A.cols,
    options,
  ).value;
}

/** λ_max((1/n) Σ_i A_iᵀA_i / N_i). */
export function averagedGramLambdaMax(shards: readonly CsrMatrix[], options?: LambdaMaxOptions): number {
  const n = shards.length;
  return symmetricLambdaMax(
    (v, out) => {
      out.fill(0);
      for (const A of shards) addGramProduct(A, v, 1 / (n * A.rows), out);
    },
    shards[0].cols,
    options,
  ).value;
}

/**
 * L_i = λ_max(A_iᵀA_i)/(4N_i) + c, L = λ_max((1/n) Σ A_iᵀA_i/N_i)/4 + c, L̃ = sqrt(mean L_i²), with
 * c the regulariser's curvature bound (λ for (λ/2)‖x‖², 2λ for λ Σ x²/(1+x²)).
 */
export function logregSmoothness(shards: readonly CsrMatrix[], regulariserCurvature: number): Smoothness {
  const n = shards.length;
  const Li = new Float64Array(n);
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    Li[i] = gramLambdaMax(shards[i]) / (4 * shards[i].rows) + regulariserCurvature;
    sumSq += Li[i] * Li[i];
  }
  // One worker: the two definitions coincide; reuse so that L = L_1 exactly.
  const L = n === 1 ? Li[0] : averagedGramLambdaMax(shards) / 4 + regulariserCurvature;
  return { L, Li, Ltilde: Math.sqrt(sumSq / n) };
}
