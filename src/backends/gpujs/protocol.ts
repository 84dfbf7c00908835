/** Messages between the main thread (bridge.ts) and the backend worker (worker.ts). */
import type { GpuMode } from '../types.js';
import type { SelectedDevice } from './label.js';
import type { PackedShards } from './layout.js';
import type { MlpShape, RowLayout } from './program.js';
import type { MlpImpAShape } from './mlp-impa-kernels.js';

export interface TimingSample {
  /** What was timed, e.g. "row coefficients (CSR)". */
  readonly kernel: string;
  /** Milliseconds per call, one per repetition (after warm-up). */
  readonly ms: number[];
}

export interface ProbeResult {
  readonly mode: Exclude<GpuMode, 'auto'>;
  readonly ok: boolean;
  /** The class of the kernel that ran the smoke test (ok only when it is the mode's class). */
  readonly kernelClass?: string;
  readonly device?: string;
  readonly software?: boolean;
  readonly detail?: string;
  /** Why the mode does not work here. */
  readonly reason?: string;
}

/**
 * Vectors of the hot calls travel through shared memory, not messages (no copy, no allocation per
 * call): the main thread writes x (and v, the row weights) into these float32 views before a call,
 * and the worker writes the result into `out`. Sizes: x and v d + 1, weights N_max, out
 * max(n·d, N) for logreg; v 2·capacity for top-k (the keys' bit halves).
 */
export interface SharedVectors {
  readonly x: SharedArrayBuffer;
  readonly v: SharedArrayBuffer;
  readonly weights: SharedArrayBuffer;
  /** Row coefficients given by the host (N values; the column kernel's accuracy check). */
  readonly rows: SharedArrayBuffer;
  readonly out: SharedArrayBuffer;
}

export type TimedKernel = 'gradients' | 'rowCoefficients' | 'columnSums' | 'lossTerms' | 'shardGradient' | 'coordinateDecrease';

export type Request =
  | { op: 'open'; mode: GpuMode }
  | { op: 'logreg.init'; packed: PackedShards; layout: RowLayout; shared: SharedVectors }
  /** Results: the number of float32 values written into shared `out`. */
  | { op: 'logreg.gradients' }
  | { op: 'logreg.shardGradient'; worker: number; weighted: boolean }
  | { op: 'logreg.lossTerms' }
  | { op: 'logreg.rowCoefficients' }
  | { op: 'logreg.columnSums' }
  | { op: 'logreg.coordinateDecrease'; worker: number; eta: number }
  | { op: 'mlp.init'; packed: PackedShards; shape: MlpShape; shared: SharedVectors }
  /** mlp: out = [n·d data-term gradients | N row coefficients c_r | N loss terms] (gradients: false leaves the first n·d as they were). */
  | { op: 'mlp.evaluate'; weighted: boolean; gradients: boolean }
  /** Times each mlp kernel on its own in the worker at the x in shared memory (TimingSample[]). */
  | { op: 'mlp.time'; reps: number }
  /** mlp imp-a (mlp-impa-kernels.ts): x and v in, the shard's d row sums out. */
  | { op: 'mlpImpA.init'; packed: PackedShards; shape: MlpImpAShape; shared: SharedVectors }
  | { op: 'mlpImpA.scores'; worker: number; eta: number }
  | { op: 'topk.init'; capacity: number; shared: SharedVectors }
  /** Keys as bit halves in shared v (hi at 0, lo at `capacity`); the result is a RadixResult (topk-kernels.ts). */
  | { op: 'topk.threshold'; length: number; k: number; numbers: number }
  /** Times a kernel in the worker at the x in shared memory. */
  | { op: 'time'; what: TimedKernel; reps: number }
  | { op: 'close' };

export type Reply =
  | { ok: true; result: unknown; warnings: string[] }
  | { ok: false; error: { name: string; message: string }; warnings: string[] };

export interface OpenResult {
  readonly selected: SelectedDevice;
}

export interface InitResult {
  /** "kernel name: class that ran" for every kernel built. */
  readonly kernels: string[];
  readonly buildMs: number;
}
