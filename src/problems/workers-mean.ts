/**
 * f = (1/n) Σ_i f_i and ∇f = (1/n) Σ_i ∇f_i (spec §2), in the one order every problem uses:
 * worker 0 first into `out`, then each further worker added, then the scale by 1/n (skipped for n = 1,
 * so that one worker's f is its f_i bit for bit).
 */
import type { LocalObjective } from './types.js';

export function meanLoss(workers: readonly LocalObjective[], x: Float64Array): number {
  let s = 0;
  for (const w of workers) s += w.loss(x);
  return s / workers.length;
}

/** Writes ∇f(x) into `out`; `scratch` (length d) holds one worker's gradient at a time. Returns f(x). */
export function meanGradient(workers: readonly LocalObjective[], x: Float64Array, out: Float64Array, scratch: Float64Array): number {
  const d = out.length;
  let s = workers[0].gradient(x, out);
  for (let i = 1; i < workers.length; i++) {
    s += workers[i].gradient(x, scratch);
    for (let j = 0; j < d; j++) out[j] += scratch[j];
  }
  const inv = 1 / workers.length;
  if (workers.length > 1) for (let j = 0; j < d; j++) out[j] *= inv;
  return s * inv;
}
