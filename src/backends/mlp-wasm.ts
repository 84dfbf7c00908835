/**
 * Loader of the float64 WebAssembly kernels of the `mlp` problem (source: ./assembly/mlp.ts, compiled
 * by `npm run build:wasm` to mlp-kernels.wasm next to this file's output).
 *
 * As for the logistic-regression kernels (./wasm.ts): every shard gets its own instance with its own
 * memory, grown once in the constructor before any typed-array view exists; the kernels never
 * allocate, so the views never detach, and an instance is garbage-collected with its shard.
 * The kernel's exp and log1p are fdlibm's, bit for bit V8's Math.exp and Math.log1p that the JS
 * reference loop calls (./assembly/fdlibm.ts), which makes its results bitwise the reference's.
 * Where a shard's rows share enough prefixes (chosenPlan), its instance also holds the row-prefix plan
 * and a buffer of one chunk's z1 (chunk rows × h₁), and full passes compute the first layer along the plan, chunk by chunk (same bits).
 */
import { allOnes, layOut, wasmModuleLoader, type CompiledModule, type WasmMemory } from './wasm-module.js';
import type { CsrMatrix } from '../data/types.js';
import { rowPrefixPlan, suffixEntries, type RowPrefixPlan } from './row-prefix.js';

/** The layer structure the kernel needs (src/problems/mlp.ts MlpLayout). */
export interface MlpKernelLayout {
  readonly sizes: readonly number[];
  readonly weightOffset: readonly number[];
  readonly biasOffset: readonly number[];
  readonly d: number;
}

interface MlpExports {
  memory: WasmMemory;
  heapBase(): number;
  run(desc: number, count: number, useList: number, scale: number, mode: number): number;
  decreaseOneHidden(desc: number, cdesc: number, rows: number, eta: number): void;
  expLikeV8(x: number): number;
  log1pLikeV8(x: number): number;
  log1p2LikeV8(x: number): number;
}

const MODE_LOSS = 0;
const MODE_GRADIENT = 1;
const MODE_LOSS_GRADIENT = 2;
const MODE_CORRECT = 3;

/** Indices of the descriptor table (must match src/backends/assembly/mlp.ts). */
const D = {
  layers: 0, rowPtr: 1, colIdx: 2, values: 3, b: 4, x: 5, wT: 6, out: 7, g1T: 8, z: 9, delta: 10, rowList: 11,
  plan: 12, blocked: 13, lossTerms: 14, sizes: 16,
} as const;

/** Entries of the plan table (must match PL_* in src/backends/assembly/mlp.ts). */
const PLAN_ENTRIES = ['rows', 'order', 'lcp', 'suffixStart', 'suffixCols', 'suffixValues', 'prefix', 'z1Rows', 'chunkRows'] as const;

/**
 * Full passes take the first layer's forward from the row-prefix plan (`auto`) when its trie holds at
 * most this share of the non-zeros (computed / nnz, the trie taken per chunk). Measured (docs/performance.md
 * "The mlp cases"): at shares of 0.62–0.73 the plan gained 1–6 % or lost 1–2 %, at 0.2–0.48 it gained 3–17 %.
 */
export const ROW_PREFIX_MAX_SHARE = 0.6;
/**
 * The plan is taken in chunks of rows whose z1 (chunk rows × h₁ doubles) fills at most this many bytes,
 * so that the buffer stays in the caches between the chunk's sweep and its rows' passes. One buffer of
 * all rows' z1 beyond ~8 MB (w8a 12.7 MB, a9a with h₁ = 64 16.7 MB) made the whole gradient 6–14 %
 * slower, and a9a's 8.3 MB at h₁ = 32 moved between 5.1 and 7.8 ms per gradient from process to process
 * (the 32 MB L3 is shared); chunks keep less sharing (docs/performance.md, "Runs 24–38").
 */
export const ROW_PREFIX_CHUNK_BYTES = 2 * 2 ** 20;

/** Whether a kernel uses the row-prefix plan: by the measured rule (`auto`), or forced (tests, perf). */
export type RowPrefixChoice = 'auto' | 'always' | 'never';

/** Rows per chunk of the plan for a first layer of h₁ units (ROW_PREFIX_CHUNK_BYTES). */
function planChunkRows(h1: number): number {
  return Math.max(1, Math.floor(ROW_PREFIX_CHUNK_BYTES / (8 * h1)));
}

/**
 * The plan a kernel uses for this shard, or undefined (see ROW_PREFIX_MAX_SHARE); chunks of
 * `chunkRows` rows (tests choose them; by default planChunkRows).
 */
function chosenPlan(A: CsrMatrix, h1: number, binary: boolean, choice: RowPrefixChoice, chunkRows: number): RowPrefixPlan | undefined {
  if (choice === 'never') return undefined;
  const plan = rowPrefixPlan(A, binary, chunkRows);
  if (plan === undefined || choice === 'always') return plan;
  return plan.computed <= ROW_PREFIX_MAX_SHARE * plan.nnz ? plan : undefined;
}

/**
 * The plan's arrays in the instance: its table (PLAN_ENTRIES), order and lcp, and each row's entries
 * beyond its shared prefix copied out in plan order (the sweep then reads one stream instead of
 * jumping between rows); the desc's plan slot points at the table.
 */
function writePlan(buffer: ArrayBuffer, ptr: Record<string, number>, A: CsrMatrix, plan: RowPrefixPlan, binary: boolean): void {
  const rows = A.rows;
  const table = new Int32Array(buffer, ptr.plan, PLAN_ENTRIES.length);
  PLAN_ENTRIES.forEach((name, i) => {
    table[i] = ptr[name];
  });
  table[0] = rows;
  table[PLAN_ENTRIES.indexOf('chunkRows')] = plan.chunkRows;
  new Int32Array(buffer, ptr.order, rows).set(plan.order);
  new Int32Array(buffer, ptr.lcp, rows).set(plan.lcp);
  const { start, entries } = suffixEntries(plan, A);
  new Int32Array(buffer, ptr.suffixStart, rows + 1).set(start);
  const cols = new Int32Array(buffer, ptr.suffixCols, plan.computed);
  const values = binary ? undefined : new Float64Array(buffer, ptr.suffixValues, plan.computed);
  for (let t = 0; t < entries.length; t++) {
    cols[t] = A.colIdx[entries[t]];
    if (values) values[t] = A.values[entries[t]];
  }
  new Int32Array(buffer, ptr.desc, D.sizes)[D.plan] = ptr.plan;
}

/**
 * Rows per block of the blocked first-layer gradient (./assembly/mlp.ts blockGradient): the block's δ₁
 * (ROWS_PER_BLOCK × h₁ doubles, 128 KB at h₁ = 32) stays in the L2 while its columns are gathered (measured:
 * 512 against 128, 256: the same to 3 % faster; 128 up to 15 % slower on a9a).
 */
const ROWS_PER_BLOCK = 512;
const BLOCK_TABLE_ENTRIES = 7;

/** Per block the (column, entries) items of its non-empty columns, ascending, and per entry its row's place in the block and value. */
interface BlockedColumns {
  readonly blockItems: Int32Array;
  /** Three i32 per item: g1T byte offset of the column, its entries' start and end. */
  readonly items: Int32Array;
  readonly entries: Int32Array;
  readonly values: Float64Array;
}

/** The shard's CSC cut into blocks of ROWS_PER_BLOCK rows (within a column and block, rows ascending). */
function blockedColumns(A: CsrMatrix, h1: number): BlockedColumns {
  const rows = A.rows;
  const d = A.cols;
  const blocks = Math.ceil(rows / ROWS_PER_BLOCK);
  const blockItems = new Int32Array(blocks + 1);
  const items: number[] = [];
  const entries = new Int32Array(A.rowPtr[rows]);
  const values = new Float64Array(A.rowPtr[rows]);
  const count = new Int32Array(d);
  const next = new Int32Array(d);
  let at = 0;
  for (let block = 0; block < blocks; block++) {
    const first = block * ROWS_PER_BLOCK;
    const last = Math.min(rows, first + ROWS_PER_BLOCK);
    count.fill(0);
    for (let k = A.rowPtr[first]; k < A.rowPtr[last]; k++) count[A.colIdx[k]]++;
    blockItems[block] = items.length / 3;
    for (let j = 0; j < d; j++) {
      if (count[j] === 0) continue;
      items.push(8 * j * h1, at, at + count[j]);
      next[j] = at;
      at += count[j];
    }
    // a row's repeated column keeps its CSR order (stable), as the scatter adds them
    for (let r = first; r < last; r++) {
      for (let k = A.rowPtr[r]; k < A.rowPtr[r + 1]; k++) {
        const e = next[A.colIdx[k]]++;
        entries[e] = r - first;
        values[e] = A.values[k];
      }
    }
  }
  blockItems[blocks] = items.length / 3;
  return { blockItems, items: Int32Array.from(items), entries, values };
}

function writeBlockedColumns(buffer: ArrayBuffer, ptr: Record<string, number>, blocks: BlockedColumns, rows: number, binary: boolean): void {
  new Int32Array(buffer, ptr.blockItems, blocks.blockItems.length).set(blocks.blockItems);
  new Int32Array(buffer, ptr.blockItemTriples, blocks.items.length).set(blocks.items);
  new Int32Array(buffer, ptr.blockEntries, blocks.entries.length).set(blocks.entries);
  if (!binary) new Float64Array(buffer, ptr.blockValues, blocks.values.length).set(blocks.values);
  new Int32Array(buffer, ptr.blockTable, BLOCK_TABLE_ENTRIES).set([
    ROWS_PER_BLOCK, ptr.blockItems, ptr.blockItemTriples, ptr.blockEntries, binary ? 0 : ptr.blockValues, ptr.blockDeltas, rows,
  ]);
  new Int32Array(buffer, ptr.desc, D.sizes)[D.blocked] = ptr.blockTable;
}

const loader = wasmModuleLoader('mlp-kernels.wasm');
const loadModule = (): CompiledModule | undefined => loader.load();

/** Whether the kernels can be used; when not, `mlpWasmUnavailableReason()` says why. */
export function mlpWasmAvailable(): boolean {
  return loadModule() !== undefined;
}

export function mlpWasmUnavailableReason(): string | undefined {
  return loader.reason();
}

/** The kernel's own exp and log1p (for the tests that hold them to V8's bits), or undefined without the module. */
export function mlpKernelMath(): { exp(x: number): number; log1p(x: number): number; log1pTwoLane(x: number): number } | undefined {
  const compiled = loadModule();
  if (!compiled) return undefined;
  const exports = new compiled.api.Instance(compiled.module, {}).exports as unknown as MlpExports;
  return { exp: (x) => exports.expLikeV8(x), log1p: (x) => exports.log1pLikeV8(x), log1pTwoLane: (x) => exports.log1p2LikeV8(x) };
}

interface ShardInstance {
  readonly exports: MlpExports;
  readonly ptr: Record<string, number>;
  readonly binary: boolean;
}

/**
 * A fresh instance holding one shard's CSR rows, labels, the network's descriptor and scratch, plus
 * `extra` arrays (byte sizes; 0 → absent). Memory is grown here, once, before any view exists.
 */
function shardInstance({ module, api }: CompiledModule, A: CsrMatrix, b: Float64Array, layout: MlpKernelLayout, extra: Record<string, number>): ShardInstance {
  const rows = A.rows;
  const nnz = A.rowPtr[rows];
  const { sizes, d } = layout;
  const layers = sizes.length - 1;
  const binary = allOnes(A.values.subarray(0, nnz));
  let units = 0;
  for (let l = 1; l < sizes.length; l++) units += sizes[l];
  const descEntries = D.sizes + (layers + 1) + 3 * layers;
  const bytes: Record<string, number> = {
    desc: 4 * descEntries,
    rowPtr: 4 * (rows + 1),
    colIdx: 4 * nnz,
    values: binary ? 0 : 8 * nnz,
    b: 8 * rows,
    x: 8 * d,
    wT: 8 * d,
    out: 8 * d,
    g1T: 8 * sizes[0] * sizes[1],
    z: 8 * units,
    delta: 8 * units,
    rowList: 4 * rows,
    lossTerms: 16 * rows,
    ...extra,
  };
  const exports = new api.Instance(module, {}).exports as unknown as MlpExports;
  // 16-byte alignment for the kernel's two-lane loads and stores
  const ptr = layOut(exports.memory, exports.heapBase(), bytes, 16);
  const buffer = exports.memory.buffer;

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
  desc[D.lossTerms] = ptr.lossTerms;
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
  if (!binary) new Float64Array(buffer, ptr.values, nnz).set(A.values.subarray(0, nnz));
  new Float64Array(buffer, ptr.b, rows).set(b.subarray(0, rows));
  return { exports, ptr, binary };
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
  /** Whether full passes (loss, gradient) compute the first layer along the row-prefix plan. */
  readonly rowPrefix: boolean;

  constructor(
    compiledModule: CompiledModule, A: CsrMatrix, b: Float64Array, layout: MlpKernelLayout, rowPrefix: RowPrefixChoice = 'auto',
    chunkRows: number = planChunkRows(layout.sizes[1]),
  ) {
    const h1 = layout.sizes[1];
    const binary = allOnes(A.values.subarray(0, A.rowPtr[A.rows]));
    // The plan costs one sort of the rows (~50 ms on a9a or w8a) and a chunk's rows × h₁ doubles for their z1.
    const plan = chosenPlan(A, h1, binary, rowPrefix, chunkRows);
    const planBytes: Record<string, number> = plan
      ? {
        plan: 4 * PLAN_ENTRIES.length,
        order: 4 * A.rows,
        lcp: 4 * A.rows,
        suffixStart: 4 * (A.rows + 1),
        suffixCols: 4 * plan.computed,
        suffixValues: binary ? 0 : 8 * plan.computed,
        prefix: 8 * (plan.maxLength + 1) * h1,
        z1Rows: 8 * plan.chunkRows * h1,
      }
      : {};
    const blocks = blockedColumns(A, h1);
    const made = shardInstance(compiledModule, A, b, layout, {
      ...planBytes,
      blockTable: 4 * BLOCK_TABLE_ENTRIES,
      blockItems: 4 * (blocks.blockItems.length),
      blockItemTriples: 4 * blocks.items.length,
      blockEntries: 4 * blocks.entries.length,
      blockValues: binary ? 0 : 8 * blocks.values.length,
      blockDeltas: 8 * ROWS_PER_BLOCK * h1,
    });
    const buffer = made.exports.memory.buffer;
    if (plan) writePlan(buffer, made.ptr, A, plan, binary);
    writeBlockedColumns(buffer, made.ptr, blocks, A.rows, binary);
    this.rowPrefix = plan !== undefined;
    this.rows = A.rows;
    this.d = layout.d;
    this.binary = made.binary;
    this.exports = made.exports;
    this.desc = made.ptr.desc;
    this.x = new Float64Array(buffer, made.ptr.x, layout.d);
    this.out = new Float64Array(buffer, made.ptr.out, layout.d);
    this.rowList = new Int32Array(buffer, made.ptr.rowList, A.rows);
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
   * out ← Σ_r (d loss_r / dx)·scale over rows[0..count) (every row in order when `rows` is undefined,
   * count then being the shard's row count: the full pass the row-prefix plan covers);
   * returns Σ_r softplus(−b_r z_r) when `withLoss`, else 0.
   */
  accumulate(x: Float64Array, rows: Int32Array | undefined, count: number, scale: number, withLoss: boolean, out: Float64Array): number {
    this.loadX(x);
    if (rows === undefined) {
      if (count !== this.rows) throw new RangeError(`a full pass covers the shard's ${this.rows} rows, not ${count}`);
    } else {
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

/** The CSC copy of a shard (src/data/csr.ts CscMatrix). */
export interface CscArrays {
  readonly colPtr: Int32Array;
  readonly rowIdx: Int32Array;
  readonly values: Float64Array;
}

/**
 * Importance (a) of a one-hidden-layer network (MlpShard.coordinateDecrease) in its own instance:
 * the shard's CSR and CSC, every row's hidden pre-activations and per-row loss terms. Made on the first
 * coordinateDecrease call only. Uses AssemblyScript's float64 expm1/log1p (musl ports) for the per-row,
 * per-parameter terms, so it agrees with the JS loop to rounding, not bit for bit.
 */
export class MlpWasmCoordinateKernel {
  readonly d: number;
  private readonly rows: number;
  private readonly exports: MlpExports;
  private readonly desc: number;
  private readonly cdesc: number;
  private readonly x: Float64Array;
  private readonly v: Float64Array;
  private readonly out: Float64Array;

  constructor(compiledModule: CompiledModule, A: CsrMatrix, b: Float64Array, layout: MlpKernelLayout, csc: CscArrays) {
    const { sizes, d } = layout;
    if (sizes.length !== 3) throw new RangeError('MlpWasmCoordinateKernel: one hidden layer only');
    const rows = A.rows;
    const nnz = A.rowPtr[rows];
    const h = sizes[1];
    const binary = allOnes(A.values.subarray(0, nnz));
    const made = shardInstance(compiledModule, A, b, layout, {
      cdesc: 4 * 12,
      colPtr: 4 * (sizes[0] + 1),
      rowIdx: 4 * nnz,
      cscValues: binary ? 0 : 8 * nnz,
      hidden: 8 * rows * h,
      p: 8 * rows,
      sigma: 8 * rows,
      softplus: 8 * rows,
      v: 8 * d,
      steps: 8 * h,
      expPlus: 8 * h,
      expMinus: 8 * h,
      sums: 8 * h,
    });
    const ptr = made.ptr;
    const buffer = made.exports.memory.buffer;
    const cdesc = new Int32Array(buffer, ptr.cdesc, 12);
    ['colPtr', 'rowIdx', 'cscValues', 'hidden', 'p', 'sigma', 'softplus', 'v', 'steps', 'expPlus', 'expMinus', 'sums'].forEach((name, i) => {
      cdesc[i] = ptr[name];
    });
    const cols = csc.colPtr.length - 1;
    const colPtr = new Int32Array(buffer, ptr.colPtr, sizes[0] + 1);
    colPtr.set(csc.colPtr.subarray(0, cols + 1));
    colPtr.fill(csc.colPtr[cols], cols + 1); // inputs the shard never uses have empty columns
    new Int32Array(buffer, ptr.rowIdx, nnz).set(csc.rowIdx.subarray(0, nnz));
    if (!binary) new Float64Array(buffer, ptr.cscValues, nnz).set(csc.values.subarray(0, nnz));
    this.d = d;
    this.rows = rows;
    this.exports = made.exports;
    this.desc = ptr.desc;
    this.cdesc = ptr.cdesc;
    this.x = new Float64Array(buffer, ptr.x, d);
    this.v = new Float64Array(buffer, ptr.v, d);
    this.out = new Float64Array(buffer, ptr.out, d);
  }

  /** Row sums of the loss changes (before 1/N_i and the regulariser) into out. */
  rowSums(x: Float64Array, v: Float64Array, eta: number, out: Float64Array): void {
    if (x.length !== this.d || v.length !== this.d) throw new RangeError(`x and v need ${this.d} entries`);
    this.x.set(x);
    this.v.set(v);
    this.exports.decreaseOneHidden(this.desc, this.cdesc, this.rows, eta);
    out.set(this.out);
  }
}

/** The importance-(a) kernel of a one-hidden-layer shard, or undefined when wasm is unavailable. */
export function createMlpWasmCoordinateKernel(A: CsrMatrix, b: Float64Array, layout: MlpKernelLayout, csc: CscArrays): MlpWasmCoordinateKernel | undefined {
  const m = loadModule();
  return m ? new MlpWasmCoordinateKernel(m, A, b, layout, csc) : undefined;
}

/** A kernel for this shard, or undefined when WebAssembly or the compiled module is unavailable. */
export function createMlpWasmKernel(
  A: CsrMatrix, b: Float64Array, layout: MlpKernelLayout, rowPrefix: RowPrefixChoice = 'auto', chunkRows?: number,
): MlpWasmKernel | undefined {
  const m = loadModule();
  return m ? new MlpWasmKernel(m, A, b, layout, rowPrefix, chunkRows) : undefined;
}
