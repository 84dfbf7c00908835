/**
 * imp-a (spec §3, seed 000 §3.1 (a)): importance w_j = f_i(x) − f_i(x − η v_j e_j), the decrease of the
 * sender's own objective if only coordinate j of the step were taken; keep the k largest w_j (ties by
 * the smaller index) and send Σ_{j∈S} v_j e_j.
 *
 * Cost: with `objective.coordinateDecrease` (logreg, logreg-nonconvex) O(nnz of the shard) + O(d)
 * selection; otherwise the generic path evaluates f_i d times on one preallocated trial vector
 * (O(d · cost of f_i)), skipping coordinates with v_j = 0, whose importance is exactly 0.
 */
import { TopKSelector } from './select.js';
import { K_OPTION, requireK } from './options.js';
import { importanceMessage } from './importance-shared.js';
import type { CompressContext, Compressor, CompressorOptions, CompressorSpec, WireMessage } from './types.js';

export class ImportanceACompressor implements Compressor {
  readonly name = 'imp-a';
  /** w from the last call (length d); exposed for tests and diagnostics. */
  readonly weights: Float64Array;
  private readonly trial: Float64Array;
  private readonly selector: TopKSelector;
  private readonly message: WireMessage;

  constructor(readonly d: number, readonly k: number, floatBits: number, indexBits?: number) {
    this.weights = new Float64Array(d);
    this.trial = new Float64Array(d);
    this.selector = new TopKSelector(d);
    this.message = importanceMessage(k, d, floatBits, indexBits);
  }

  compress(v: Float64Array, ctx: CompressContext): WireMessage {
    const { x, objective, stepSize: eta } = ctx;
    const w = this.weights;
    if (objective.coordinateDecrease) objective.coordinateDecrease(x, v, eta, w);
    else this.genericImportance(v, ctx);
    const msg = this.message;
    this.selector.select(w, this.d, this.k, msg.indices, false);
    for (let t = 0; t < this.k; t++) msg.values[t] = v[msg.indices[t]];
    return msg;
  }

  /** d evaluations of f_i for problems without coordinate structure (e.g. the MLP). */
  private genericImportance(v: Float64Array, { x, objective, stepSize: eta }: CompressContext): void {
    const w = this.weights, trial = this.trial;
    trial.set(x);
    const f0 = objective.loss(x);
    for (let j = 0; j < this.d; j++) {
      const vj = v[j];
      if (vj === 0) {
        w[j] = 0;
        continue;
      }
      trial[j] = x[j] - eta * vj;
      w[j] = f0 - objective.loss(trial);
      trial[j] = x[j];
    }
  }
}

export const importanceASpec: CompressorSpec = {
  name: 'imp-a',
  description:
    'importance (a): keep the k coordinates whose single-coordinate step decreases f_i most, w_j = f_i(x) − f_i(x − η v_j e_j)',
  options: [K_OPTION],
  bitsFormula: 'k·(F + I)',
  needsObjective: true,
  randomized: false,
  create(options: CompressorOptions): Compressor {
    const k = requireK(options.values, options.d, 'imp-a');
    return new ImportanceACompressor(options.d, k, options.floatBits, options.indexBits);
  },
};
