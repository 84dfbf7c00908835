/**
 * Pieces shared by the importance compressors imp-a, imp-b, imp-c (spec §3, seed 000 §3.1): the
 * inner-solver options, the k-pair message (same bits as topk) and one gradient of
 * g(w) = f_i(x − η (w ⊙ v)).
 */
import { OptionError, type OptionValues } from '../core/options.js';
import { INNER_STEP_OPTION, INNER_STEPS_OPTION } from './options.js';
import type { LocalObjective } from '../problems/types.js';
import type { WireMessage } from './types.js';
import { sparseBits, sparseMessage } from './wire.js';

/** Spec §3 default of `--inner-steps` (M), as declared. */
export const DEFAULT_INNER_STEPS = INNER_STEPS_OPTION.default as number;
/** Spec §3 default of `--inner-step` (τ₀), as declared. */
export const DEFAULT_INNER_STEP = INNER_STEP_OPTION.default as number;

/** The reusable message of k (index, value) pairs: k·(F + ⌈log2 d⌉) bits, exactly as topk. */
export function importanceMessage(k: number, d: number, floatBits: number, indexBits?: number): WireMessage {
  const msg = sparseMessage(k, sparseBits(k, d, floatBits, indexBits));
  msg.nnz = k;
  return msg;
}

/** M, `--inner-steps`: an integer ≥ 1, default 20. */
export function checkInnerSteps(name: string, values: OptionValues): number {
  const m = values.inner_steps ?? DEFAULT_INNER_STEPS;
  if (typeof m !== 'number' || !Number.isInteger(m) || m < 1) {
    throw new OptionError('inner_steps', `${name} accepts an integer ≥ 1 (default ${DEFAULT_INNER_STEPS}), got ${String(m)}`);
  }
  return m;
}

/** τ₀, `--inner-step`: a finite number > 0, default 1. */
export function checkInnerStep(name: string, values: OptionValues): number {
  const t = values.inner_step ?? DEFAULT_INNER_STEP;
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0) {
    throw new OptionError('inner_step', `${name} accepts a finite number > 0 (default ${DEFAULT_INNER_STEP}), got ${String(t)}`);
  }
  return t;
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
  // The loss is not needed here: skip it (same gradient bits, no log1p per row).
  if (objective.gradientOnly) objective.gradientOnly(y, gradG);
  else objective.gradient(y, gradG);
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
