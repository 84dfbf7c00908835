/**
 * ef21 (seed 001, exactly): g_i⁰ = C(∇f_i(x⁰)), g⁰ = (1/n) Σ g_i⁰; each step x^{t+1} = x^t − γ g^t;
 * c_i = C(∇f_i(x^{t+1}) − g_i^t); g_i^{t+1} = g_i^t + c_i; g^{t+1} = g^t + (1/n) Σ c_i.
 * `ef21_init: full` (spec v2; the EF21 authors' experiment code) starts from g_i⁰ = ∇f_i(x⁰) instead,
 * sent dense (d·F bits per worker in iteration 0).
 * Traffic: the g_i⁰ uplink counts in iteration 0 (made by `init`); each step every worker sends c_i
 * and receives x^{t+1} (d·F bits).
 *
 * Arithmetic (exactly the spec's recurrence in exact arithmetic, and bit for bit gd with identity):
 *  - g is not carried as a separate running sum: x^{t+1} = x^t − (Σ_i γ g_i^t)/n in the shared tree
 *    order. The spec's g^t equals (1/n) Σ_i g_i^t at every t (true at t = 0 and kept by both updates),
 *    so this is γ g^t; a running sum would drift from Σ_i g_i by rounding.
 *  - g_i^{t+1} = g_i^t + c_i, except on coordinates the compressor passed through unchanged
 *    (c_ij = v_ij with v_i = ∇f_i − g_i), where g_ij^t + c_ij = g_ij^t + (∇f_ij − g_ij^t) = ∇f_ij exactly
 *    in real arithmetic, so ∇f_ij is stored (floating point would otherwise round it). Coordinates
 *    a sparse message does not carry are not touched at all.
 */
import { choice, declare } from '../core/options.js';
import type { Compressor, CompressContext, WireMessage } from '../compressors/types.js';
import type { Method, MethodEnv, MethodSpec } from './types.js';
import { applyAveragedUpdate, TreeSum } from './communicator.js';
import { baseState, checkStart, workerCompressors, workerContexts, workerRows, type CountedMethodState } from './common.js';
import { contractionAlpha, ef21TheoryStep, unknownConstantReason } from './step.js';
import { addMasterWorkerTraffic, denseMessageBits } from './traffic.js';

/** How g_i⁰ is made (spec v2 §4): C(∇f_i(x⁰)) as in Algorithm 1, or ∇f_i(x⁰) as in the authors' code. */
export const EF21_INIT_OPTION = declare('ef21_init', choice(['compressed', 'full'] as const), {
  default: 'compressed',
  help: 'g_i⁰ = C(∇f_i(x⁰)) (compressed) or ∇f_i(x⁰), sent dense (full: the EF21 authors\' code)',
  record: 'params',
});

export interface Ef21State extends CountedMethodState {
  /** g_i^t, one row per worker. */
  readonly workerEstimates: readonly Float64Array[];
  readonly gradient: Float64Array;
  /** v_i = ∇f_i(x^{t+1}) − g_i^t, the compressor's input. */
  readonly difference: Float64Array;
  readonly sum: TreeSum;
  readonly contexts: readonly CompressContext[];
  readonly compressors: readonly Compressor[];
}

/** g_i ← g_i + c (c = the decoded message for input v = gradient − g_i); see the header for the pass-through rule. */
function absorb(g: Float64Array, c: WireMessage, v: Float64Array, gradient: Float64Array): void {
  if (c.format === 'dense') {
    const values = c.values;
    for (let j = 0; j < g.length; j++) {
      const cj = values[j];
      g[j] = cj === v[j] ? gradient[j] : g[j] + cj;
    }
  } else {
    const idx = c.indices, values = c.values;
    for (let t = 0; t < c.nnz; t++) {
      const j = idx[t];
      const cj = values[t];
      g[j] = cj === v[j] ? gradient[j] : g[j] + cj;
    }
  }
}

function createEf21(): Method<Ef21State> {
  return {
    name: 'ef21',
    init(x0: Float64Array, env: MethodEnv): Ef21State {
      checkStart('ef21', x0, env);
      const { d, workers } = env.problem;
      const n = workers.length;
      const base = baseState(x0);
      const state: Ef21State = {
        ...base,
        workerEstimates: workerRows(n, d),
        gradient: new Float64Array(d),
        difference: new Float64Array(d),
        sum: new TreeSum(d, n),
        contexts: workerContexts(base.x, env),
        compressors: workerCompressors('ef21', env),
      };
      const full = (env.options?.ef21_init ?? EF21_INIT_OPTION.default) === 'full';
      const dense = denseMessageBits(d, env.floatBits);
      let upSum = 0;
      let upMax = 0;
      for (let i = 0; i < n; i++) {
        state.rowsProcessed += env.oracle.gradient(i, state.x, state.gradient);
        if (full) {
          state.workerEstimates[i].set(state.gradient);
          upSum += dense;
          upMax = dense;
          continue;
        }
        // g_i⁰ = C(∇f_i(x⁰)): the same rule with g_i = 0, where v_i = ∇f_i exactly.
        const message = state.compressors[i].compress(state.gradient, state.contexts[i]);
        absorb(state.workerEstimates[i], message, state.gradient, state.gradient);
        upSum += message.bits;
        if (message.bits > upMax) upMax = message.bits;
      }
      addMasterWorkerTraffic(state, n, upSum, upMax, 0);
      return state;
    },
    step(state: Ef21State, env: MethodEnv): void {
      const { workers, d } = env.problem;
      const n = workers.length;
      const gamma = env.stepSize;
      const { x, gradient, difference, sum, workerEstimates, contexts, compressors } = state;
      sum.begin();
      for (let i = 0; i < n; i++) sum.addDense(workerEstimates[i], gamma);
      applyAveragedUpdate(x, sum.finish(), n);
      let upSum = 0;
      let upMax = 0;
      for (let i = 0; i < n; i++) {
        state.rowsProcessed += env.oracle.gradient(i, x, gradient);
        const g = workerEstimates[i];
        for (let j = 0; j < d; j++) difference[j] = gradient[j] - g[j];
        const message = compressors[i].compress(difference, contexts[i]);
        absorb(g, message, difference, gradient);
        upSum += message.bits;
        if (message.bits > upMax) upMax = message.bits;
      }
      addMasterWorkerTraffic(state, n, upSum, upMax, denseMessageBits(d, env.floatBits));
      state.iteration++;
    },
  };
}

export const ef21Spec: MethodSpec = {
  name: 'ef21',
  description: 'EF21: x ← x − γg; c_i = C(∇f_i(x) − g_i); g_i ← g_i + c_i; g ← g + (1/n)Σc_i',
  compressorUse: 'any',
  options: [EF21_INIT_OPTION],
  theoryStep: ({ smoothness, compressor, d, k }) => {
    const alpha = contractionAlpha(compressor, d, k);
    if (alpha === undefined || !(alpha > 0 && alpha <= 1)) return unknownConstantReason('ef21', compressor.name);
    return ef21TheoryStep(smoothness.L, smoothness.Ltilde, alpha);
  },
  create: createEf21,
};
