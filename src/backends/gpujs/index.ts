/**
 * The gpu.js backend (main-thread API). `openGpuBackend(mode)` starts the backend's worker thread,
 * selects the device there (device.ts) and returns a handle that makes the logreg and top-k kernels
 * (LogregKernels, TopKKernels of ../types.ts). gpu.js and webgpu are optional dependencies, loaded by
 * dynamic import in the worker only: nothing here touches them until a gpu backend is opened.
 *
 * Labels tell what ran: `backend` is `gpujs:<class of the kernel that ran>` (read from the kernels
 * after they were built and checked after every call, see program.ts), `device` the adapter or
 * renderer (` (software)` for llvmpipe and friends), `precision` float32.
 */
import type { BackendLabel, GpuMode, LogregKernels, LogregShardData, MlpKernels, TopKKernels } from '../types.js';
import { WorkerSession } from './bridge.js';
export { shutdownGpuWorker } from './bridge.js';
import { probeInChild } from './probe.js';
import { gpuLabel, softwareRefusal, type SelectedDevice } from './label.js';
import { ellLayout, packShards, type PackedShards } from './layout.js';
import type { MlpShape, RowLayout } from './program.js';
import type { MlpImpAShape } from './mlp-impa-kernels.js';
import { GpuMlpImpAKernels } from './mlp-impa.js';
export { GpuMlpImpAKernels } from './mlp-impa.js';
import { float32FromBits, KeySplitter, type RadixResult } from './topk-kernels.js';
import type { InitResult, OpenResult, ProbeResult, SharedVectors, TimedKernel, TimingSample } from './protocol.js';

export type { SelectedDevice } from './label.js';
export { softwareRefusal, isSoftwareRendererName, deviceLabel } from './label.js';
export type { ProbeResult, TimingSample, TimedKernel } from './protocol.js';
export type { RowLayout } from './program.js';
export { mlpCellLimit } from './mlp-kernels.js';

/** `auto` picks ELL when rows are nearly uniform in length (padding ≤ this), else CSR (docs/backends.md). */
export const ELL_MAX_PADDING = 1.2;

export interface LogregKernelOptions {
  /** Row layout of the margins kernel; default `auto`. */
  readonly layout?: RowLayout | 'auto';
}

/** The layout `auto` chooses for these shards. */
export function chooseRowLayout(packed: PackedShards): RowLayout {
  return ellLayout(packed).paddingRatio <= ELL_MAX_PADDING ? 'ell' : 'csr';
}

function shared(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(4, bytes));
}

/** An opened gpu.js device in its worker thread. */
export class GpuBackend {
  private disposed = false;

  private constructor(
    private readonly worker: WorkerSession,
    readonly selected: SelectedDevice,
  ) {}

  /**
   * Starts the worker and selects the device for `mode`. Throws GpuUnavailableError (with the
   * reasons for every mode tried) when the mode cannot run here.
   */
  static async open(mode: GpuMode): Promise<GpuBackend> {
    const worker = new WorkerSession();
    try {
      const { selected } = worker.call<OpenResult>({ op: 'open', mode });
      return new GpuBackend(worker, selected);
    } catch (err) {
      throw new GpuUnavailableError((err as Error).message);
    }
  }

  /** The label of runs on this device (the kernel class is checked on every kernel call). */
  get label(): BackendLabel {
    return gpuLabel(this.selected.kernelClass, this.selected.device);
  }

  /** The software rule (see label.ts): a message to refuse the run with, or undefined. */
  refusal(allowSoftware: boolean): string | undefined {
    return softwareRefusal(this.selected, allowSoftware);
  }

  /** gpu.js's console output since the last call (fallback notices, device messages). */
  takeWarnings(): string[] {
    return this.worker.takeWarnings();
  }

  /** Uploads the shards and builds the logreg kernels (each run once, and checked). */
  logregKernels(shards: readonly LogregShardData[], options: LogregKernelOptions = {}): GpuLogregKernels {
    this.checkOpen();
    const packed = packShards(shards);
    const layout = !options.layout || options.layout === 'auto' ? chooseRowLayout(packed) : options.layout;
    const vectors: SharedVectors = {
      x: shared(4 * (packed.d + 1)),
      v: shared(4 * (packed.d + 1)),
      weights: shared(4 * packed.maxShardRows),
      rows: shared(4 * packed.totalRows),
      out: shared(4 * Math.max(packed.workers * packed.d, packed.totalRows)),
    };
    const init = this.worker.call<InitResult>({ op: 'logreg.init', packed, layout, shared: vectors });
    return new GpuLogregKernels(this.worker, this.label, packed, layout, vectors, init, () => this.dispose());
  }

  /** Uploads the shards and builds the mlp kernels, any depth (each run once, and checked). */
  mlpKernels(shards: readonly LogregShardData[], shape: MlpShape): GpuMlpKernels {
    this.checkOpen();
    const packed = packShards(shards);
    const vectors: SharedVectors = {
      x: shared(4 * shape.params),
      v: shared(4),
      weights: shared(4 * packed.totalRows),
      rows: shared(4),
      out: shared(4 * (packed.workers * shape.params + 2 * packed.totalRows)),
    };
    const init = this.worker.call<InitResult>({ op: 'mlp.init', packed, shape, shared: vectors });
    return new GpuMlpKernels(this.worker, this.label, packed, shape, vectors, init, () => this.dispose());
  }

  /** Uploads the shards and builds the one-hidden-layer mlp's imp-a kernels (mlp-impa-kernels.ts). */
  mlpImpAKernels(shards: readonly LogregShardData[], shape: MlpImpAShape): GpuMlpImpAKernels {
    this.checkOpen();
    const packed = packShards(shards);
    const vectors: SharedVectors = { x: shared(4 * shape.params), v: shared(4 * shape.params), weights: shared(4), rows: shared(4), out: shared(4 * shape.params) };
    const init = this.worker.call<InitResult>({ op: 'mlpImpA.init', packed, shape, shared: vectors });
    return new GpuMlpImpAKernels(this.worker, this.label, packed, shape.params, vectors, init, () => this.dispose());
  }

  /** The top-k threshold kernel for vectors of up to `capacity` entries. */
  topKKernels(capacity: number): GpuTopKKernels {
    this.checkOpen();
    const vectors: SharedVectors = { x: shared(4), v: shared(8 * capacity), weights: shared(4), rows: shared(4), out: shared(4) };
    this.worker.call<string>({ op: 'topk.init', capacity, shared: vectors });
    return new GpuTopKKernels(this.worker, this.label, capacity, vectors);
  }

  /** Times one kernel in the worker (kernel time including gpu.js's upload and readback). */
  time(what: TimedKernel, reps: number): TimingSample {
    this.checkOpen();
    return this.worker.call<TimingSample>({ op: 'time', what, reps });
  }

  private checkOpen(): void {
    if (this.disposed) throw new Error('gpu backend: used after dispose()');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    try {
      this.worker.call({ op: 'close' }, 30_000);
    } catch {
      // nothing more to release: a worker that does not answer was terminated by the bridge
    }
  }
}

export class GpuUnavailableError extends Error {
  override name = 'GpuUnavailableError';
}

/**
 * Tries each mode, each in a child process of its own: builds and runs a tiny kernel and reads the
 * class that ran (probe.ts). The child inherits this process's environment.
 */
export async function probeGpuModes(modes: ReadonlyArray<Exclude<GpuMode, 'auto'>> = ['webgpu', 'gl', 'webasm', 'cpu']): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  for (const mode of modes) results.push(await probeInChild(mode));
  return results;
}

export class GpuLogregKernels implements LogregKernels {
  readonly workers: number;
  readonly d: number;
  /** Which margins layout the kernels use. */
  readonly layout: RowLayout;
  /** "kernel: class" for every kernel built, and the time building and warming them took. */
  readonly built: InitResult;
  private readonly x: Float32Array;
  private readonly v: Float32Array;
  private readonly weights: Float32Array;
  private readonly rowInput: Float32Array;
  private readonly out: Float32Array;
  private readonly rowOffset: Int32Array;
  private readonly shardRows: Int32Array;
  private readonly batchScratch: Float64Array;

  constructor(
    private readonly worker: WorkerSession,
    readonly label: BackendLabel,
    packed: PackedShards,
    layout: RowLayout,
    vectors: SharedVectors,
    init: InitResult,
    private readonly onDispose: () => void,
  ) {
    this.workers = packed.workers;
    this.d = packed.d;
    this.layout = layout;
    this.built = init;
    this.x = new Float32Array(vectors.x);
    this.v = new Float32Array(vectors.v);
    this.weights = new Float32Array(vectors.weights);
    this.rowInput = new Float32Array(vectors.rows);
    this.out = new Float32Array(vectors.out);
    this.rowOffset = packed.rowOffset;
    this.shardRows = packed.shardRows;
    this.batchScratch = new Float64Array(packed.maxShardRows);
  }

  private loadX(x: Float64Array): void {
    if (x.length < this.d) throw new RangeError(`gpu backend: x has ${x.length} entries, expected ${this.d}`);
    const d = this.d;
    const dst = this.x;
    for (let j = 0; j < d; j++) dst[j] = x[j];
  }

  private checkWorker(worker: number): void {
    if (!(Number.isInteger(worker) && worker >= 0 && worker < this.workers)) {
      throw new RangeError(`gpu backend: worker ${worker} is outside [0, ${this.workers})`);
    }
  }

  private copyOut(offset: number, out: Float64Array): void {
    const d = this.d;
    const src = this.out;
    for (let j = 0; j < d; j++) out[j] = src[offset + j];
  }

  gradients(x: Float64Array, out: readonly Float64Array[]): void {
    if (out.length !== this.workers) throw new RangeError(`gpu backend: ${out.length} output vectors for ${this.workers} shards`);
    this.loadX(x);
    this.worker.call<number>({ op: 'logreg.gradients' });
    for (let i = 0; i < this.workers; i++) this.copyOut(i * this.d, out[i]);
  }

  shardGradient(worker: number, x: Float64Array, out: Float64Array): void {
    this.checkWorker(worker);
    this.loadX(x);
    this.worker.call<number>({ op: 'logreg.shardGradient', worker, weighted: false });
    this.copyOut(0, out);
  }

  shardBatchGradient(worker: number, x: Float64Array, rows: Int32Array, count: number, out: Float64Array): void {
    this.checkWorker(worker);
    const n = this.shardRows[worker];
    if (!(Number.isInteger(count) && count >= 1 && count <= rows.length)) {
      throw new RangeError(`gpu backend: minibatch size ${count} must be in [1, ${rows.length}]`);
    }
    // Weights are accumulated in float64 (a repeated row counts twice), then rounded once.
    const w = this.batchScratch;
    w.fill(0, 0, n);
    const scale = 1 / count;
    for (let t = 0; t < count; t++) {
      const r = rows[t];
      if (!(r >= 0 && r < n)) throw new RangeError(`gpu backend: minibatch row ${r} is outside the shard's ${n} rows`);
      w[r] += scale;
    }
    const dst = this.weights;
    for (let r = 0; r < n; r++) dst[r] = w[r];
    this.loadX(x);
    this.worker.call<number>({ op: 'logreg.shardGradient', worker, weighted: true });
    this.copyOut(0, out);
  }

  lossSums(x: Float64Array, out: Float64Array): void {
    this.loadX(x);
    this.worker.call<number>({ op: 'logreg.lossTerms' });
    const terms = this.out;
    for (let i = 0; i < this.workers; i++) {
      let s = 0;
      for (let r = this.rowOffset[i]; r < this.rowOffset[i + 1]; r++) s += terms[r];
      out[i] = s;
    }
  }

  batchLossSum(worker: number, x: Float64Array, rows: Int32Array, count: number): number {
    this.checkWorker(worker);
    const n = this.shardRows[worker];
    this.loadX(x);
    this.worker.call<number>({ op: 'logreg.lossTerms' });
    const terms = this.out;
    const base = this.rowOffset[worker];
    let s = 0;
    for (let t = 0; t < count; t++) {
      const r = rows[t];
      if (!(r >= 0 && r < n)) throw new RangeError(`gpu backend: minibatch row ${r} is outside the shard's ${n} rows`);
      s += terms[base + r];
    }
    return s;
  }

  coordinateDecreaseSums(worker: number, x: Float64Array, v: Float64Array, eta: number, out: Float64Array): void {
    this.checkWorker(worker);
    this.loadX(x);
    const d = this.d;
    for (let j = 0; j < d; j++) this.v[j] = v[j];
    this.worker.call<number>({ op: 'logreg.coordinateDecrease', worker, eta });
    this.copyOut(0, out);
  }

  /** c_r = −b_r σ(−b_r a_rᵀx)/N_i for all rows (the margins-and-σ kernel alone, for accuracy checks). */
  rowCoefficients(x: Float64Array, out: Float64Array): void {
    this.loadX(x);
    const length = this.worker.call<number>({ op: 'logreg.rowCoefficients' });
    for (let r = 0; r < length; r++) out[r] = this.out[r];
  }

  /** out[i] = A_iᵀ c for given row coefficients c (all rows): the column kernel alone, for accuracy checks. */
  columnSums(c: Float64Array, out: readonly Float64Array[]): void {
    const dst = this.rowInput;
    for (let r = 0; r < dst.length; r++) dst[r] = c[r];
    this.worker.call<number>({ op: 'logreg.columnSums' });
    for (let i = 0; i < this.workers; i++) this.copyOut(i * this.d, out[i]);
  }

  takeWarnings(): string[] {
    return this.worker.takeWarnings();
  }

  /** Ends the backend (these kernels are the only user of their worker). */
  dispose(): void {
    this.onDispose();
  }
}

/**
 * The top-k threshold on the device: the keys |v_j| (float32) go in as their bits' halves, the
 * worker runs the radix search (8 counting dispatches, topk-kernels.ts) and T and #{keys > T} come
 * back. NaN keys rank last: with fewer than k numeric keys, T is the smallest of them.
 */
export class GpuTopKKernels implements TopKKernels {
  private readonly hi: Float32Array;
  private readonly lo: Float32Array;
  private readonly splitter = new KeySplitter();

  constructor(
    private readonly worker: WorkerSession,
    readonly label: BackendLabel,
    readonly capacity: number,
    vectors: SharedVectors,
  ) {
    this.hi = new Float32Array(vectors.v, 0, capacity);
    this.lo = new Float32Array(vectors.v, 4 * capacity, capacity);
  }

  threshold(v: Float64Array, length: number, k: number): { threshold: number; greater: number } {
    if (length > this.capacity) throw new RangeError(`gpu backend: top-k of ${length} values, capacity ${this.capacity}`);
    if (!(Number.isInteger(k) && k >= 1 && k <= length)) throw new RangeError(`gpu backend: k = ${k} must be in [1, ${length}]`);
    const numbers = this.splitter.split(v, length, this.hi, this.lo);
    if (numbers === 0) return { threshold: Number.NaN, greater: 0 };
    const { bits, greater } = this.worker.call<RadixResult>({ op: 'topk.threshold', length, k: Math.min(k, numbers), numbers });
    return { threshold: float32FromBits(bits), greater };
  }
}

export class GpuMlpKernels implements MlpKernels {
  readonly workers: number;
  readonly d: number;
  readonly rowOffset: Int32Array;
  /** "kernel: class" for every kernel built, and the time building and warming them took. */
  readonly built: InitResult;
  private readonly totalRows: number;
  private readonly x: Float32Array;
  private readonly weights: Float32Array;
  private readonly out: Float32Array;

  constructor(
    private readonly worker: WorkerSession,
    readonly label: BackendLabel,
    packed: PackedShards,
    shape: MlpShape,
    vectors: SharedVectors,
    init: InitResult,
    private readonly onDispose: () => void,
  ) {
    this.workers = packed.workers;
    this.d = shape.params;
    this.rowOffset = packed.rowOffset;
    this.totalRows = packed.totalRows;
    this.built = init;
    this.x = new Float32Array(vectors.x);
    this.weights = new Float32Array(vectors.weights);
    this.out = new Float32Array(vectors.out);
  }

  evaluate(x: Float64Array, out: readonly Float64Array[] | undefined, lossTerms: Float64Array, rowWeights?: Float64Array): void {
    const d = this.d;
    if (x.length < d) throw new RangeError(`gpu backend: x has ${x.length} entries, expected ${d}`);
    if (out && out.length !== this.workers) throw new RangeError(`gpu backend: ${out.length} output vectors for ${this.workers} shards`);
    const N = this.totalRows;
    for (let j = 0; j < d; j++) this.x[j] = x[j];
    if (rowWeights) {
      if (rowWeights.length < N) throw new RangeError(`gpu backend: ${rowWeights.length} row weights for ${N} rows`);
      for (let r = 0; r < N; r++) this.weights[r] = rowWeights[r];
    }
    this.worker.call<number>({ op: 'mlp.evaluate', weighted: rowWeights !== undefined, gradients: out !== undefined });
    const src = this.out;
    if (out) {
      for (let i = 0; i < this.workers; i++) {
        const g = out[i];
        const base = i * d;
        for (let j = 0; j < d; j++) g[j] = src[base + j];
      }
    }
    const base = this.workers * d + N;
    for (let r = 0; r < N; r++) lossTerms[r] = src[base + r];
  }

  /** Each kernel timed on its own in the worker at x (dcomp perf --backend gpu). */
  timeKernels(x: Float64Array, reps: number): TimingSample[] {
    for (let j = 0; j < this.d; j++) this.x[j] = x[j];
    return this.worker.call<TimingSample[]>({ op: 'mlp.time', reps });
  }

  /** The row coefficients c_r (N values) of the last evaluate (for accuracy measurements). */
  lastRowCoefficients(out: Float64Array): void {
    const base = this.workers * this.d;
    for (let r = 0; r < this.totalRows; r++) out[r] = this.out[base + r];
  }

  takeWarnings(): string[] {
    return this.worker.takeWarnings();
  }

  dispose(): void {
    this.onDispose();
  }
}
