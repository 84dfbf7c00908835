/**
 * Pieces shared by the importance compressors imp-a, imp-b, imp-c (spec §3, seed 000 §3.1):
 * option validation, the preallocated sparse wire message, and one inner-solver gradient of
 * g(w) = f_i(x − η (w ⊙ v)).
 */
import { UsageError } from '../core/errors.js';
import type { LocalObjective } from '../problems/types.js';
import type { CompressorOptions, WireMessage } from './types.js';

/** Spec §3 default of `--inner-steps` (M). */
export const DEFAULT_INNER_STEPS = 20;
/** Spec §3 default of `--inner-step` (τ₀). */
export const DEFAULT_INNER_STEP = 1;

/** Same bit count as topk: k pairs of (float, index), k·(F + ⌈log2 d⌉) (spec §3). */
export function importanceBits(k: number, d: number, floatBits: number): number {
  // ⌈log2 d⌉ by integer doubling, so that powers of two are exact whatever Math.log2 rounds to.
  let indexBits = 0;
  while (2 ** indexBits < d) indexBits++;
  return k * (floatBits + indexBits);
}

/** k is required and must be an integer in [1, d] (spec §6). */
export function checkK(name: string, options: CompressorOptions): number {
  const { k, d } = options;
  if (k === undefined) throw new UsageError(`--k: ${name} requires --k, an integer with 1 ≤ k ≤ d = ${d}`);
  if (!Number.isInteger(k) || k < 1 || k > d) {
    throw new UsageError(`--k: ${name} accepts an integer with 1 ≤ k ≤ d = ${d}, got ${k}`);
  }
  return k;
}

/** M, `--inner-steps`: an integer ≥ 1, default 20. */
export function checkInnerSteps(name: string, options: CompressorOptions): number {
  const m = options.innerSteps ?? DEFAULT_INNER_STEPS;
  if (!Number.isInteger(m) || m < 1) {
    throw new UsageError(`--inner-steps: ${name} accepts an integer ≥ 1 (default ${DEFAULT_INNER_STEPS}), got ${m}`);
  }
  return m;
}

/** τ₀, `--inner-step`: a finite number > 0, default 1. */
export function checkInnerStep(name: string, options: CompressorOptions): number {
  const t = options.innerStep ?? DEFAULT_INNER_STEP;
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0) {
    throw new UsageError(`--inner-step: ${name} accepts a finite number > 0 (default ${DEFAULT_INNER_STEP}), got ${t}`);
  }
  return t;
}

/** The k-pair sparse message a compressor owns and overwrites on every call. */
export function sparseMessage(k: number, d: number, floatBits: number): WireMessage {
  return {
    format: 'sparse',
    nnz: k,
    indices: new Int32Array(k),
    values: new Float64Array(k),
    bits: importanceBits(k, d, floatBits),
  };
}

/**
 * One gradient of g(w) = f_i(x − η (w ⊙ v)) for the inner solvers of imp-b and imp-c:
 * writes the point y = x − η (w ⊙ v), then ∇g(w) = −η v ⊙ ∇f_i(y) into `gradG` (which first receives
 * ∇f_i(y), so no further buffer is needed). Returns ‖∇g(w)‖_∞ (NaN when any entry is NaN, so that
 * callers can stop on a non-finite gradient). One gradient of f_i, O(nnz) + O(d), no allocation.
 */
export function innerGradient(
  objective: LocalObjective,
  x: Float64Array,
  v: Float64Array,
  eta: number,
  w: Float64Array,
  y: Float64Array,
  gradG: Float64Array,
): number {
  const d = x.length;
  for (let j = 0; j < d; j++) y[j] = x[j] - eta * (w[j] * v[j]);
  objective.gradient(y, gradG);
  let maxAbs = 0;
  for (let j = 0; j < d; j++) {
    const gj = -eta * v[j] * gradG[j];
    gradG[j] = gj;
    const a = Math.abs(gj);
    // a NaN entry makes the norm NaN and it stays NaN (comparisons with NaN are false).
    if (a > maxAbs || Number.isNaN(a)) maxAbs = a;
  }
  return maxAbs;
}
