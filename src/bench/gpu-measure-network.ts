/**
 * The network the gpu measurement scripts evaluate (gpu-mlp-measure.ts, gpu-accuracy-mlp-impa.ts): the
 * mlp on a LIBSVM file, `workers` shards (iid split, seed 0), λ = 0, its seeded initial point x⁰ and the
 * point after 100 float64 gd steps of 0.5 from there (a trained network, where ReLU units have moved).
 */
import { createRng } from '../core/rng.js';
import { readLibsvmFile } from '../data/libsvm.js';
import { splitShards } from '../data/split.js';
import { mlpSpec, type MlpProblem } from '../problems/mlp.js';

export interface MeasuredNetwork {
  readonly reference: MlpProblem;
  readonly x0: Float64Array;
  readonly trained: Float64Array;
}

export async function measuredNetwork(path: string, hidden: readonly number[], workers: number): Promise<MeasuredNetwork> {
  const data = await readLibsvmFile(path);
  const shards = splitShards(data, workers, 'iid', createRng(0, 'split'));
  const reference = mlpSpec.create(data, { shards, values: { hidden: [...hidden], l2: 0 } });
  const d = reference.d;
  const x0 = new Float64Array(d);
  reference.initialize(createRng(0, 'init'), x0);
  const trained = x0.slice();
  const g = new Float64Array(d);
  for (let t = 0; t < 100; t++) {
    reference.gradient(trained, g);
    for (let j = 0; j < d; j++) trained[j] -= 0.5 * g[j];
  }
  return { reference, x0, trained };
}
