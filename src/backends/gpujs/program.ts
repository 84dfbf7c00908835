/**
 * The logreg and top-k kernels built on one opened device (worker side). Every kernel is built once,
 * with the data as constants (uploaded once), warmed up by one call, and checked after every call:
 * gpu.js replaces a kernel that fails to build or run by a CPU kernel with only a console warning,
 * and that must never pass for a GPU result, so a kernel whose class is not the device's throws.
 */
import { performance } from 'node:perf_hooks';
import type { GpuJsKernel, GpuJsKernelSettings } from './api.js';
import type { OpenedDevice } from './device.js';
import {
  HELPER_FUNCTIONS, columnSums, rowCoefficientsCsr, rowCoefficientsEll, rowLoss, shardColumnSums, shardCoordinateDecrease,
  shardLossArguments, shardRowCoefficients,
} from './kernels.js';
import { ellLayout, type PackedShards } from './layout.js';
import {
  mlpBackward, mlpCellLimit, mlpDenseGradients, mlpDenseLayer, mlpFirstLayer, mlpFirstLayerGradients, mlpLayerOffsets, mlpRowTerms, type MlpLayerOffsets,
} from './mlp-kernels.js';
import { countAtLeastCandidates, radixThreshold, TOPK_CANDIDATES, type RadixResult } from './topk-kernels.js';

/** Row layouts of the margin kernel (docs/backends.md has the measurements behind the default). */
export type RowLayout = 'csr' | 'ell';
export const ROW_LAYOUTS: readonly RowLayout[] = ['csr', 'ell'];

export class SilentFallbackError extends Error {}

/** A kernel ran as another class than the device's (gpu.js fell back): the message says which and why. */
export function checkKernelClass(device: OpenedDevice, kernel: GpuJsKernel, name: string): void {
  const instance = kernel.kernel;
  if (instance instanceof (device.kernelClass as unknown as new () => unknown) && !instance.fallbackReason) return;
  const ran = instance?.constructor?.name ?? 'unknown';
  const reason = instance?.fallbackReason ? `: ${instance.fallbackReason}` : '';
  throw new SilentFallbackError(
    `gpu backend: kernel ${name} ran as ${ran}, not ${device.selected.kernelClass} (gpu.js fell back${reason}); refusing a mislabelled result`,
  );
}

/** A kernel result as a flat Float32Array (gpu.js returns Float32Array for 1-D outputs). */
function flat(result: unknown, length: number, name: string): Float32Array {
  if (result instanceof Float32Array && result.length >= length) return result.length === length ? result : result.subarray(0, length);
  throw new Error(`gpu backend: kernel ${name} returned ${Object.prototype.toString.call(result)} (length ${(result as { length?: number })?.length}), expected ${length} float32 values`);
}

export class KernelRunner {
  constructor(readonly device: OpenedDevice) {}

  make(name: string, source: (...args: never[]) => number, settings: GpuJsKernelSettings): NamedKernel {
    const kernel = this.device.gpu.createKernel(source, {
      precision: 'single',
      tactic: 'precision',
      functions: HELPER_FUNCTIONS as GpuJsKernelSettings['functions'],
      ...settings,
    });
    return { name, kernel, length: settings.output.reduce((a, b) => a * b, 1) };
  }

  /** Runs a kernel, awaits its result (WebGPU kernels return Promises) and checks what ran. */
  async run(k: NamedKernel, ...args: unknown[]): Promise<unknown> {
    const out = await k.kernel(...args);
    checkKernelClass(this.device, k.kernel, k.name);
    return out;
  }

  async runFlat(k: NamedKernel, ...args: unknown[]): Promise<Float32Array> {
    return flat(await this.run(k, ...args), k.length, k.name);
  }
}

export interface NamedKernel {
  readonly name: string;
  readonly kernel: GpuJsKernel;
  readonly length: number;
}

/** The logreg kernels for one packed set of shards. */
export class LogregProgram {
  readonly runner: KernelRunner;
  private readonly x: Float32Array;
  private readonly v: Float32Array;
  private readonly shardWeights: Float32Array;
  private rows: NamedKernel | undefined;
  private rowsPipelined: NamedKernel | undefined;
  private columns: NamedKernel | undefined;
  /** The column kernel for host arrays (a gpu.js kernel keeps the argument kind of its first call). */
  private columnsFromHost: NamedKernel | undefined;
  private shardRows: NamedKernel | undefined;
  private shardColumns: NamedKernel | undefined;
  private loss: NamedKernel | undefined;
  private lossArguments: NamedKernel | undefined;
  private coordinate: NamedKernel | undefined;

  constructor(device: OpenedDevice, readonly packed: PackedShards, readonly layout: RowLayout) {
    this.runner = new KernelRunner(device);
    // x has one trailing 0: the column the ELL padding points at.
    this.x = new Float32Array(packed.d + 1);
    this.v = new Float32Array(packed.d);
    this.shardWeights = new Float32Array(packed.maxShardRows);
  }

  private csrConstants(): Record<string, unknown> {
    const p = this.packed;
    return { rowPtr: p.rowPtr, colIdx: p.colIdx, values: p.values, labels: p.labels, rowScale: p.rowScale };
  }

  private cscConstants(): Record<string, unknown> {
    const p = this.packed;
    return { colPtr: p.colPtr, rowIdx: p.rowIdx, cscValues: p.cscValues, labels: p.labels };
  }

  private rowKernel(pipeline: boolean): NamedKernel {
    const p = this.packed;
    const loop = Math.max(1, p.maxRowLength);
    if (this.layout === 'ell') {
      const ell = ellLayout(p);
      return this.runner.make(`row coefficients (ELL${pipeline ? ', pipelined' : ''})`, rowCoefficientsEll, {
        output: [p.totalRows], pipeline, loopMaxIterations: loop,
        constants: { ellCols: ell.ellCols, ellValues: ell.ellValues, width: ell.width, totalRows: p.totalRows, labels: p.labels, rowScale: p.rowScale },
      });
    }
    return this.runner.make(`row coefficients (CSR${pipeline ? ', pipelined' : ''})`, rowCoefficientsCsr, {
      output: [p.totalRows], pipeline, loopMaxIterations: loop, constants: this.csrConstants(),
    });
  }

  private makeColumnKernel(name: string): NamedKernel {
    const p = this.packed;
    return this.runner.make(name, columnSums, {
      output: [p.workers * p.d], loopMaxIterations: Math.max(1, p.maxColumnLength), constants: this.cscConstants(),
    });
  }

  private columnKernel(): NamedKernel {
    return (this.columns ??= this.makeColumnKernel('column sums (all shards)'));
  }

  private loadX(x: Float32Array): Float32Array {
    this.x.set(x.subarray(0, this.packed.d));
    return this.x;
  }

  /** Builds and runs every kernel once (gpu.js builds on the first call), so failures show here. */
  async warmUp(): Promise<string[]> {
    const p = this.packed;
    const x = new Float32Array(p.d);
    await this.gradients(x);
    await this.rowCoefficients(x);
    await this.shardGradient(0, x, null);
    await this.lossTerms(x);
    await this.coordinateDecrease(0, x, new Float32Array(p.d), 1);
    return this.kernels().map((k) => `${k.name}: ${k.kernel.kernel.constructor.name}`);
  }

  private kernels(): NamedKernel[] {
    return [this.rows, this.rowsPipelined, this.columns, this.columnsFromHost, this.shardRows, this.shardColumns, this.loss, this.lossArguments, this.coordinate].filter(
      (k): k is NamedKernel => k !== undefined,
    );
  }

  /** c_r for all rows (read back: the margins-and-σ kernel on its own, for timing and accuracy). */
  async rowCoefficients(x: Float32Array): Promise<Float32Array> {
    this.rows ??= this.rowKernel(false);
    return this.runner.runFlat(this.rows, this.loadX(x));
  }

  /** Aᵀc for all shards from given row coefficients (the column kernel on its own). */
  async columnSumsOf(c: Float32Array): Promise<Float32Array> {
    this.columnsFromHost ??= this.makeColumnKernel('column sums (all shards, host input)');
    return this.runner.runFlat(this.columnsFromHost, c);
  }

  /** ∇D_i(x) for all shards (n·d, shard-major): the row kernel's output stays on the device. */
  async gradients(x: Float32Array): Promise<Float32Array> {
    this.rowsPipelined ??= this.rowKernel(true);
    const c = await this.runner.run(this.rowsPipelined, this.loadX(x));
    return this.runner.runFlat(this.columnKernel(), c);
  }

  /** ∇D_i at x for one shard; weights = per-row weights (minibatch) or null for 1/N_i on every row. */
  async shardGradient(worker: number, x: Float32Array, weights: Float32Array | null): Promise<Float32Array> {
    const p = this.packed;
    this.shardRows ??= this.runner.make('row coefficients (one shard)', shardRowCoefficients, {
      output: [p.maxShardRows], pipeline: true, loopMaxIterations: Math.max(1, p.maxRowLength), constants: this.csrConstants(),
    });
    this.shardColumns ??= this.runner.make('column sums (one shard)', shardColumnSums, {
      output: [p.d], loopMaxIterations: Math.max(1, p.maxColumnLength), constants: this.cscConstants(),
    });
    const w = this.shardWeights;
    if (weights) w.set(weights.subarray(0, p.maxShardRows));
    else w.fill(p.rowScale[p.rowOffset[worker]]);
    const count = p.shardRows[worker];
    const c = await this.runner.run(this.shardRows, this.loadX(x), w, p.rowOffset[worker], count);
    return this.runner.runFlat(this.shardColumns, c, worker * p.d, p.rowOffset[worker]);
  }

  /** softplus(−b_r a_rᵀx) for every row of every shard. */
  async lossTerms(x: Float32Array): Promise<Float32Array> {
    const p = this.packed;
    this.loss ??= this.runner.make('row losses', rowLoss, {
      output: [p.totalRows], loopMaxIterations: Math.max(1, p.maxRowLength), constants: this.csrConstants(),
    });
    return this.runner.runFlat(this.loss, this.loadX(x));
  }

  /** imp-a's column sums for one shard (see LogregKernels.coordinateDecreaseSums). */
  async coordinateDecrease(worker: number, x: Float32Array, v: Float32Array, eta: number): Promise<Float32Array> {
    const p = this.packed;
    this.lossArguments ??= this.runner.make('loss arguments (one shard)', shardLossArguments, {
      output: [p.maxShardRows], pipeline: true, loopMaxIterations: Math.max(1, p.maxRowLength), constants: this.csrConstants(),
    });
    this.coordinate ??= this.runner.make('coordinate decrease (one shard)', shardCoordinateDecrease, {
      output: [p.d], loopMaxIterations: Math.max(1, p.maxColumnLength), constants: this.cscConstants(),
    });
    const z = await this.runner.run(this.lossArguments, this.loadX(x), p.rowOffset[worker], p.shardRows[worker]);
    this.v.set(v.subarray(0, p.d));
    return this.runner.runFlat(this.coordinate, z, this.v, eta, worker * p.d, p.rowOffset[worker]);
  }

  destroy(): void {
    for (const k of this.kernels()) k.kernel.destroy();
  }
}

/**
 * The top-k threshold for vectors of up to `capacity` entries: a radix search over the key bits,
 * one counting dispatch per 4 bits (topk-kernels.ts). Blocks of 256 keys (more for vectors above
 * 2^19 entries, so that a pass reads back at most 2048·16 partial counts).
 */
export class TopKProgram {
  readonly runner: KernelRunner;
  readonly blockSize: number;
  readonly blocks: number;
  private readonly count: NamedKernel;
  private readonly keyHi: Float32Array;
  private readonly keyLo: Float32Array;
  private readonly candHi = new Float32Array(TOPK_CANDIDATES);
  private readonly candLo = new Float32Array(TOPK_CANDIDATES);
  private readonly sums = new Float64Array(TOPK_CANDIDATES);
  private length = 0;

  constructor(device: OpenedDevice, readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 1 && capacity < 2 ** 24)) {
      throw new RangeError(`gpu backend: top-k capacity ${capacity} must be in [1, 2^24) (float32 counts and indices are exact below 2^24)`);
    }
    this.runner = new KernelRunner(device);
    this.blockSize = Math.max(256, Math.ceil(capacity / 2048));
    this.blocks = Math.ceil(capacity / this.blockSize);
    this.keyHi = new Float32Array(capacity);
    this.keyLo = new Float32Array(capacity);
    this.count = this.runner.make('top-k threshold: keys ≥ 16 candidates per block (radix pass)', countAtLeastCandidates, {
      output: [this.blocks * TOPK_CANDIDATES], loopMaxIterations: this.blockSize,
      constants: { blockSize: this.blockSize, candidates: TOPK_CANDIDATES },
    });
  }

  /** Counts of the keys ≥ each candidate bit pattern (one dispatch; the blocks' partial counts added here). */
  private async countPass(candidates: readonly number[]): Promise<Float64Array> {
    for (let m = 0; m < TOPK_CANDIDATES; m++) {
      this.candHi[m] = Math.floor(candidates[m] / 65536);
      this.candLo[m] = candidates[m] % 65536;
    }
    const partial = await this.runner.runFlat(this.count, this.keyHi, this.keyLo, this.candHi, this.candLo, this.length);
    const sums = this.sums;
    sums.fill(0);
    const used = Math.ceil(this.length / this.blockSize);
    for (let b = 0; b < used; b++) {
      const base = b * TOPK_CANDIDATES;
      for (let m = 0; m < TOPK_CANDIDATES; m++) sums[m] += partial[base + m];
    }
    return sums;
  }

  /**
   * The k-th largest key and how many are larger, the keys given as their bits' halves
   * (KeySplitter: hi[j], lo[j] for j < length; NaN keys have hi −1) of which `numbers` are numeric.
   */
  async threshold(hi: Float32Array, lo: Float32Array, length: number, k: number, numbers: number): Promise<RadixResult> {
    if (!(Number.isInteger(length) && length >= 1 && length <= this.capacity)) throw new RangeError(`gpu backend: top-k of ${length} values, capacity ${this.capacity}`);
    this.keyHi.set(hi.subarray(0, length));
    this.keyLo.set(lo.subarray(0, length));
    this.length = length;
    return radixThreshold(k, numbers, (candidates) => this.countPass(candidates));
  }

  destroy(): void {
    this.count.kernel.destroy();
  }
}

/** Waits for a kernel result to exist on the host (a device-resident pipeline output is read back). */
async function settle(result: unknown): Promise<void> {
  if (ArrayBuffer.isView(result)) return;
  const handle = result as { toArray?: () => unknown } | null;
  if (handle && typeof handle.toArray === 'function') await handle.toArray();
}

/** Shape of an mlp: p inputs, the hidden widths h₁ … h_L (L ≥ 1), one logit; x laid out as in mlp-kernels.ts. */
export interface MlpShape {
  readonly inputs: number;
  readonly hidden: readonly number[];
  readonly params: number;
}

/** The mlp kernels (any depth) for one packed set of shards, all shards per dispatch (see mlp-kernels.ts). */
export class MlpProgram {
  readonly runner: KernelRunner;
  private readonly x: Float32Array;
  private readonly fullWeights: Float32Array;
  private readonly offsets: MlpLayerOffsets;
  /** Forward kernels, layer 1 … L (pipelined). */
  private readonly forward: NamedKernel[];
  private readonly terms: NamedKernel;
  /** Backward kernels δ_l, index l − 1 (pipelined). */
  private readonly backward: NamedKernel[];
  /** Gradient kernels, layer 1 … L + 1 (the last is the output layer). */
  private readonly grads: NamedKernel[];
  /** Every shard's gradients, shard-major (n·d), assembled from the layers' outputs. */
  private readonly gradients: Float32Array;

  constructor(device: OpenedDevice, readonly packed: PackedShards, readonly shape: MlpShape) {
    const p = packed;
    const offsets = mlpLayerOffsets(shape.inputs, shape.hidden);
    const { sizes, weightOffset, biasOffset } = offsets;
    const L = sizes.length - 2;
    if (L < 1) throw new RangeError('gpu backend: an mlp needs at least one hidden layer');
    if (p.d !== shape.inputs) throw new RangeError(`gpu backend: mlp shards have ${p.d} columns, the network ${shape.inputs} inputs`);
    if (shape.params !== offsets.params) throw new RangeError(`gpu backend: mlp ${sizes.join(' → ')} has ${offsets.params} parameters, not ${shape.params}`);
    const tooLarge = mlpCellLimit(shape, p.totalRows, p.workers);
    if (tooLarge) throw new RangeError(`gpu backend: ${tooLarge}, but float32 indices are exact only below 2^24`);
    this.runner = new KernelRunner(device);
    this.offsets = offsets;
    this.x = new Float32Array(shape.params);
    this.fullWeights = p.rowScale;
    this.gradients = new Float32Array(p.workers * shape.params);
    const N = p.totalRows;
    const layer = (l: number) => ({ inputs: sizes[l], units: sizes[l + 1], weights: weightOffset[l], bias: biasOffset[l] });
    const shardStart = Float32Array.from(p.rowOffset);
    const shardLoop = Math.max(1, p.maxShardRows);
    this.forward = [
      this.runner.make('mlp forward, layer 1 (all shards)', mlpFirstLayer, {
        output: [N * sizes[1]], pipeline: true, loopMaxIterations: Math.max(1, p.maxRowLength),
        constants: { rowPtr: p.rowPtr, colIdx: p.colIdx, values: p.values, ...layer(0) },
      }),
    ];
    for (let l = 1; l < L; l++) {
      this.forward.push(this.runner.make(`mlp forward, layer ${l + 1} (all shards)`, mlpDenseLayer, {
        output: [N * sizes[l + 1]], pipeline: true, loopMaxIterations: Math.max(1, sizes[l]), constants: layer(l),
      }));
    }
    this.terms = this.runner.make('mlp row terms: c_r and losses (all shards)', mlpRowTerms, {
      output: [2 * N], loopMaxIterations: Math.max(1, sizes[L]), constants: { labels: p.labels, totalRows: N, ...layer(L) },
    });
    this.backward = [];
    for (let l = 1; l <= L; l++) {
      this.backward.push(this.runner.make(`mlp backward δ, layer ${l} (all shards)`, mlpBackward, {
        output: [N * sizes[l]], pipeline: true, loopMaxIterations: Math.max(1, sizes[l + 1]),
        constants: { units: sizes[l], aboveUnits: sizes[l + 1], weights: weightOffset[l] },
      }));
    }
    this.grads = [
      this.runner.make('mlp gradients, layer 1 (all shards)', mlpFirstLayerGradients, {
        output: [p.workers * sizes[1] * (sizes[0] + 1)], loopMaxIterations: Math.max(1, p.maxColumnLength, p.maxShardRows),
        constants: { colPtr: p.colPtr, rowIdx: p.rowIdx, cscValues: p.cscValues, shardStart, layerParams: sizes[1] * (sizes[0] + 1), ...layer(0) },
      }),
    ];
    for (let l = 1; l <= L; l++) {
      const name = l === L ? 'output layer' : `layer ${l + 1}`;
      this.grads.push(this.runner.make(`mlp gradients, ${name} (all shards)`, mlpDenseGradients, {
        output: [p.workers * sizes[l + 1] * (sizes[l] + 1)], loopMaxIterations: shardLoop,
        constants: { shardStart, layerParams: sizes[l + 1] * (sizes[l] + 1), ...layer(l) },
      }));
    }
  }

  private loadX(x: Float32Array): Float32Array {
    this.x.set(x.subarray(0, this.shape.params));
    return this.x;
  }

  /** The forward pass and the row terms at x: every hidden layer's z_l (device) and c_r then the N loss terms. */
  async rowTerms(x: Float32Array, weights: Float32Array | null): Promise<{ pre: unknown[]; terms: Float32Array }> {
    const xs = this.loadX(x);
    const pre: unknown[] = [await this.runner.run(this.forward[0], xs)];
    for (let l = 1; l < this.forward.length; l++) pre.push(await this.runner.run(this.forward[l], pre[l - 1], xs));
    const terms = await this.runner.runFlat(this.terms, pre[pre.length - 1], xs, weights ?? this.fullWeights);
    return { pre, terms };
  }

  /** The data-term gradients of every shard (n·d, shard-major) and the row terms (2N). */
  async evaluate(x: Float32Array, weights: Float32Array | null): Promise<{ gradients: Float32Array; terms: Float32Array }> {
    const { pre, terms } = await this.rowTerms(x, weights);
    const L = pre.length;
    const xs = this.x;
    const delta: unknown[] = new Array(L);
    delta[L - 1] = await this.runner.run(this.backward[L - 1], terms, pre[L - 1], xs);
    for (let l = L - 2; l >= 0; l--) delta[l] = await this.runner.run(this.backward[l], delta[l + 1], pre[l], xs);
    this.place(0, await this.runner.runFlat(this.grads[0], delta[0]));
    for (let l = 1; l <= L; l++) this.place(l, await this.runner.runFlat(this.grads[l], l === L ? terms : delta[l], pre[l - 1]));
    return { gradients: this.gradients, terms };
  }

  /** Copies layer l's gradients (shard-major, P values per shard) to their place in every shard's x-sized block. */
  private place(l: number, layerGradients: Float32Array): void {
    const { sizes, weightOffset } = this.offsets;
    const size = sizes[l + 1] * (sizes[l] + 1);
    const d = this.shape.params;
    const at = weightOffset[l];
    for (let i = 0; i < this.packed.workers; i++) this.gradients.set(layerGradients.subarray(i * size, (i + 1) * size), i * d + at);
  }

  /**
   * Each kernel timed on its own at x (ms per call, `reps` calls after one warm-up), its inputs those of
   * one gradient at x. A pipelined kernel's output stays on the device, where a dispatch may return
   * before the work is done, so it is timed with a readback of its output (the label says so).
   */
  async timeKernels(x: Float32Array, reps: number): Promise<Array<{ kernel: string; ms: number[] }>> {
    const { pre, terms } = await this.rowTerms(x, null);
    const xs = this.x;
    const L = pre.length;
    const calls: Array<[NamedKernel, unknown[]]> = [[this.forward[0], [xs]]];
    for (let l = 1; l < L; l++) calls.push([this.forward[l], [pre[l - 1], xs]]);
    calls.push([this.terms, [pre[L - 1], xs, this.fullWeights]]);
    const delta: unknown[] = new Array(L);
    delta[L - 1] = await this.runner.run(this.backward[L - 1], terms, pre[L - 1], xs);
    calls.push([this.backward[L - 1], [terms, pre[L - 1], xs]]);
    for (let l = L - 2; l >= 0; l--) {
      delta[l] = await this.runner.run(this.backward[l], delta[l + 1], pre[l], xs);
      calls.push([this.backward[l], [delta[l + 1], pre[l], xs]]);
    }
    calls.push([this.grads[0], [delta[0]]]);
    for (let l = 1; l <= L; l++) calls.push([this.grads[l], [l === L ? terms : delta[l], pre[l - 1]]]);
    const samples: Array<{ kernel: string; ms: number[] }> = [];
    for (const [k, args] of calls) {
      const call = async () => settle(await this.runner.run(k, ...args));
      await call();
      const ms: number[] = [];
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        await call();
        ms.push(performance.now() - t0);
      }
      const piped = this.forward.includes(k) || this.backward.includes(k);
      samples.push({ kernel: `${k.name}${piped ? ', with a readback of its output' : ''}`, ms });
    }
    return samples;
  }

  /** Every kernel in the order one gradient runs them. */
  kernels(): NamedKernel[] {
    return [...this.forward, this.terms, ...[...this.backward].reverse(), ...this.grads];
  }

  /** Builds and runs every kernel once, so that build failures show here. */
  async warmUp(): Promise<string[]> {
    await this.evaluate(new Float32Array(this.shape.params), null);
    return this.kernels().map((k) => `${k.name}: ${k.kernel.kernel?.constructor?.name ?? 'unknown'}`);
  }

  destroy(): void {
    for (const k of this.kernels()) k.kernel.destroy();
  }
}
