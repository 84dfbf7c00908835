/**
 * The mlp imp-a rows of the accuracy table (docs/backends.md; `npm run gpu-accuracy`): the float32
 * scores of mlp-impa-kernels.ts (hidden 32, n = 20 workers, iid split seed 0; workers 0, n/2, n − 1;
 * v = the worker's float64 gradient, η = 0.5) against the float64 MlpShard.coordinateDecrease at
 * x⁰ (the seeded initialisation) and after 100 float64 gd steps (γ = 0.5): the largest relative error
 * max |a − r| / max |r|, and the contract's metric (error over the summed terms' magnitude).
 */
import { GpuBackend } from '../backends/gpujs/index.js';
import { maxRelativeError } from '../backends/accuracy.js';
import type { GpuMode } from '../backends/types.js';
import { mlpScoreScale } from '../problems/mlp-gpu-impa.js';
import { measuredNetwork } from './gpu-measure-network.js';
import { ACCURACY_WORKERS, type AccuracyRow } from './gpu-accuracy.js';

export async function measureMlpImpAAccuracy(mode: Exclude<GpuMode, 'auto'>, name: string, path: string, workers = ACCURACY_WORKERS): Promise<AccuracyRow[]> {
  const hidden = 32;
  const { reference, x0, trained } = await measuredNetwork(path, [hidden], workers);
  const d = reference.d;
  const backend = await GpuBackend.open(mode);
  try {
    const sizes = reference.layout.sizes;
    const impA = backend.mlpImpAKernels(reference.workers.map((w) => ({ A: w.A, b: w.b })), { inputs: sizes[0], hidden, params: d });
    const eta = 0.5;
    const worst = { relative: { e: 0, at: '' }, scaled: { e: 0, at: '' } };
    const v = new Float64Array(d);
    const got = new Float64Array(d);
    const want = new Float64Array(d);
    for (const [at, x] of [['x⁰', x0], ['after 100 gd steps', trained]] as const) {
      for (const i of [0, Math.floor(workers / 2), workers - 1]) {
        const shard = reference.workers[i];
        shard.gradient(x, v);
        impA.coordinateDecreaseSums(i, x, v, eta, got);
        // λ = 0: the scores are the row sums over N_i
        for (let j = 0; j < d; j++) got[j] = eta * v[j] === 0 ? 0 : got[j] / shard.rows;
        shard.coordinateDecrease(x, v, eta, want);
        const relative = maxRelativeError(got, want);
        let diff = 0;
        for (let j = 0; j < d; j++) diff = Math.max(diff, Math.abs(got[j] - want[j]));
        const scaled = diff / mlpScoreScale(reference, shard, x, v, eta);
        if (!(relative <= worst.relative.e)) worst.relative = { e: relative, at };
        if (!(scaled <= worst.scaled.e)) worst.scaled = { e: scaled, at };
      }
    }
    return [
      { dataset: name, kernel: 'mlp imp-a scores (hidden 32; workers 0, n/2, n−1)', maxRelativeError: worst.relative.e, at: worst.relative.at },
      { dataset: name, kernel: 'mlp imp-a scores, error / summed terms (the contract, tolerance 1e-4)', maxRelativeError: worst.scaled.e, at: worst.scaled.at },
    ];
  } finally {
    backend.dispose();
  }
}
