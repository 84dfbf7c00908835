/**
 * imp-b (spec §3, seed 000 §3.1 (b)): w ≈ argmin over the simplex Δ_d of g(w) = f_i(x − η (w ⊙ v)),
 * by M steps of entropic mirror descent (KL divergence) from w⁰ = 1/d:
 *   w ← w ⊙ exp(−τ ∇g(w)) / Σ(...),  ∇g(w) = −η v ⊙ ∇f_i(x − η (w ⊙ v)),  τ = τ₀ / ‖∇g(w⁰)‖_∞.
 * Keep the k largest w (ties by the smaller index) and send Σ_{j∈S} v_j e_j.
 *
 * Numerics: the iterate is kept as log w and renormalised with log-sum-exp, so the multiplicative
 * update can neither overflow nor underflow into NaN; w = exp(log w) (possibly 0 for negligible
 * weights) is only used to form the point x − η (w ⊙ v). The ranking is done on log w: the same
 * order as w, but it still separates weights that underflow to 0 in float64.
 *
 * If ‖∇g(w⁰)‖_∞ = 0, w⁰ is a fixed point of the update for every τ (exp(0) = 1 everywhere), so τ is
 * set to 0 and the weights stay uniform (support: the k smallest indices); the M gradients are
 * skipped since they cannot change anything. A non-finite gradient (a diverged iterate) stops the
 * inner loop and keeps the last finite weights.
 *
 * Cost: M gradients of f_i (O(M·nnz)) + O(M·d) + O(d) selection; every buffer is made in `create`,
 * nothing is allocated per call or per inner step.
 */
import { TopKSelector } from './select.js';
import { INNER_STEP_OPTION, INNER_STEPS_OPTION, K_OPTION, requireK } from './options.js';
import { checkInnerStep, checkInnerSteps, innerGradient, importanceMessage } from './importance-shared.js';
import type { CompressContext, Compressor, CompressorOptions, CompressorSpec, WireMessage } from './types.js';

export class ImportanceBCompressor implements Compressor {
  readonly name = 'imp-b';
  /** w^M from the last call (on the simplex); exposed for tests and diagnostics. */
  readonly weights: Float64Array;
  /** τ used in the last call (0 when ‖∇g(w⁰)‖_∞ = 0 or is not finite). */
  lastTau = 0;
  /** Mirror steps actually applied in the last call (M unless stopped early, see above). */
  lastStepsApplied = 0;
  private logW: Float64Array;
  private logWNext: Float64Array;
  private readonly point: Float64Array;
  private readonly gradG: Float64Array;
  private readonly selector: TopKSelector;
  private readonly message: WireMessage;

  constructor(
    readonly d: number,
    readonly k: number,
    floatBits: number,
    readonly innerSteps: number,
    readonly innerStep: number,
    indexBits?: number,
  ) {
    this.weights = new Float64Array(d);
    this.logW = new Float64Array(d);
    this.logWNext = new Float64Array(d);
    this.point = new Float64Array(d);
    this.gradG = new Float64Array(d);
    this.selector = new TopKSelector(d);
    this.message = importanceMessage(k, d, floatBits, indexBits);
  }

  /** log w^M from the last call (the array is swapped between calls; read it right after `compress`). */
  get logWeights(): Float64Array {
    return this.logW;
  }

  compress(v: Float64Array, ctx: CompressContext): WireMessage {
    const { x, objective, stepSize: eta } = ctx;
    const d = this.d, w = this.weights, gradG = this.gradG;
    this.logW.fill(-Math.log(d));
    w.fill(1 / d);
    let tau = 0;
    let applied = 0;
    for (let m = 0; m < this.innerSteps; m++) {
      const gradNorm = innerGradient(objective, x, v, eta, w, this.point, gradG);
      if (!Number.isFinite(gradNorm)) break;
      if (m === 0) {
        if (gradNorm === 0) break;
        tau = this.innerStep / gradNorm;
      }
      // log w ← log w − τ ∇g(w), then subtract log Σ exp(·) (shifted by the max, so Σ ∈ [1, d]).
      const cur = this.logW, next = this.logWNext;
      let top = -Infinity;
      for (let j = 0; j < d; j++) {
        const t = cur[j] - tau * gradG[j];
        next[j] = t;
        if (t > top) top = t;
      }
      let sum = 0;
      for (let j = 0; j < d; j++) sum += Math.exp(next[j] - top);
      const logNorm = top + Math.log(sum);
      if (!Number.isFinite(logNorm)) break;
      for (let j = 0; j < d; j++) {
        const t = next[j] - logNorm;
        next[j] = t;
        w[j] = Math.exp(t);
      }
      this.logW = next;
      this.logWNext = cur;
      applied++;
    }
    this.lastTau = tau;
    this.lastStepsApplied = applied;
    const msg = this.message;
    this.selector.select(this.logW, d, this.k, msg.indices, false);
    for (let t = 0; t < this.k; t++) msg.values[t] = v[msg.indices[t]];
    return msg;
  }
}

export const importanceBSpec: CompressorSpec = {
  name: 'imp-b',
  description:
    'importance (b): k largest weights of argmin over the simplex of f_i(x − η (w ⊙ v)), M steps of KL mirror descent from 1/d',
  options: [K_OPTION, INNER_STEPS_OPTION, INNER_STEP_OPTION],
  bitsFormula: 'k·(F + I)',
  needsObjective: true,
  randomized: false,
  create(options: CompressorOptions): Compressor {
    const k = requireK(options.values, options.d, 'imp-b');
    const steps = checkInnerSteps('imp-b', options.values);
    const step = checkInnerStep('imp-b', options.values);
    return new ImportanceBCompressor(options.d, k, options.floatBits, steps, step, options.indexBits);
  },
};
