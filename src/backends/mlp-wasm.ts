/**
 * Loader of the float64 WebAssembly kernels of the `mlp` problem (source: ./assembly/mlp.ts, compiled
 * by `npm run build:wasm` to mlp-kernels.wasm next to this file's output).
 *
 * As for the logistic-regression kernels (./wasm.ts): every shard gets its own instance with its own
 * memory, grown once in the constructor before any typed-array view exists; the kernels never
 * allocate, so the views never detach, and an instance is garbage-collected with its shard.
 * The module imports exp and log1p from the host's Math: the same functions the JS reference loop
 * calls, which makes the kernel's results bitwise the reference's.
 */
import { readFileSync } from 'node:fs';
import type { CsrMatrix } from '../data/types.js';

/** The layer structure the kernel needs (src/problems/mlp.ts MlpLayout). */
export interface MlpKernelLayout {
  readonly sizes: readonly number[];
  readonly weightOffset: readonly number[];
  readonly biasOffset: readonly number[];
  readonly d: number;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface MlpExports {
  memory: WasmMemory;
  heapBase(): number;
  run(desc: number, count: number, useList: number, scale: number, mode: number): number;
}

const PAGE_BYTES = 65536;
const MODE_LOSS = 0;
const MODE_GRADIENT = 1;
const MODE_LOSS_GRADIENT = 2;
const MODE_CORRECT = 3;

/** Indices of the descriptor table (must match src/backends/assembly/mlp.ts). */
const D = { layers: 0, rowPtr: 1, colIdx: 2, values: 3, b: 4, x: 5, wT: 6, out: 7, g1T: 8, z: 9, delta: 10, rowList: 11, sizes: 16 } as const;

const WASM_CANDIDATES = [
  new URL('./mlp-kernels.wasm', import.meta.url),
  new URL('../../dist/src/backends/mlp-kernels.wasm', import.meta.url),
];

interface CompiledModule {
  module: object;
  api: WasmApi;
}

let compiled: CompiledModule | undefined;
let unavailableReason: string | undefined;

function loadModule(): CompiledModule | undefined {
  if (compiled || unavailableReason !== undefined) return compiled;
  const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api) {
    unavailableReason = 'WebAssembly is not available in this runtime';
    return undefined;
  }
  for (const url of WASM_CANDIDATES) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(url);
    } catch {
      continue;
    }
    compiled = { module: new api.Module(bytes), api };
    return compiled;
  }
  unavailableReason = `mlp-kernels.wasm not found (looked at ${WASM_CANDIDATES.map((u) => u.pathname).join(', ')}); run npm run build`;
  return undefined;
}

/** Whether the mlp kernels can be used; when not, `mlpWasmUnavailableReason()` says why. */
export function mlpWasmAvailable(): boolean {
  return loadModule() !== undefined;
}

export function mlpWasmUnavailableReason(): string | undefined {
  loadModule();
  return unavailableReason;
}

function allOnes(values: Float64Array): boolean {
  for (let k = 0; k < values.length; k++) if (values[k] !== 1) return false;
  return true;
}

/**
 * One shard's rows, labels and the network's scratch in a private instance: x is copied in per call,
 * the data-term gradient copied out.
 */
export class MlpWasmKernel {
  readonly rows: number;
  readonly d: number;
  readonly binary: boolean;
  private readonly exports: MlpExports;
  private readonly desc: number;
  private readonly x: Float64Array;
  private readonly out: Float64Array;
  private readonly rowList: Int32Array;

  constructor({ module, api }: CompiledModule, A: CsrMatrix, b: Float64Array, layout: MlpKernelLayout) {
    const rows = A.rows;
    const nnz = A.rowPtr[rows];
    const { sizes, d } = layout;
    const layers = sizes.length - 1;
    this.rows = rows;
    this.d = d;
    this.binary = allOnes(A.values.subarray(0, nnz));
    let units = 0;
    for (let l = 1; l < sizes.length; l++) units += sizes[l];
    const descEntries = D.sizes + (layers + 1) + 3 * layers;
    const bytes: Record<string, number> = {
      desc: 4 * descEntries,
      rowPtr: 4 * (rows + 1),
      colIdx: 4 * nnz,
      values: this.binary ? 0 : 8 * nnz,
      b: 8 * rows,
      x: 8 * d,
      wT: 8 * d,
      out: 8 * d,
      g1T: 8 * sizes[0] * sizes[1],
      // +1 so a two-lane load past an odd layer's end stays inside the buffer
      z: 8 * (units + 1),
      delta: 8 * (units + 1),
      rowList: 4 * rows,
    };
    const exports = new api.Instance(module, { env: { exp: Math.exp, log1p: Math.log1p } }).exports as unknown as MlpExports;
    // 16-byte alignment: the kernel's two-lane loads and stores.
    let top = exports.heapBase();
    const ptr: Record<string, number> = {};
    for (const [name, size] of Object.entries(bytes)) {
      if (size === 0) {
        ptr[name] = 0;
        continue;
      }
      top = Math.ceil(top / 16) * 16;
      ptr[name] = top;
      top += size;
    }
    const memory = exports.memory;
    const have = memory.buffer.byteLength / PAGE_BYTES;
    const need = Math.ceil(top / PAGE_BYTES);
    if (need > have) memory.grow(need - have);
    const buffer = memory.buffer;
    this.exports = exports;
    this.desc = ptr.desc;

    const desc = new Int32Array(buffer, ptr.desc, descEntries);
    desc[D.layers] = layers;
    desc[D.rowPtr] = ptr.rowPtr;
    desc[D.colIdx] = ptr.colIdx;
    desc[D.values] = ptr.values;
    desc[D.b] = ptr.b;
    desc[D.x] = ptr.x;
    desc[D.wT] = ptr.wT;
    desc[D.out] = ptr.out;
    desc[D.g1T] = ptr.g1T;
    desc[D.z] = ptr.z;
    desc[D.delta] = ptr.delta;
    desc[D.rowList] = ptr.rowList;
    let unit = 0;
    for (let l = 0; l <= layers; l++) desc[D.sizes + l] = sizes[l];
    for (let l = 0; l < layers; l++) {
      desc[D.sizes + layers + 1 + l] = layout.weightOffset[l];
      desc[D.sizes + 2 * layers + 1 + l] = layout.biasOffset[l];
      desc[D.sizes + 3 * layers + 1 + l] = unit;
      unit += sizes[l + 1];
    }
    new Int32Array(buffer, ptr.rowPtr, rows + 1).set(A.rowPtr.subarray(0, rows + 1));
    new Int32Array(buffer, ptr.colIdx, nnz).set(A.colIdx.subarray(0, nnz));
    if (!this.binary) new Float64Array(buffer, ptr.values, nnz).set(A.values.subarray(0, nnz));
    new Float64Array(buffer, ptr.b, rows).set(b.subarray(0, rows));
    this.x = new Float64Array(buffer, ptr.x, d);
    this.out = new Float64Array(buffer, ptr.out, d);
    this.rowList = new Int32Array(buffer, ptr.rowList, rows);
  }

  private loadX(x: Float64Array): void {
    if (x.length !== this.d) throw new RangeError(`x has ${x.length} entries, the network ${this.d} parameters`);
    this.x.set(x);
  }

  /** Σ_r softplus(−b_r z_r) over the shard. */
  lossSum(x: Float64Array): number {
    this.loadX(x);
    return this.exports.run(this.desc, this.rows, 0, 1, MODE_LOSS);
  }

  /**
   * out ← Σ_r (d loss_r / dx)·scale over rows[0..count) (every row in order when `rows` is undefined);
   * returns Σ_r softplus(−b_r z_r) when `withLoss`, else 0.
   */
  accumulate(x: Float64Array, rows: Int32Array | undefined, count: number, scale: number, withLoss: boolean, out: Float64Array): number {
    this.loadX(x);
    if (rows !== undefined) {
      const list = this.rowList;
      const n = this.rows;
      // The kernel does no bounds checks: a row index is validated while it is copied in.
      for (let i = 0; i < count; i++) {
        const r = rows[i];
        if (!(r >= 0 && r < n)) throw new RangeError(`minibatch row ${r} is outside the shard's ${n} rows`);
        list[i] = r;
      }
    }
    const sum = this.exports.run(this.desc, count, rows === undefined ? 0 : 1, scale, withLoss ? MODE_LOSS_GRADIENT : MODE_GRADIENT);
    out.set(this.out);
    return sum;
  }

  /** Rows whose predicted sign (z ≥ 0 → +1) matches b. */
  countCorrect(x: Float64Array): number {
    this.loadX(x);
    return this.exports.run(this.desc, this.rows, 0, 1, MODE_CORRECT);
  }
}

/** A kernel for this shard, or undefined when WebAssembly or the compiled module is unavailable. */
export function createMlpWasmKernel(A: CsrMatrix, b: Float64Array, layout: MlpKernelLayout): MlpWasmKernel | undefined {
  const m = loadModule();
  return m ? new MlpWasmKernel(m, A, b, layout) : undefined;
}
