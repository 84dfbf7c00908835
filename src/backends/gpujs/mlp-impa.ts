/**
 * imp-a's scores of the one-hidden-layer mlp on the gpu.js device (main-thread side of
 * mlp-impa-kernels.ts): x and v go into shared memory as float32, the worker runs the three
 * one-shard dispatches, the d row sums come back. Made by GpuBackend.mlpImpAKernels.
 */
import type { BackendLabel, MlpCoordinateKernels } from '../types.js';
import type { WorkerSession } from './bridge.js';
import type { PackedShards } from './layout.js';
import type { InitResult, SharedVectors } from './protocol.js';

export class GpuMlpImpAKernels implements MlpCoordinateKernels {
  readonly workers: number;
  /** "kernel: class" for every kernel built, and the time building and warming them took. */
  readonly built: InitResult;
  private readonly x: Float32Array;
  private readonly v: Float32Array;
  private readonly out: Float32Array;

  constructor(
    private readonly worker: WorkerSession,
    readonly label: BackendLabel,
    packed: PackedShards,
    readonly d: number,
    vectors: SharedVectors,
    init: InitResult,
    private readonly onDispose: () => void,
  ) {
    this.workers = packed.workers;
    this.built = init;
    this.x = new Float32Array(vectors.x);
    this.v = new Float32Array(vectors.v);
    this.out = new Float32Array(vectors.out);
  }

  coordinateDecreaseSums(worker: number, x: Float64Array, v: Float64Array, eta: number, out: Float64Array): void {
    const d = this.d;
    if (!(Number.isInteger(worker) && worker >= 0 && worker < this.workers)) throw new RangeError(`gpu backend: worker ${worker} is outside [0, ${this.workers})`);
    if (x.length < d || v.length < d || out.length < d) throw new RangeError(`gpu backend: x, v and out need ${d} entries`);
    for (let j = 0; j < d; j++) {
      this.x[j] = x[j];
      this.v[j] = v[j];
    }
    this.worker.call<number>({ op: 'mlpImpA.scores', worker, eta });
    const src = this.out;
    for (let j = 0; j < d; j++) out[j] = src[j];
  }

  dispose(): void {
    this.onDispose();
  }
}
