/**
 * gd (seed 000 eq. 2): x^{t+1} = x^t − γ (1/n) Σ_i ∇f_i(x^t). Each worker sends its dense gradient
 * (d·F bits) to the master, which broadcasts x^{t+1} (d·F bits to each worker).
 *
 * Arithmetic: the update is computed as x − (Σ_i γ∇f_i)/n with the sum in the tree order of
 * communicator.ts — the same expression cgd, ef, ef21, topk-ssgd and gtopk reduce to when nothing is
 * compressed, so they reproduce gd bit for bit (docs/methods.md, "Arithmetic order").
 */
import type { Method, MethodEnv, MethodSpec } from './types.js';
import { applyAveragedUpdate, TreeSum } from './communicator.js';
import { baseState, checkStart, type CountedMethodState } from './common.js';
import { addMasterWorkerTraffic, denseMessageBits } from './traffic.js';

export interface GdState extends CountedMethodState {
  readonly gradient: Float64Array;
  readonly sum: TreeSum;
}

function createGd(): Method<GdState> {
  return {
    name: 'gd',
    init(x0: Float64Array, env: MethodEnv): GdState {
      checkStart('gd', x0, env);
      const { d, workers } = env.problem;
      return { ...baseState(x0), gradient: new Float64Array(d), sum: new TreeSum(d, workers.length) };
    },
    step(state: GdState, env: MethodEnv): void {
      const { workers, d } = env.problem;
      const n = workers.length;
      const gamma = env.stepSize;
      const { x, gradient, sum } = state;
      sum.begin();
      for (let i = 0; i < n; i++) {
        state.rowsProcessed += env.oracle.gradient(i, x, gradient);
        sum.addDense(gradient, gamma);
      }
      applyAveragedUpdate(x, sum.finish(), n);
      const dense = denseMessageBits(d, env.floatBits);
      addMasterWorkerTraffic(state, n, n * dense, dense, dense);
      state.iteration++;
    },
  };
}

export const gdSpec: MethodSpec = {
  name: 'gd',
  description: 'Gradient descent, x ← x − γ·(1/n)Σ∇f_i(x); dense d·F bits up and down per worker per step',
  compressorUse: 'none',
  options: [],
  theoryStep: ({ smoothness }) => 1 / smoothness.L,
  create: createGd,
};
