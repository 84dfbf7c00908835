/**
 * ef (classic error feedback): e_i⁰ = 0; p_i = C(e_i + γ∇f_i(x^t)); e_i ← e_i + γ∇f_i(x^t) − p_i;
 * x^{t+1} = x^t − (1/n) Σ_i p_i. Worker i sends p_i (the compressor's bits); the master broadcasts
 * x^{t+1} (d·F bits each).
 *
 * e_i's buffer first becomes acc_i = e_i + γ∇f_i (the compressor's input) and then acc_i − p_i, which
 * is the spec's e_i + γ∇f_i − p_i evaluated left to right. With identity, acc_i = γ∇f_i exactly
 * (e_i = 0), p_i = acc_i and e_i returns to exactly 0, so the update equals gd's bit for bit.
 */
import type { Compressor, CompressContext } from '../compressors/types.js';
import type { Method, MethodEnv, MethodSpec } from './types.js';
import { applyAveragedUpdate, TreeSum } from './communicator.js';
import { baseState, checkStart, workerCompressors, workerContexts, workerRows, type CountedMethodState } from './common.js';
import { addMasterWorkerTraffic, denseMessageBits } from './traffic.js';

export interface EfState extends CountedMethodState {
  /** e_i, one row per worker. */
  readonly errors: readonly Float64Array[];
  readonly gradient: Float64Array;
  readonly sum: TreeSum;
  readonly contexts: readonly CompressContext[];
  readonly compressors: readonly Compressor[];
}

function createEf(): Method<EfState> {
  return {
    name: 'ef',
    init(x0: Float64Array, env: MethodEnv): EfState {
      checkStart('ef', x0, env);
      const { d, workers } = env.problem;
      const base = baseState(x0);
      return {
        ...base,
        errors: workerRows(workers.length, d),
        gradient: new Float64Array(d),
        sum: new TreeSum(d, workers.length),
        contexts: workerContexts(base.x, env),
        compressors: workerCompressors('ef', env),
      };
    },
    step(state: EfState, env: MethodEnv): void {
      const { workers, d } = env.problem;
      const n = workers.length;
      const gamma = env.stepSize;
      const { x, gradient, sum, errors, contexts, compressors } = state;
      let upSum = 0;
      let upMax = 0;
      sum.begin();
      for (let i = 0; i < n; i++) {
        state.rowsProcessed += env.oracle.gradient(i, x, gradient);
        const e = errors[i];
        for (let j = 0; j < d; j++) e[j] = e[j] + gamma * gradient[j];
        const p = compressors[i].compress(e, contexts[i]);
        // Sum before touching e: a compressor may hand back e itself as its dense values.
        sum.addMessage(p, 1);
        if (p.format === 'dense') {
          const v = p.values;
          for (let j = 0; j < d; j++) e[j] -= v[j];
        } else {
          const idx = p.indices, v = p.values;
          for (let t = 0; t < p.nnz; t++) e[idx[t]] -= v[t];
        }
        upSum += p.bits;
        if (p.bits > upMax) upMax = p.bits;
      }
      applyAveragedUpdate(x, sum.finish(), n);
      addMasterWorkerTraffic(state, n, upSum, upMax, denseMessageBits(d, env.floatBits));
      state.iteration++;
    },
  };
}

export const efSpec: MethodSpec = {
  name: 'ef',
  description: 'Classic error feedback, p_i = C(e_i + γ∇f_i), e_i ← e_i + γ∇f_i − p_i, x ← x − (1/n)Σp_i',
  compressorUse: 'any',
  options: [],
  theoryStep: () => 'no theory step for ef (spec §4 defines none)',
  create: createEf,
};
