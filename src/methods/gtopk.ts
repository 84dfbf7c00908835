/**
 * gtopk (seed 002, gTop-k S-SGD): as topk-ssgd, acc_i = ε_i + γ∇f_i(x^t) and each worker's leaf is
 * TopK(acc_i); the n sparse vectors are reduced along the recursive-halving tree of
 * communicator.ts, every merge keeping the k largest |u + w| (ties by the smaller index); the root's
 * G̃ (k non-zeros, global mask gMask) is broadcast back down the tree and x^{t+1} = x^t − (1/n) G̃.
 * Residuals, exactly as spec §4: ε_i = acc_i − acc_i ⊙ gMask — a worker's whole acc on gMask is
 * consumed (even the parts the tree dropped on the way), everything else stays.
 * Traffic per step (traffic.ts `treeReduceBroadcastTraffic`): 2(n − 1)·P over all links,
 * 2⌈log2 n⌉·P on the critical path.
 */
import { TopKSelector } from '../compressors/select.js';
import type { Method, MethodEnv, MethodSpec } from './types.js';
import { TopKTreeReducer } from './communicator.js';
import { baseState, checkSparsityK, checkStart, workerRows, type CountedMethodState } from './common.js';
import { addTraffic, sparseMessageBits, treeReduceBroadcastTraffic, type StepTraffic } from './traffic.js';

export interface GtopkState extends CountedMethodState {
  readonly k: number;
  /** ε_i, one row per worker. */
  readonly residuals: readonly Float64Array[];
  readonly gradient: Float64Array;
  readonly selector: TopKSelector;
  readonly reducer: TopKTreeReducer;
  /** G̃ of the last step: indices ascending (gMask) and values, valid in [0, globalNnz). */
  readonly globalIndices: Int32Array;
  readonly globalValues: Float64Array;
  globalNnz: number;
  readonly stepTraffic: StepTraffic;
}

function createGtopk(): Method<GtopkState> {
  return {
    name: 'gtopk',
    init(x0: Float64Array, env: MethodEnv): GtopkState {
      checkStart('gtopk', x0, env);
      const k = checkSparsityK('gtopk', env);
      const { d, workers } = env.problem;
      const n = workers.length;
      const reducer = new TopKTreeReducer(n, k);
      return {
        ...baseState(x0),
        k,
        residuals: workerRows(n, d),
        gradient: new Float64Array(d),
        selector: new TopKSelector(d),
        reducer,
        globalIndices: reducer.nodeIndices[0],
        globalValues: reducer.nodeValues[0],
        globalNnz: 0,
        stepTraffic: treeReduceBroadcastTraffic(n, sparseMessageBits(k, d, env.floatBits)),
      };
    },
    step(state: GtopkState, env: MethodEnv): void {
      const { workers, d } = env.problem;
      const n = workers.length;
      const gamma = env.stepSize;
      const { x, k, gradient, residuals, selector, reducer } = state;
      for (let i = 0; i < n; i++) {
        state.rowsProcessed += env.oracle.gradient(i, x, gradient);
        const acc = residuals[i];
        for (let j = 0; j < d; j++) acc[j] = acc[j] + gamma * gradient[j];
        const leafIndices = reducer.nodeIndices[i];
        const leafValues = reducer.nodeValues[i];
        selector.select(acc, d, k, leafIndices, true);
        for (let t = 0; t < k; t++) leafValues[t] = acc[leafIndices[t]];
        reducer.nodeNnz[i] = k;
      }
      reducer.reduce();
      const mask = state.globalIndices;
      const values = state.globalValues;
      const nnz = reducer.nodeNnz[0];
      state.globalNnz = nnz;
      // x − G̃/n with the same expression as applyAveragedUpdate, only on gMask (G̃ is 0 elsewhere).
      for (let t = 0; t < nnz; t++) x[mask[t]] -= values[t] / n;
      for (let i = 0; i < n; i++) {
        const acc = residuals[i];
        for (let t = 0; t < nnz; t++) {
          const j = mask[t];
          acc[j] -= acc[j]; // acc − acc ⊙ gMask
        }
      }
      addTraffic(state, state.stepTraffic);
      state.iteration++;
    },
  };
}

export const gtopkSpec: MethodSpec = {
  name: 'gtopk',
  description: 'gTop-k S-SGD: top-k leaves reduced along a binary tree keeping a global top-k (O(k log n) critical path)',
  compressorUse: 'topk',
  theoryStep: ({ smoothness }) => 1 / smoothness.L,
  create: createGtopk,
};
