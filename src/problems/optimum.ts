/**
 * f* = min f for convex problems (spec §2), to ‖∇f‖ ≤ 1e-10 in float64.
 *
 * Problems that offer Hessian-vector products (logreg: H v = (1/n) Σ_i (1/N_i) A_iᵀ D A_i v + λv,
 * D = σ(m)(1−σ(m)), O(nnz) per product) are solved by inexact Newton–CG with a backtracking line
 * search; any other convex problem falls back to L-BFGS.
 */
import { DcompError } from '../core/errors.js';
import type { Problem } from './types.js';

/** A problem that can multiply by its Hessian at a prepared point. */
export interface HessianVectorProblem extends Problem {
  prepareHessian(x: Float64Array): void;
  hessianVector(v: Float64Array, out: Float64Array): void;
}

export interface OptimumOptions {
  /** Target ‖∇f‖ (default 1e-10). */
  tolerance?: number;
  /** Outer iterations (Newton steps or L-BFGS steps) before giving up (default 200 / 20000). */
  maxIterations?: number;
  /** Starting point (default zeros). */
  x0?: Float64Array;
}

export interface OptimumResult {
  readonly fStar: number;
  readonly x: Float64Array;
  readonly gradNorm: number;
  readonly iterations: number;
}

function hasHessian(problem: Problem): problem is HessianVectorProblem {
  const p = problem as Partial<HessianVectorProblem>;
  return typeof p.prepareHessian === 'function' && typeof p.hessianVector === 'function';
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j] * b[j];
  return s;
}

/**
 * Accepts a trial point when Armijo holds, or — once f has stopped changing above its rounding
 * level, where Armijo compares noise — when the gradient norm still decreases.
 */
function acceptable(f: number, fTrial: number, slope: number, t: number, gNorm: number, gTrialNorm: number): boolean {
  if (!Number.isFinite(fTrial)) return false;
  if (fTrial <= f + 1e-4 * t * slope) return true;
  return fTrial - f <= 1e-14 * Math.abs(f) && gTrialNorm < gNorm;
}

function notReached(problem: Problem, method: string, gradNorm: number, tol: number, iterations: number): DcompError {
  return new DcompError(
    `f*: ${method} stopped at ‖∇f‖ = ${gradNorm} > ${tol} after ${iterations} iterations on ${problem.name}`,
  );
}

function newtonCg(problem: HessianVectorProblem, tol: number, maxIterations: number, x0?: Float64Array): OptimumResult {
  const d = problem.d;
  const x = x0 ? Float64Array.from(x0) : new Float64Array(d);
  const g = new Float64Array(d);
  const p = new Float64Array(d); // Newton direction
  const r = new Float64Array(d); // CG residual
  const s = new Float64Array(d); // CG search direction
  const hs = new Float64Array(d);
  const xTrial = new Float64Array(d);
  const gTrial = new Float64Array(d);
  const maxCg = Math.max(200, 20 * d);
  let f = problem.gradient(x, g);
  let gNorm = Math.sqrt(dot(g, g));
  for (let it = 0; it < maxIterations; it++) {
    if (gNorm <= tol) return { fStar: f, x, gradNorm: gNorm, iterations: it };
    problem.prepareHessian(x);
    // CG on H p = −g from p = 0, to the forcing tolerance min(0.5, √‖g‖)·‖g‖ (superlinear Newton).
    const cgTol = Math.min(0.5, Math.sqrt(gNorm)) * gNorm;
    p.fill(0);
    for (let j = 0; j < d; j++) {
      r[j] = -g[j];
      s[j] = r[j];
    }
    let rr = dot(r, r);
    for (let k = 0; k < maxCg && Math.sqrt(rr) > cgTol; k++) {
      problem.hessianVector(s, hs);
      const curvature = dot(s, hs);
      if (!(curvature > 0)) break; // cannot happen for λ > 0; keep the descent direction found so far
      const step = rr / curvature;
      for (let j = 0; j < d; j++) {
        p[j] += step * s[j];
        r[j] -= step * hs[j];
      }
      const rrNext = dot(r, r);
      const ratio = rrNext / rr;
      for (let j = 0; j < d; j++) s[j] = r[j] + ratio * s[j];
      rr = rrNext;
    }
    if (dot(p, p) === 0) for (let j = 0; j < d; j++) p[j] = -g[j];
    const slope = dot(g, p);
    const trial = backtrack(problem, x, p, f, slope, gNorm, xTrial, gTrial);
    if (!trial) throw notReached(problem, 'Newton-CG (line search failed)', gNorm, tol, it + 1);
    x.set(xTrial);
    g.set(gTrial);
    ({ f, gNorm } = trial);
  }
  if (gNorm <= tol) return { fStar: f, x, gradNorm: gNorm, iterations: maxIterations };
  throw notReached(problem, 'Newton-CG', gNorm, tol, maxIterations);
}

/**
 * Backtracking line search along p from x (halving t from 1, at most 60 times) until `acceptable`.
 * On success xTrial/gTrial hold the accepted point and its gradient, and f and ‖∇f‖ there are returned.
 */
function backtrack(
  problem: Problem, x: Float64Array, p: Float64Array, f: number, slope: number, gNorm: number,
  xTrial: Float64Array, gTrial: Float64Array,
): { f: number; gNorm: number } | undefined {
  let t = 1;
  for (let ls = 0; ls < 60; ls++) {
    for (let j = 0; j < x.length; j++) xTrial[j] = x[j] + t * p[j];
    const fTrial = problem.gradient(xTrial, gTrial);
    const gTrialNorm = Math.sqrt(dot(gTrial, gTrial));
    if (acceptable(f, fTrial, slope, t, gNorm, gTrialNorm)) return { f: fTrial, gNorm: gTrialNorm };
    t *= 0.5;
  }
  return undefined;
}

function lbfgs(problem: Problem, tol: number, maxIterations: number, x0?: Float64Array): OptimumResult {
  const d = problem.d;
  const memory = 10;
  const x = x0 ? Float64Array.from(x0) : new Float64Array(d);
  const g = new Float64Array(d);
  const p = new Float64Array(d);
  const xTrial = new Float64Array(d);
  const gTrial = new Float64Array(d);
  const S = Array.from({ length: memory }, () => new Float64Array(d));
  const Y = Array.from({ length: memory }, () => new Float64Array(d));
  const rho = new Float64Array(memory);
  const coef = new Float64Array(memory);
  let stored = 0;
  let newest = -1;
  let f = problem.gradient(x, g);
  let gNorm = Math.sqrt(dot(g, g));
  for (let it = 0; it < maxIterations; it++) {
    if (gNorm <= tol) return { fStar: f, x, gradNorm: gNorm, iterations: it };
    // Two-loop recursion: p = −H_k g.
    for (let j = 0; j < d; j++) p[j] = -g[j];
    for (let m = 0; m < stored; m++) {
      const i = (newest - m + memory) % memory;
      coef[i] = rho[i] * dot(S[i], p);
      const yi = Y[i];
      for (let j = 0; j < d; j++) p[j] -= coef[i] * yi[j];
    }
    if (stored > 0) {
      const gamma = dot(S[newest], Y[newest]) / dot(Y[newest], Y[newest]);
      for (let j = 0; j < d; j++) p[j] *= gamma;
    } else {
      const scale = 1 / Math.max(gNorm, 1);
      for (let j = 0; j < d; j++) p[j] *= scale;
    }
    for (let m = stored - 1; m >= 0; m--) {
      const i = (newest - m + memory) % memory;
      const beta = rho[i] * dot(Y[i], p);
      const si = S[i];
      for (let j = 0; j < d; j++) p[j] += (coef[i] - beta) * si[j];
    }
    let slope = dot(g, p);
    if (!(slope < 0)) {
      for (let j = 0; j < d; j++) p[j] = -g[j];
      slope = -gNorm * gNorm;
      stored = 0;
    }
    const trial = backtrack(problem, x, p, f, slope, gNorm, xTrial, gTrial);
    if (!trial) throw notReached(problem, 'L-BFGS (line search failed)', gNorm, tol, it + 1);
    const next = (newest + 1) % memory;
    const sNew = S[next];
    const yNew = Y[next];
    for (let j = 0; j < d; j++) {
      sNew[j] = xTrial[j] - x[j];
      yNew[j] = gTrial[j] - g[j];
    }
    const sy = dot(sNew, yNew);
    if (sy > 1e-300) {
      // Skip pairs without positive curvature so the inverse-Hessian model stays positive definite.
      rho[next] = 1 / sy;
      newest = next;
      stored = Math.min(stored + 1, memory);
    }
    x.set(xTrial);
    g.set(gTrial);
    ({ f, gNorm } = trial);
  }
  if (gNorm <= tol) return { fStar: f, x, gradNorm: gNorm, iterations: maxIterations };
  throw notReached(problem, 'L-BFGS', gNorm, tol, maxIterations);
}

/**
 * The minimiser of a convex problem to ‖∇f‖ ≤ tolerance, or undefined for a non-convex problem (no f*).
 * Throws DcompError when the tolerance is not reached within the iteration budget.
 */
export function solveOptimum(problem: Problem, options: OptimumOptions = {}): OptimumResult | undefined {
  if (!problem.convex) return undefined;
  const tol = options.tolerance ?? 1e-10;
  if (hasHessian(problem)) return newtonCg(problem, tol, options.maxIterations ?? 200, options.x0);
  return lbfgs(problem, tol, options.maxIterations ?? 20000, options.x0);
}
