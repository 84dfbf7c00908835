/**
 * topk-ssgd (Top-k S-SGD with residuals, the baseline of seed 002): acc_i = ε_i + γ∇f_i(x^t);
 * s_i = TopK(acc_i); ε_i = acc_i − s_i; all-gather: every worker receives every s_i and applies
 * x^{t+1} = x^t − (1/n) Σ_i s_i. Traffic per step (traffic.ts `allGatherTraffic`): each worker sends
 * P = k·(F + ⌈log2 d⌉) and receives (n − 1)·P.
 *
 * ε_i's buffer holds acc_i and then acc_i − s_i (on the k chosen coordinates, acc − acc). The sum of
 * the s_i uses the shared tree order, so with k = d this is gd (same γ, same oracle) bit for bit.
 */
import { TopKSelector } from '../compressors/select.js';
import type { Method, MethodEnv, MethodSpec } from './types.js';
import { applyAveragedUpdate, TreeSum } from './communicator.js';
import { baseState, checkSparsityK, checkStart, selectTopK, workerRows, type CountedMethodState } from './common.js';
import { addTraffic, allGatherTraffic, sparseMessageBits, type StepTraffic } from './traffic.js';

export interface TopkSsgdState extends CountedMethodState {
  readonly k: number;
  /** ε_i, one row per worker. */
  readonly residuals: readonly Float64Array[];
  readonly gradient: Float64Array;
  readonly selector: TopKSelector;
  /** s_i of the worker being processed: indices ascending and values. */
  readonly chosenIndices: Int32Array;
  readonly chosenValues: Float64Array;
  readonly sum: TreeSum;
  readonly stepTraffic: StepTraffic;
}

function createTopkSsgd(): Method<TopkSsgdState> {
  return {
    name: 'topk-ssgd',
    init(x0: Float64Array, env: MethodEnv): TopkSsgdState {
      checkStart('topk-ssgd', x0, env);
      const k = checkSparsityK('topk-ssgd', env);
      const { d, workers } = env.problem;
      const n = workers.length;
      return {
        ...baseState(x0),
        k,
        residuals: workerRows(n, d),
        gradient: new Float64Array(d),
        selector: new TopKSelector(d),
        chosenIndices: new Int32Array(k),
        chosenValues: new Float64Array(k),
        sum: new TreeSum(d, n),
        stepTraffic: allGatherTraffic(n, sparseMessageBits(k, d, env.floatBits, env.indexBits)),
      };
    },
    step(state: TopkSsgdState, env: MethodEnv): void {
      const { workers, d } = env.problem;
      const n = workers.length;
      const gamma = env.stepSize;
      const { x, k, gradient, residuals, selector, chosenIndices, chosenValues, sum } = state;
      sum.begin();
      for (let i = 0; i < n; i++) {
        state.rowsProcessed += env.oracle.gradient(i, x, gradient);
        const acc = residuals[i];
        for (let j = 0; j < d; j++) acc[j] = acc[j] + gamma * gradient[j];
        selectTopK(env, i, selector, acc, d, k, chosenIndices);
        for (let t = 0; t < k; t++) chosenValues[t] = acc[chosenIndices[t]];
        sum.addSparse(k, chosenIndices, chosenValues, 1);
        for (let t = 0; t < k; t++) acc[chosenIndices[t]] -= chosenValues[t];
      }
      applyAveragedUpdate(x, sum.finish(), n);
      addTraffic(state, state.stepTraffic);
      state.iteration++;
    },
  };
}

export const topkSsgdSpec: MethodSpec = {
  name: 'topk-ssgd',
  description: 'Top-k S-SGD with residuals: each worker sends its top-k of ε_i + γ∇f_i, all-gathered (O(kn) received)',
  compressorUse: 'topk',
  options: [],
  theoryStep: ({ smoothness }) => 1 / smoothness.L,
  create: createTopkSsgd,
};
