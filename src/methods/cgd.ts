/**
 * cgd (seed 000 eq. 12; DCGD for n > 1): x^{t+1} = x^t − γ (1/n) Σ_i C(∇f_i(x^t)). Worker i sends
 * its compressed gradient (the compressor's bits), the master broadcasts x^{t+1} (d·F bits each).
 * Computed as x − (Σ_i γ·C(∇f_i))/n in the shared tree order (see gd.ts).
 */
import type { Compressor, CompressContext } from '../compressors/types.js';
import type { Method, MethodEnv, MethodSpec } from './types.js';
import { applyAveragedUpdate, TreeSum } from './communicator.js';
import { baseState, checkStart, workerCompressors, workerContexts, type CountedMethodState } from './common.js';
import { cgdTheoryStep } from './step.js';
import { addMasterWorkerTraffic, denseMessageBits } from './traffic.js';

export interface CgdState extends CountedMethodState {
  readonly gradient: Float64Array;
  readonly sum: TreeSum;
  readonly contexts: readonly CompressContext[];
  readonly compressors: readonly Compressor[];
}

function createCgd(): Method<CgdState> {
  return {
    name: 'cgd',
    init(x0: Float64Array, env: MethodEnv): CgdState {
      checkStart('cgd', x0, env);
      const { d, workers } = env.problem;
      const base = baseState(x0);
      return {
        ...base,
        gradient: new Float64Array(d),
        sum: new TreeSum(d, workers.length),
        contexts: workerContexts(base.x, env),
        compressors: workerCompressors('cgd', env),
      };
    },
    step(state: CgdState, env: MethodEnv): void {
      const { workers, d } = env.problem;
      const n = workers.length;
      const gamma = env.stepSize;
      const { x, gradient, sum, contexts, compressors } = state;
      let upSum = 0;
      let upMax = 0;
      sum.begin();
      for (let i = 0; i < n; i++) {
        state.rowsProcessed += env.oracle.gradient(i, x, gradient);
        const message = compressors[i].compress(gradient, contexts[i]);
        sum.addMessage(message, gamma);
        upSum += message.bits;
        if (message.bits > upMax) upMax = message.bits;
      }
      applyAveragedUpdate(x, sum.finish(), n);
      const dense = denseMessageBits(d, env.floatBits);
      addMasterWorkerTraffic(state, n, upSum, upMax, dense);
      state.iteration++;
    },
  };
}

export const cgdSpec: MethodSpec = {
  name: 'cgd',
  description: 'Compressed gradient descent (DCGD), x ← x − γ·(1/n)ΣC(∇f_i(x)); compressed up, d·F down',
  compressorUse: 'any',
  options: [],
  theoryStep: ({ smoothness, compressor, d, k }) => cgdTheoryStep(smoothness.L, compressor, d, k),
  create: createCgd,
};
