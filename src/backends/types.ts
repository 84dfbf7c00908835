/**
 * What a compute backend supplies to problems and compressors (layering: backends never import
 * problems, compressors or methods; those take these interfaces).
 *
 * The float64 CPU path (src/backends/wasm.ts and the JS loops in src/problems) is the reference; a
 * gpu backend computes the same quantities in float32 and says so in its label.
 */
import type { CsrMatrix } from '../data/types.js';

/** What ran, for the CSV columns `backend`, `device`, `precision` and the run log. */
export interface BackendLabel {
  /** `cpu`, or `gpujs:<class of the kernel that ran>`, e.g. `gpujs:WebGPUKernel`. */
  readonly backend: string;
  /** The adapter or GL renderer name (`… (software)` for a software renderer), or the CPU model. */
  readonly device: string;
  readonly precision: 'float64' | 'float32';
}

/** `--gpu-mode`: which gpu.js kernel class to use (auto: WebGPU, then GL, then WebAssembly). */
export type GpuMode = 'auto' | 'webgpu' | 'gl' | 'webasm' | 'cpu';
export const GPU_MODES: readonly GpuMode[] = ['auto', 'webgpu', 'gl', 'webasm', 'cpu'];

/** One worker's shard: its rows (CSR, local row indices) and labels b ∈ {−1, +1}. */
export interface LogregShardData {
  readonly A: CsrMatrix;
  readonly b: Float64Array;
}

/**
 * The data terms of logistic regression for all n shards, computed by a backend: for shard i with
 * N_i rows, D_i(x) = (1/N_i) Σ_r softplus(−b_r a_rᵀx) and ∇D_i(x) = (1/N_i) Σ_r −b_r σ(−b_r a_rᵀx) a_r.
 * The regulariser is the caller's (it is O(d) and the same for every worker). Inputs are float64 and
 * rounded to the backend's precision on the way in; outputs are written as float64.
 * The data are uploaded once, when the kernels are made; each call moves only the vectors named.
 */
export interface LogregKernels {
  readonly label: BackendLabel;
  readonly workers: number;
  readonly d: number;
  /** out[i] = ∇D_i(x) for every shard, in one dispatch. */
  gradients(x: Float64Array, out: readonly Float64Array[]): void;
  /** out = ∇D_i(x) for one shard at its own point x (e.g. an inner solver's point). */
  shardGradient(worker: number, x: Float64Array, out: Float64Array): void;
  /**
   * Minibatch: out = (1/count) Σ_{t<count} −b_r σ(−b_r a_rᵀx) a_r over the local rows r = rows[t]
   * of shard `worker` (a row listed twice counts twice).
   */
  shardBatchGradient(worker: number, x: Float64Array, rows: Int32Array, count: number, out: Float64Array): void;
  /** out[i] = Σ_r softplus(−b_r a_rᵀx) over shard i's rows (not divided by N_i). */
  lossSums(x: Float64Array, out: Float64Array): void;
  /** Σ_{t<count} softplus(−b_r a_rᵀx), r = rows[t], over local rows of shard `worker` (not divided). */
  batchLossSum(worker: number, x: Float64Array, rows: Int32Array, count: number): number;
  /**
   * imp-a's data part for shard `worker`: out[j] = Σ_r softplus(z_r) − softplus(z_r + b_r a_rj η v_j)
   * with z_r = −b_r a_rᵀx (0 where η v_j = 0); not divided by N_i.
   */
  coordinateDecreaseSums(worker: number, x: Float64Array, v: Float64Array, eta: number, out: Float64Array): void;
  /** Releases the device resources (and the backend's worker thread). Idempotent. */
  dispose(): void;
}

/**
 * The data terms of the `mlp` (spec §2, any number of hidden layers) for all n shards, computed by a backend:
 * every call is one pass over every shard (all shards in one dispatch). Inputs float64, rounded to
 * the backend's precision; outputs float64. The regulariser is the caller's.
 */
export interface MlpKernels {
  readonly label: BackendLabel;
  readonly workers: number;
  /** Parameter count (the length of x). */
  readonly d: number;
  /**
   * out[i] = Σ_r w_r ∇ softplus(−b_r z(a_r; x)) over shard i's rows, with w_r = 1/N_i, or, given
   * `rowWeights` (one per row of shard i, in the concatenated order of the shards), those weights.
   * lossTerms[r] (length N, all shards' rows concatenated) = softplus(−b_r z(a_r; x)).
   */
  evaluate(x: Float64Array, out: readonly Float64Array[] | undefined, lossTerms: Float64Array, rowWeights?: Float64Array): void;
  /** First concatenated row of each shard (length n + 1). */
  readonly rowOffset: Int32Array;
  /** Releases the device resources. Idempotent. */
  dispose(): void;
}

/** Top-k selection support: the k-th largest |v_j| computed by a backend. */
export interface TopKKernels {
  readonly label: BackendLabel;
  /**
   * T = the k-th largest |v_j| over j < length (rounded to the backend's precision; NaN keys rank
   * last) and `greater`, how many keys are strictly larger than T (so k − greater ties at T are taken).
   */
  threshold(v: Float64Array, length: number, k: number): { threshold: number; greater: number };
}

/**
 * imp-a's data part for the one-hidden-layer `mlp` on a backend: for shard `worker`,
 * out[s] = Σ_r softplus(q_r) − softplus(q_r + u_rs), the row sums of the loss change when x_s alone
 * moves to x_s − η v_s (0 where η v_s = 0); not divided by N_i, no regulariser (the caller's).
 */
export interface MlpCoordinateKernels {
  readonly label: BackendLabel;
  readonly workers: number;
  /** Parameter count (the length of x). */
  readonly d: number;
  coordinateDecreaseSums(worker: number, x: Float64Array, v: Float64Array, eta: number, out: Float64Array): void;
  /** Releases the device resources. Idempotent. */
  dispose(): void;
}
