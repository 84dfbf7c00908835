/**
 * Float64 WebAssembly kernels for the logistic-regression hot loops (source: ./assembly/csr.ts,
 * compiled by `npm run build` to csr-kernels.wasm next to this file's output).
 *
 * Why: V8 keeps bounds checks and cannot vectorise the CSR gather/scatter, so the JS loops run at
 * ~6–9× a C loop; the same loops in wasm over raw f64 memory run close to C.
 *
 * Memory safety of the views: every shard gets its own module *instance* with its own memory. The
 * instance's memory is grown exactly once, in the constructor, before any typed-array view onto it
 * exists; the kernels never allocate (stub runtime), so the memory never grows again and the views
 * can never detach. An instance (and its memory) is garbage-collected with its shard, so creating and
 * dropping many problems in one process does not accumulate wasm memory.
 */
import { allOnes, layOut, wasmModuleLoader, type CompiledModule, type WasmMemory } from './wasm-module.js';
import type { CsrMatrix } from '../data/types.js';
import { toCsc, type CscMatrix } from '../data/csr.js';

/** Exports of csr-kernels.wasm used here; pointers are byte offsets into `memory` (see csr.ts on colAddr/rowAddr). */
interface KernelExports {
  memory: WasmMemory;
  heapBase(): number;
  expNonPositive(y: number): number;
  log1pLane(x: number): number;
  log1pScalar(x: number): number;
  expScalar(x: number): number;
  expm1Scalar(x: number): number;
  loss(
    n: number, rowOrder: number, rowPtr: number, colAddr: number, values: number, b: number, x: number, z: number, coef: number, e: number,
    binary: number, dots: number, d: number, colPtr: number, rowAddr: number, cscValues: number, interleaved: number,
  ): number;
  gradient(
    n: number, rowOrder: number, rowPtr: number, colAddr: number, values: number, b: number, x: number, out: number,
    z: number, coef: number, e: number, scale: number, binary: number, dots: number, d: number, colOrder: number, colPtr: number,
    rowAddr: number, cscValues: number, withLoss: number, lambda: number, regulariser: number, interleaved: number,
  ): number;
  batchGradient(
    count: number, rowList: number, rowPtr: number, colAddr: number, values: number, b: number, x: number, out: number,
    z: number, sigma: number, e: number, scale: number, binary: number,
  ): number;
  coordinateDecreaseSigns: CoordinateDecrease;
  coordinateDecreaseBinary: CoordinateDecrease;
  coordinateDecreaseValued: CoordinateDecrease;
}

type CoordinateDecrease = (
  n: number, rowPtr: number, colAddr: number, values: number, b: number, p: number, rowSigma: number, rowSoftplus: number,
  d: number, colPtr: number, rowIdx: number, signedValues: number, v: number, eta: number, colSum: number,
) => void;


const loader = wasmModuleLoader('csr-kernels.wasm');
const loadModule = (): CompiledModule | undefined => loader.load();

/** Whether the kernels can be used; when not, `wasmUnavailableReason()` says why. */
export function wasmKernelsAvailable(): boolean {
  return loadModule() !== undefined;
}

export function wasmUnavailableReason(): string | undefined {
  return loader.reason();
}

/**
 * A fresh instance whose memory holds one 8-byte-aligned array per entry of `bytes` (sizes in bytes;
 * 0 gets offset 0, i.e. "absent"), laid out after the module's static data. The memory is grown
 * here, once, before any view onto it exists — the only growth it ever sees.
 */
function instantiate(
  { module, api }: CompiledModule,
  bytes: Record<string, number>,
): { exports: KernelExports; ptr: Record<string, number> } {
  const exports = new api.Instance(module, {}).exports as unknown as KernelExports;
  return { exports, ptr: layOut(exports.memory, exports.heapBase(), bytes, 8) };
}

/** Byte sizes of a CSR copy and its labels (one f64 of padding, read by a two-row sweep); `values` is absent (0) for binary matrices. */
function csrBytes(A: CsrMatrix, binary: boolean): Record<string, number> {
  const nnz = A.rowPtr[A.rows];
  return { rowPtr: 4 * (A.rows + 1), colAddr: 4 * nnz, values: binary ? 0 : 8 * nnz, b: 8 * (A.rows + 1) };
}

/**
 * The CSR rows and labels, with `colAddr[k]` = the byte address of x[colIdx[k]] (ptr.x), so that the
 * kernels' gathers need no index arithmetic.
 */
function copyCsr(buffer: ArrayBuffer, ptr: Record<string, number>, A: CsrMatrix, b: Float64Array, binary: boolean): void {
  const rows = A.rows;
  const nnz = A.rowPtr[rows];
  new Int32Array(buffer, ptr.rowPtr, rows + 1).set(A.rowPtr.subarray(0, rows + 1));
  const colAddr = new Int32Array(buffer, ptr.colAddr, nnz);
  const x = ptr.x;
  for (let k = 0; k < nnz; k++) colAddr[k] = x + 8 * A.colIdx[k];
  if (!binary) new Float64Array(buffer, ptr.values, nnz).set(A.values.subarray(0, nnz));
  new Float64Array(buffer, ptr.b, rows).set(b.subarray(0, rows));
}

/**
 * The shard's CSC (src/data/csr.ts toCsc: each column lists its rows ascending, a row's repeated entries
 * in their CSR order, so the kernels' column gather adds onto out[j] in exactly the order of a row-by-row
 * scatter) written into wasm memory at ptr.colPtr / ptr.rowIdx / ptr.cscValues (values only when not
 * binary), and the column order at ptr.colOrder.
 */
export function copyCsc(
  buffer: ArrayBuffer, ptr: Record<string, number>, A: CsrMatrix, binary: boolean,
  csc: CscMatrix = toCsc(A), colOrder: Int32Array = columnsByLength(csc.colPtr),
): void {
  const nnz = csc.colPtr[csc.cols];
  new Int32Array(buffer, ptr.colPtr, csc.cols + 1).set(csc.colPtr);
  new Int32Array(buffer, ptr.rowIdx, nnz).set(csc.rowIdx.subarray(0, nnz));
  if (!binary) new Float64Array(buffer, ptr.cscValues, nnz).set(csc.values.subarray(0, nnz));
  new Int32Array(buffer, ptr.colOrder, csc.cols).set(colOrder);
}

/** Columns by length (ties by index), from the CSC column pointers: the gather runs them four at a time, best with equal lengths. */
function columnsByLength(colPtr: Int32Array): Int32Array {
  const len = (j: number): number => colPtr[j + 1] - colPtr[j];
  return Int32Array.from({ length: colPtr.length - 1 }, (_, j) => j).sort((i, j) => len(i) - len(j) || i - j);
}

/** Entries of the interleaved layout's descriptor (./assembly/csr.ts IL_*). */
const IL_ENTRIES = 11;
/**
 * What a prefix node costs against the stream entry it saves (one sweep step: load, add, store
 * against load, add); a trie level is kept while the entries it saves exceed its nodes times this.
 */
const NODE_COST = 2.5;

/** The top levels of the rows' prefix trie (./assembly/csr.ts, "Rows that share their first entries"). */
interface PrefixNodes {
  /** Nodes, level order, an even count per level: parent node (−1 at depth 1), column (−1: a filler), value. */
  readonly parent: Int32Array;
  readonly col: Int32Array;
  readonly value: Float64Array;
  /** Per row: its deepest node (−1: none, an empty row or no level kept) and that node's depth. */
  readonly nodeOf: Int32Array;
  readonly depthOf: Int32Array;
}

/**
 * The distinct row prefixes of A of lengths 1..m, level by level, m the last level whose entries saved
 * (one per row that long) exceed NODE_COST times its nodes. A prefix is its columns and values.
 */
function prefixNodes(A: CsrMatrix, binary: boolean): PrefixNodes {
  const rows = A.rows;
  const nodeOf = new Int32Array(rows).fill(-1);
  const depthOf = new Int32Array(rows);
  const parent: number[] = [];
  const col: number[] = [];
  const value: number[] = [];
  for (let depth = 1; ; depth++) {
    const ids = new Map<string | number, number>();
    const next = new Int32Array(rows).fill(-1);
    let longEnough = 0;
    const first = parent.length;
    for (let r = 0; r < rows; r++) {
      const k = A.rowPtr[r] + depth - 1;
      if (k >= A.rowPtr[r + 1]) continue;
      longEnough++;
      const up = nodeOf[r];
      const j = A.colIdx[k];
      const v = A.values[k];
      // valued: the value's bits decide (String(−0) is "0"; a −0 and a +0 term are different additions)
      const key = binary ? (up + 1) * A.cols + j : `${up},${j},${Object.is(v, -0) ? '-0' : v}`;
      let id = ids.get(key);
      if (id === undefined) {
        id = parent.length;
        ids.set(key, id);
        parent.push(up);
        col.push(j);
        value.push(A.values[k]);
      }
      next[r] = id;
    }
    if (longEnough === 0 || longEnough <= NODE_COST * (parent.length - first)) {
      parent.length = first;
      col.length = first;
      value.length = first;
      break;
    }
    for (let r = 0; r < rows; r++) {
      if (next[r] >= 0) {
        nodeOf[r] = next[r];
        depthOf[r] = depth;
      }
    }
    // An even count per level (the kernel sums two nodes at a time, never a node with its parent):
    // a filler node adds +0 to +0 into a slot nobody reads.
    if (parent.length % 2 === 1) {
      parent.push(-1);
      col.push(-1);
      value.push(1);
    }
  }
  return { parent: Int32Array.from(parent), col: Int32Array.from(col), value: Float64Array.from(value), nodeOf, depthOf };
}

/**
 * The rows' slots for the interleaved sweep as a CSR: a row with a prefix node starts with that node's
 * sum (value 1), then its entries after the node's depth; other rows are their entries. A slot is
 * coded as its column j ≥ 0 or as −1 − node (addresses are known only once the memory is laid out).
 */
function rowSlots(A: CsrMatrix, nodes: PrefixNodes): { ptr: Int32Array; codes: Int32Array; values: Float64Array } {
  const rows = A.rows;
  const ptr = new Int32Array(rows + 1);
  for (let r = 0; r < rows; r++) ptr[r + 1] = ptr[r] + (A.rowPtr[r + 1] - A.rowPtr[r]) - nodes.depthOf[r] + (nodes.nodeOf[r] >= 0 ? 1 : 0);
  const codes = new Int32Array(ptr[rows]);
  const values = new Float64Array(ptr[rows]);
  for (let r = 0; r < rows; r++) {
    let at = ptr[r];
    if (nodes.nodeOf[r] >= 0) {
      codes[at] = -1 - nodes.nodeOf[r];
      values[at++] = 1;
    }
    for (let k = A.rowPtr[r] + nodes.depthOf[r]; k < A.rowPtr[r + 1]; k++) {
      codes[at] = A.colIdx[k];
      values[at++] = A.values[k];
    }
  }
  return { ptr, codes, values };
}

/** The slots' addresses: x_j at x + 8j, node i's sum at sums + 8i. */
function slotAddresses(codes: Int32Array, x: number, sums: number): Int32Array {
  return codes.map((c) => (c >= 0 ? x + 8 * c : sums + 8 * (-1 - c)));
}

/** Writes the nodes' (parent sum, x_j) address pairs and values for prefixNodeSums; depth-1 nodes start from the +0 at `zero`. */
function layOutNodes(buffer: ArrayBuffer, nodes: PrefixNodes, at: number, valuesAt: number, sums: number, x: number, zero: number, binary: boolean): void {
  const count = nodes.parent.length;
  const pairs = new Int32Array(buffer, at, 2 * count);
  for (let i = 0; i < count; i++) {
    pairs[2 * i] = nodes.parent[i] < 0 ? zero : sums + 8 * nodes.parent[i];
    pairs[2 * i + 1] = nodes.col[i] < 0 ? zero : x + 8 * nodes.col[i];
  }
  if (!binary) new Float64Array(buffer, valuesAt, count).set(nodes.value);
}

/** Rows by their number of slots, ties by index (so that the four of a group have nearly one length). */
function rowsBySlots(ptr: Int32Array): Int32Array {
  const len = (r: number): number => ptr[r + 1] - ptr[r];
  return Int32Array.from({ length: ptr.length - 1 }, (_, r) => r).sort((i, j) => len(i) - len(j) || i - j);
}
/** Members per interleaved group (the kernels' two f64x2 pairs). */
const GROUP = 4;

/** Slots of the interleaved groups of four over `order` (sorted by length) after its order.length mod 4 first: 4 × each group's longest. */
function interleavedSlots(order: Int32Array, ptr: Int32Array): number {
  const size = GROUP;
  let slots = 0;
  for (let g = order.length % size; g < order.length; g += size) {
    let longest = 0;
    for (let m = 0; m < size; m++) longest = Math.max(longest, ptr[order[g + m] + 1] - ptr[order[g + m]]);
    slots += size * longest;
  }
  return slots;
}

/**
 * Writes the interleaved groups of four (./assembly/csr.ts, "Interleaved groups of four") of the lines
 * in `order`: line i's entries are addresses[ptr[i] .. ptr[i + 1]) (with `values`), padded to the
 * group's longest with `pad` (the address of a −0) and value 1. groups[g] = the byte address of group
 * g's first slot in the stream at `streamAt`.
 */
function layOutInterleaved(
  buffer: ArrayBuffer, order: Int32Array, ptr: Int32Array, addresses: Int32Array, values: Float64Array | undefined,
  groupsAt: number, streamAt: number, valuesAt: number, slots: number, pad: number,
): void {
  const size = GROUP;
  // The first order.length mod 4 lines (the shortest) are not grouped (the kernels take them one by one).
  const rest = order.length % size;
  const count = (order.length - rest) / size;
  const groups = new Int32Array(buffer, groupsAt, count + 1);
  const stream = new Int32Array(buffer, streamAt, slots);
  const streamValues = values ? new Float64Array(buffer, valuesAt, slots) : undefined;
  let at = 0;
  for (let g = rest; g < order.length; g += size) {
    groups[(g - rest) / size] = streamAt + 4 * at;
    let longest = 0;
    for (let m = 0; m < size; m++) longest = Math.max(longest, ptr[order[g + m] + 1] - ptr[order[g + m]]);
    for (let m = 0; m < size; m++) {
      const line = order[g + m];
      const from = ptr[line];
      const length = ptr[line + 1] - from;
      for (let t = 0; t < longest; t++) {
        stream[at + size * t + m] = t < length ? addresses[from + t] : pad;
        if (streamValues) streamValues[at + size * t + m] = t < length ? values![from + t] : 1;
      }
    }
    at += size * longest;
  }
  groups[count] = streamAt + 4 * at;
}

/** True when every row of A lists its columns in non-decreasing order. */
export function columnsSortedInRows(A: CsrMatrix): boolean {
  for (let r = 0; r < A.rows; r++) {
    for (let k = A.rowPtr[r] + 1; k < A.rowPtr[r + 1]; k++) if (A.colIdx[k] < A.colIdx[k - 1]) return false;
  }
  return true;
}

/** True when all rows of A have the same number of stored entries. */
export function uniformRowLength(A: CsrMatrix): boolean {
  for (let r = 1; r < A.rows; r++) {
    if (A.rowPtr[r + 1] - A.rowPtr[r] !== A.rowPtr[1] - A.rowPtr[0]) return false;
  }
  return true;
}

/** The share of rows whose length is the most common row length (1 for rows of one length). */
export function modalRowLengthShare(A: CsrMatrix): number {
  if (A.rows === 0) return 1;
  const counts = new Map<number, number>();
  let best = 0;
  for (let r = 0; r < A.rows; r++) {
    const len = A.rowPtr[r + 1] - A.rowPtr[r];
    const c = (counts.get(len) ?? 0) + 1;
    counts.set(len, c);
    if (c > best) best = c;
  }
  return best / A.rows;
}

/**
 * One shard's CSR rows and labels copied into a private wasm instance, with scratch for x, out and a
 * minibatch row list. The JS-side CSR stays the source of truth for everything else (smoothness,
 * accuracy, the CSC copy); this is a read-only mirror made once.
 */
/** How the kernel computes A·x (./assembly/csr.ts allDots): the same bits every way. */
export type DotsMode = 'rows' | 'columns';
const DOTS_CODE: Record<DotsMode, number> = { rows: 0, columns: 1 };
export class WasmCsrKernel {
  readonly rows: number;
  readonly d: number;
  /** All values are 1 (true for mushrooms, a9a, w8a): the specialised loops are used. */
  readonly binary: boolean;
  /** x is copied here before each call. */
  readonly x: Float64Array;
  /** The kernel accumulates the data-term gradient onto what the caller wrote here (the regulariser's). */
  readonly out: Float64Array;
  private readonly exports: KernelExports;
  /** How A·x is computed (the same bits every way; chosen in the constructor, see there). */
  readonly dots: DotsMode;
  private readonly batchRows: Int32Array;
  private readonly ptr: Record<string, number>;
  /** The interleaved groups' descriptor (./assembly/csr.ts IL_*), laid out in the constructor. */
  private readonly interleavedAt: number;
  /** Prefix nodes the row sweep shares among rows (0: none paid off on this shard). */
  readonly prefixNodes: number;

  /** Use `createWasmKernel`, which returns undefined when wasm is unavailable. */
  constructor(compiledModule: CompiledModule, A: CsrMatrix, b: Float64Array, dots?: DotsMode) {
    const rows = A.rows;
    const nnz = A.rowPtr[rows];
    this.rows = rows;
    this.d = A.cols;
    this.binary = allOnes(A.values.subarray(0, nnz));
    const d = this.d;
    // A·x by rows in interleaved groups of four with shared prefixes (csr.ts; the default), or down the
    // CSC columns (needs every row's columns in non-decreasing order to give the row loop's bits; it beat
    // the earlier four-pointer row sweep on rows of scattered lengths, w8a, so it is timed against the
    // rows there). Both give the same bits, so the choice changes only the time.
    const sortedRows = columnsSortedInRows(A);
    const tryColumns = dots === undefined && sortedRows && modalRowLengthShare(A) < 0.5;
    if (dots === 'columns' && !sortedRows) throw new RangeError('wasm kernel: the column sweep needs rows with sorted columns');
    const nodes = prefixNodes(A, this.binary);
    const slots = rowSlots(A, nodes);
    // Position i of z, coef, e and bByPosition is row rowOrder[i] (csr.ts, "Positions").
    const rowOrder = rowsBySlots(slots.ptr);
    const posOf = new Int32Array(rows);
    for (let i = 0; i < rows; i++) posOf[rowOrder[i]] = i;
    const nodeCount = nodes.parent.length;
    const csc = toCsc(A);
    const colPtr = csc.colPtr;
    const colOrder = columnsByLength(colPtr);
    const rowSlotCount = interleavedSlots(rowOrder, slots.ptr);
    const colSlotCount = interleavedSlots(colOrder, colPtr);
    const made = instantiate(compiledModule, {
      ...csrBytes(A, this.binary),
      x: 8 * d,
      out: 8 * d,
      batchRows: 4 * rows,
      rowOrder: 4 * rows,
      // The full-gradient kernels gather the gradient down the columns of this CSC copy.
      colOrder: 4 * d,
      colPtr: 4 * (d + 1),
      rowIdx: 4 * nnz,
      cscValues: this.binary ? 0 : 8 * nnz,
      // Per row: z, then σ or the gradient coefficient, and exp(−|z|) for the loss (one f64 per row
      // plus one for padding an odd count to whole SIMD pairs).
      z: 8 * (rows + 1),
      coef: 8 * (rows + 1),
      e: 8 * (rows + 1),
      bByPosition: 8 * (rows + 1),
      posOf: 4 * (rows + 1),
      interleaved: 4 * IL_ENTRIES,
      negativeZero: 16,
      positiveZero: 16,
      ilRowGroups: 4 * (Math.floor(rows / GROUP) + 1),
      ilRowStream: 4 * rowSlotCount,
      ilRowValues: this.binary ? 0 : 8 * rowSlotCount,
      ilColGroups: 4 * (Math.floor(d / GROUP) + 1),
      ilColStream: 4 * colSlotCount,
      ilColValues: this.binary ? 0 : 8 * colSlotCount,
      ilNodes: 8 * nodeCount,
      ilNodeValues: this.binary ? 0 : 8 * nodeCount,
      ilNodeSums: 8 * nodeCount,
    });
    this.exports = made.exports;
    this.ptr = made.ptr;
    const buffer = this.exports.memory.buffer;
    copyCsr(buffer, made.ptr, A, b, this.binary);
    copyCsc(buffer, made.ptr, A, this.binary, csc, colOrder);
    const p = made.ptr;
    // The CSC row indices become the addresses of the rows' coefficients, at their positions (see csr.ts).
    const rowIdx = new Int32Array(buffer, p.rowIdx, nnz);
    for (let k = 0; k < nnz; k++) rowIdx[k] = p.coef + 8 * posOf[rowIdx[k]];
    new Int32Array(buffer, p.rowOrder, rows).set(rowOrder);
    new Int32Array(buffer, p.posOf, rows).set(posOf);
    const bByPosition = new Float64Array(buffer, p.bByPosition, rows);
    for (let i = 0; i < rows; i++) bByPosition[i] = b[rowOrder[i]];
    new Float64Array(buffer, p.negativeZero, 2).fill(-0);
    new Float64Array(buffer, p.positiveZero, 2).fill(0);
    layOutNodes(buffer, nodes, p.ilNodes, p.ilNodeValues, p.ilNodeSums, p.x, p.positiveZero, this.binary);
    layOutInterleaved(
      buffer, rowOrder, slots.ptr, slotAddresses(slots.codes, p.x, p.ilNodeSums), this.binary ? undefined : slots.values,
      p.ilRowGroups, p.ilRowStream, p.ilRowValues, rowSlotCount, p.negativeZero,
    );
    layOutInterleaved(
      buffer, colOrder, colPtr, new Int32Array(buffer, p.rowIdx, nnz), this.binary ? undefined : new Float64Array(buffer, p.cscValues, nnz),
      p.ilColGroups, p.ilColStream, p.ilColValues, colSlotCount, p.negativeZero,
    );
    new Int32Array(buffer, p.interleaved, IL_ENTRIES).set([
      p.ilRowGroups, p.ilRowStream, p.ilRowValues, p.ilColGroups, p.ilColStream, p.ilColValues, nodeCount, p.ilNodes, p.ilNodeValues, p.ilNodeSums,
      p.posOf,
    ]);
    this.prefixNodes = nodeCount;
    this.interleavedAt = p.interleaved;
    this.x = new Float64Array(buffer, made.ptr.x, d);
    this.out = new Float64Array(buffer, made.ptr.out, d);
    this.batchRows = new Int32Array(buffer, made.ptr.batchRows, rows);
    this.dots = dots ?? (tryColumns ? this.fastest(['rows', 'columns']) : 'rows');
  }

  /** The kernels' exp(y) for y ≤ 0 (the SIMD exp behind every σ and softplus here), for tests. */
  expNonPositive(y: number): number {
    return this.exports.expNonPositive(y);
  }

  /** One lane of the kernels' two-lane log1p, and the scalar log1p it reproduces, for tests. */
  log1pLane(x: number): number {
    return this.exports.log1pLane(x);
  }

  log1pScalar(x: number): number {
    return this.exports.log1pScalar(x);
  }

  /** The scalar exp and expm1 of the kernels (AssemblyScript's, musl-derived), for tests. */
  expScalar(x: number): number {
    return this.exports.expScalar(x);
  }

  expm1Scalar(x: number): number {
    return this.exports.expm1Scalar(x);
  }

  /** The memory's buffer, for tests: it must stay the same object for the kernel's lifetime. */
  get memoryBuffer(): ArrayBuffer {
    return this.exports.memory.buffer;
  }

  /** The fastest A·x mode on this shard among `modes` (the first one if alone): the loss pass, alternated, best of three each (x = 0). */
  private fastest(modes: readonly DotsMode[]): DotsMode {
    if (modes.length === 1) return modes[0];
    const time = (mode: DotsMode): number => {
      const p = this.ptr;
      const t0 = performance.now();
      this.exports.loss(this.rows, p.rowOrder, p.rowPtr, p.colAddr, p.values, p.bByPosition, p.x, p.z, p.coef, p.e, this.binary ? 1 : 0, DOTS_CODE[mode], this.d, p.colPtr, p.rowIdx, p.cscValues, this.interleavedAt);
      return performance.now() - t0;
    };
    for (const mode of modes) time(mode);
    const best = modes.map(() => Infinity);
    for (let round = 0; round < 3; round++) modes.forEach((mode, i) => (best[i] = Math.min(best[i], time(mode))));
    // Another mode replaces the first only when clearly faster (timing noise should not flip it).
    let pick = 0;
    for (let i = 1; i < modes.length; i++) if (best[i] < 0.97 * best[pick]) pick = i;
    return modes[pick];
  }


  private loadX(x: Float64Array): void {
    if (x.length === this.d) this.x.set(x);
    else if (x.length > this.d) this.x.set(x.subarray(0, this.d));
    else throw new RangeError(`x has length ${x.length}, the shard has ${this.d} columns`);
  }

  /** Σ_r softplus(−b_r a_rᵀx). */
  lossSum(x: Float64Array): number {
    this.loadX(x);
    const p = this.ptr;
    return this.exports.loss(
      this.rows, p.rowOrder, p.rowPtr, p.colAddr, p.values, p.bByPosition, p.x, p.z, p.coef, p.e, this.binary ? 1 : 0, DOTS_CODE[this.dots],
      this.d, p.colPtr, p.rowIdx, p.cscValues, this.interleavedAt,
    );
  }

  /**
   * this.out += Σ_r (−b_r σ(−m_r) · scale) a_r; returns Σ_r softplus(−m_r) when `withLoss`, else 0.
   * The caller fills `this.out` first (with the regulariser gradient) and copies it out afterwards.
   */
  accumulateGradient(x: Float64Array, scale: number, withLoss: boolean): number {
    return this.fullGradient(x, scale, withLoss, 0, 0);
  }

  /**
   * this.out = ∇r(x) + Σ_r (−b_r σ(−m_r) · scale) a_r, the regulariser gradient written in wasm (the same
   * operations as LogregShard's JS loop: a JS loop over d per shard and call was ~3.5% of a gd step).
   */
  regularisedGradient(x: Float64Array, scale: number, withLoss: boolean, lambda: number, regulariser: 'l2' | 'nonconvex'): number {
    return this.fullGradient(x, scale, withLoss, lambda, regulariser === 'l2' ? 1 : 2);
  }

  private fullGradient(x: Float64Array, scale: number, withLoss: boolean, lambda: number, regulariser: number): number {
    this.loadX(x);
    const p = this.ptr;
    return this.exports.gradient(
      this.rows, p.rowOrder, p.rowPtr, p.colAddr, p.values, p.bByPosition, p.x, p.out, p.z, p.coef, p.e, scale, this.binary ? 1 : 0,
      DOTS_CODE[this.dots], this.d, p.colOrder, p.colPtr, p.rowIdx, p.cscValues, withLoss ? 1 : 0, lambda, regulariser, this.interleavedAt,
    );
  }

  /** As accumulateGradient (with the loss) over the local rows rows[0..count). */
  accumulateBatchGradient(x: Float64Array, rows: Int32Array, count: number, scale: number): number {
    this.loadX(x);
    const list = this.batchRows;
    const n = this.rows;
    // The kernel does no bounds checks, so a row index is validated while it is copied in.
    for (let i = 0; i < count; i++) {
      const r = rows[i];
      if (!(r >= 0 && r < n)) throw new RangeError(`minibatch row ${r} is outside the shard's ${n} rows`);
      list[i] = r;
    }
    const p = this.ptr;
    return this.exports.batchGradient(
      count, p.batchRows, p.rowPtr, p.colAddr, p.values, p.b, p.x, p.out, p.z, p.coef, p.e, scale, this.binary ? 1 : 0,
    );
  }
}

/** Column-major copy of a shard with b_r·a_rj stored (see LogregShard.coordinateDecrease). */
export interface SignedCscArrays {
  readonly colPtr: Int32Array;
  readonly rowIdx: Int32Array;
  readonly signedValues: Float64Array;
}

/**
 * The importance-(a) pass (LogregShard.coordinateDecrease) in wasm: its own instance holding the
 * shard's CSR, the signed CSC and the per-row scratch, made on the first call of that method only.
 */
export class WasmCoordinateKernel {
  readonly rows: number;
  readonly d: number;
  readonly binary: boolean;
  /** Every signed value b_r·a_rj is ±1 (binary features, labels ±1): the two-lane column loop is used. */
  readonly signs: boolean;
  private readonly exports: KernelExports;
  private readonly ptr: Record<string, number>;
  private readonly x: Float64Array;
  private readonly v: Float64Array;
  /** Per column: Σ_r softplus(p_r) − softplus(p_r + u) (0 where eta·v_j = 0), after `columnSums`. */
  readonly colSum: Float64Array;

  constructor(compiledModule: CompiledModule, A: CsrMatrix, b: Float64Array, csc: SignedCscArrays) {
    const rows = A.rows;
    const nnz = A.rowPtr[rows];
    const d = A.cols;
    this.rows = rows;
    this.d = d;
    this.binary = allOnes(A.values.subarray(0, nnz));
    this.signs = this.binary && csc.signedValues.subarray(0, nnz).every((s) => s === 1 || s === -1);
    const made = instantiate(compiledModule, {
      ...csrBytes(A, this.binary),
      x: 8 * d,
      p: 8 * rows,
      rowSigma: 8 * rows,
      rowSoftplus: 8 * rows,
      colPtr: 4 * (d + 1),
      rowIdx: 4 * nnz,
      signedValues: 8 * nnz,
      v: 8 * d,
      colSum: 8 * d,
    });
    this.exports = made.exports;
    const ptr = (this.ptr = made.ptr);
    const buffer = this.exports.memory.buffer;
    copyCsr(buffer, ptr, A, b, this.binary);
    new Int32Array(buffer, ptr.colPtr, d + 1).set(csc.colPtr.subarray(0, d + 1));
    new Int32Array(buffer, ptr.rowIdx, nnz).set(csc.rowIdx.subarray(0, nnz));
    new Float64Array(buffer, ptr.signedValues, nnz).set(csc.signedValues.subarray(0, nnz));
    this.x = new Float64Array(buffer, ptr.x, d);
    this.v = new Float64Array(buffer, ptr.v, d);
    this.colSum = new Float64Array(buffer, ptr.colSum, d);
  }

  /** Fills `colSum` for the point x, direction v and step eta. */
  columnSums(x: Float64Array, v: Float64Array, eta: number): Float64Array {
    const d = this.d;
    if (x.length < d || v.length < d) throw new RangeError(`x and v need ${d} entries`);
    this.x.set(x.length === d ? x : x.subarray(0, d));
    this.v.set(v.length === d ? v : v.subarray(0, d));
    const p = this.ptr;
    const e = this.exports;
    const pass = this.signs ? e.coordinateDecreaseSigns : this.binary ? e.coordinateDecreaseBinary : e.coordinateDecreaseValued;
    pass(this.rows, p.rowPtr, p.colAddr, p.values, p.b, p.p, p.rowSigma, p.rowSoftplus, d, p.colPtr, p.rowIdx, p.signedValues, p.v, eta, p.colSum);
    return this.colSum;
  }
}

/**
 * `make()`, or undefined when the shard does not fit a wasm32 memory (4 GiB: memory.grow throws a
 * RangeError); the shard then runs the JS loops, which have no such limit.
 */
function unlessTooLarge<T>(make: () => T): T | undefined {
  try {
    return make();
  } catch (err) {
    if (err instanceof RangeError) return undefined;
    throw err;
  }
}

/** The importance-(a) kernel for this shard, or undefined when wasm is unavailable (or the shard too large). */
export function createWasmCoordinateKernel(A: CsrMatrix, b: Float64Array, csc: SignedCscArrays): WasmCoordinateKernel | undefined {
  const m = loadModule();
  return m ? unlessTooLarge(() => new WasmCoordinateKernel(m, A, b, csc)) : undefined;
}

/** A kernel for this shard, or undefined when WebAssembly or the compiled module is unavailable (or the shard too large). */
/** `dots` forces how A·x is computed (for the tests; by default the constructor's measured choice). */
export function createWasmKernel(A: CsrMatrix, b: Float64Array, dots?: DotsMode): WasmCsrKernel | undefined {
  const m = loadModule();
  return m ? unlessTooLarge(() => new WasmCsrKernel(m, A, b, dots)) : undefined;
}
