/**
 * gtopk (seed 002, gTop-k S-SGD): as topk-ssgd, acc_i = ε_i + γ∇f_i(x^t) and each worker's leaf is
 * TopK(acc_i); the n sparse vectors are reduced along the recursive-halving tree of
 * communicator.ts, every merge keeping the k largest |u + w| (ties by the smaller index); the root's
 * G̃ (k non-zeros, global mask gMask) is broadcast back down the tree and x^{t+1} = x^t − (1/n) G̃.
 * Residuals, as spec v2 §4 and the authors' code (hclhkbu/gtopkssgd, compression.py/allreducer.py):
 * ε_i = acc_i − s_i ⊙ gMask — a worker removes only its own selected values whose coordinates reached
 * the global set; coordinates it never selected, and selected ones that lost in the tree, stay.
 * For n ≤ 2 this conserves Σ_i acc_i = Σ_i ε_i + G̃; for n ≥ 3 a value pruned at an inner merge whose
 * coordinate survives through another subtree is lost, as in the paper's algorithm.
 * Traffic per step (traffic.ts `treeReduceBroadcastTraffic`): 2(n − 1)·P over all links,
 * 2⌈log2 n⌉·P on the critical path.
 */
import { TopKSelector } from '../compressors/select.js';
import type { Method, MethodEnv, MethodSpec } from './types.js';
import { TopKTreeReducer } from './communicator.js';
import { baseState, checkSparsityK, checkStart, selectTopK, workerRows, type CountedMethodState } from './common.js';
import { addTraffic, sparseMessageBits, treeReduceBroadcastTraffic, type StepTraffic } from './traffic.js';

export interface GtopkState extends CountedMethodState {
  readonly k: number;
  /** ε_i, one row per worker. */
  readonly residuals: readonly Float64Array[];
  readonly gradient: Float64Array;
  readonly selector: TopKSelector;
  readonly reducer: TopKTreeReducer;
  /** s_i's support, per worker (the leaves' node buffers are overwritten by the reduction). */
  readonly ownIndices: readonly Int32Array[];
  /** 1 on gMask during the residual update, else 0 (cleared after each step: O(k)). */
  readonly inMask: Uint8Array;
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
        ownIndices: Array.from({ length: n }, () => new Int32Array(k)),
        inMask: new Uint8Array(d),
        globalIndices: reducer.nodeIndices[0],
        globalValues: reducer.nodeValues[0],
        globalNnz: 0,
        stepTraffic: treeReduceBroadcastTraffic(n, sparseMessageBits(k, d, env.floatBits, env.indexBits)),
      };
    },
    step(state: GtopkState, env: MethodEnv): void {
      const { workers, d } = env.problem;
      const n = workers.length;
      const gamma = env.stepSize;
      const { x, k, gradient, residuals, selector, reducer, ownIndices, inMask } = state;
      for (let i = 0; i < n; i++) {
        state.rowsProcessed += env.oracle.gradient(i, x, gradient);
        const acc = residuals[i];
        for (let j = 0; j < d; j++) acc[j] = acc[j] + gamma * gradient[j];
        const own = ownIndices[i];
        const leafIndices = reducer.nodeIndices[i];
        const leafValues = reducer.nodeValues[i];
        selectTopK(env, i, selector, acc, d, k, own);
        for (let t = 0; t < k; t++) {
          leafIndices[t] = own[t];
          leafValues[t] = acc[own[t]];
        }
        reducer.nodeNnz[i] = k;
      }
      reducer.reduce();
      const mask = state.globalIndices;
      const values = state.globalValues;
      const nnz = reducer.nodeNnz[0];
      state.globalNnz = nnz;
      // x − G̃/n with the same expression as applyAveragedUpdate, only on gMask (G̃ is 0 elsewhere).
      for (let t = 0; t < nnz; t++) x[mask[t]] -= values[t] / n;
      for (let t = 0; t < nnz; t++) inMask[mask[t]] = 1;
      for (let i = 0; i < n; i++) {
        const acc = residuals[i];
        const own = ownIndices[i];
        for (let t = 0; t < k; t++) {
          const j = own[t];
          // acc − s_i ⊙ gMask: s_i[j] = acc[j] on the worker's own support
          if (inMask[j] === 1) acc[j] -= acc[j];
        }
      }
      for (let t = 0; t < nnz; t++) inMask[mask[t]] = 0;
      addTraffic(state, state.stepTraffic);
      state.iteration++;
    },
  };
}

export const gtopkSpec: MethodSpec = {
  name: 'gtopk',
  description: 'gTop-k S-SGD: top-k leaves reduced along a binary tree keeping a global top-k (O(k log n) critical path)',
  compressorUse: 'topk',
  options: [],
  theoryStep: ({ smoothness }) => 1 / smoothness.L,
  create: createGtopk,
};
