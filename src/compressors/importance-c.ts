/**
 * imp-c (spec §3, seed 000 §3.1 (c)): w ≈ argmin over the box [0,1]^d of g(w) = f_i(x − η (w ⊙ v)), by
 * M steps of projected gradient from w⁰ = 1:
 *   w ← clip(w − τ ∇g(w), 0, 1),  ∇g(w) = −η v ⊙ ∇f_i(x − η (w ⊙ v)),  τ = τ₀ / ‖∇g(w⁰)‖_∞.
 * Keep the k largest w; ties in w (typically several weights stuck at the bound 1) go to the larger
 * |v_j|, then to the smaller index. Send Σ_{j∈S} v_j e_j, or Σ_{j∈S} w_j v_j e_j with `impCScale`.
 *
 * If ‖∇g(w⁰)‖_∞ = 0, w⁰ = 1 is a fixed point of the update for every τ, so τ is set to 0 and all
 * weights stay 1: the tie rule then makes the support the Top-k of |v|. The M gradients are skipped
 * since they cannot change anything. A non-finite gradient (a diverged iterate) stops the inner loop
 * and keeps the last finite weights.
 *
 * Cost: M gradients of f_i (O(M·nnz)) + O(M·d) + O(d) selection; every buffer is made in `create`,
 * nothing is allocated per call or per inner step.
 */
import { TopKSelector } from './select.js';
import { IMP_C_SCALE_OPTION, INNER_STEP_OPTION, INNER_STEPS_OPTION, K_OPTION, requireK } from './options.js';
import { checkInnerStep, checkInnerSteps, innerGradient, importanceMessage } from './importance-shared.js';
import type { CompressContext, Compressor, CompressorOptions, CompressorSpec, WireMessage } from './types.js';

export class ImportanceCCompressor implements Compressor {
  readonly name = 'imp-c';
  /** w^M from the last call (in [0,1]^d); exposed for tests and diagnostics. */
  readonly weights: Float64Array;
  /** τ used in the last call (0 when ‖∇g(w⁰)‖_∞ = 0 or is not finite). */
  lastTau = 0;
  /** Projected-gradient steps actually applied in the last call. */
  lastStepsApplied = 0;
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
    readonly scale: boolean,
    indexBits?: number,
  ) {
    this.weights = new Float64Array(d);
    this.point = new Float64Array(d);
    this.gradG = new Float64Array(d);
    this.selector = new TopKSelector(d);
    this.message = importanceMessage(k, d, floatBits, indexBits);
  }

  compress(v: Float64Array, ctx: CompressContext): WireMessage {
    const { x, objective, stepSize: eta } = ctx;
    const d = this.d, w = this.weights, gradG = this.gradG;
    w.fill(1);
    let tau = 0;
    let applied = 0;
    for (let m = 0; m < this.innerSteps; m++) {
      const gradNorm = innerGradient(objective, x, v, eta, w, this.point, gradG);
      if (!Number.isFinite(gradNorm)) break;
      if (m === 0) {
        if (gradNorm === 0) break;
        tau = this.innerStep / gradNorm;
      }
      for (let j = 0; j < d; j++) {
        const t = w[j] - tau * gradG[j];
        w[j] = t < 0 ? 0 : t > 1 ? 1 : t;
      }
      applied++;
    }
    this.lastTau = tau;
    this.lastStepsApplied = applied;
    const msg = this.message;
    this.selector.select(w, d, this.k, msg.indices, false, v);
    if (this.scale) for (let t = 0; t < this.k; t++) msg.values[t] = w[msg.indices[t]] * v[msg.indices[t]];
    else for (let t = 0; t < this.k; t++) msg.values[t] = v[msg.indices[t]];
    return msg;
  }
}

export const importanceCSpec: CompressorSpec = {
  name: 'imp-c',
  description:
    'importance (c): k largest weights of argmin over [0,1]^d of f_i(x − η (w ⊙ v)), M projected-gradient steps from 1; ties by larger |v_j|',
  options: [K_OPTION, INNER_STEPS_OPTION, INNER_STEP_OPTION, IMP_C_SCALE_OPTION],
  bitsFormula: 'k·(F + I)',
  needsObjective: true,
  randomized: false,
  create(options: CompressorOptions): Compressor {
    const k = requireK(options.values, options.d, 'imp-c');
    const steps = checkInnerSteps('imp-c', options.values);
    const step = checkInnerStep('imp-c', options.values);
    return new ImportanceCCompressor(options.d, k, options.floatBits, steps, step, options.values.imp_c_scale === true, options.indexBits);
  },
};
