/**
 * Packs the n workers' shards into the flat float32 arrays the kernels read (kernels.ts): one CSR
 * over the concatenated rows (shard i's rows are rowOffset[i] … rowOffset[i+1] − 1), optionally its
 * ELL copy, and one CSC whose cell i·d + j is column j of shard i, rows ascending, row indices global.
 * Built once per run on the host; pure (no gpu.js here), so it is tested directly.
 */
import type { LogregShardData } from '../types.js';

/** gpu.js keeps every array in float32: integers (indices, offsets) are exact below 2^24. */
export const FLOAT32_EXACT_INTEGERS = 2 ** 24;

export interface PackedShards {
  readonly workers: number;
  readonly d: number;
  readonly totalRows: number;
  readonly nnz: number;
  /** First concatenated row of each shard; length workers + 1. */
  readonly rowOffset: Int32Array;
  /** N_i per shard. */
  readonly shardRows: Int32Array;
  readonly maxShardRows: number;
  readonly rowPtr: Float32Array;
  readonly colIdx: Float32Array;
  readonly values: Float32Array;
  /** b_r ∈ {−1, +1} */
  readonly labels: Float32Array;
  /** 1/N_i for each row of shard i (rounded to float32 once, as the kernels would). */
  readonly rowScale: Float32Array;
  /** Longest row (the row loops' trip count). */
  readonly maxRowLength: number;
  readonly colPtr: Float32Array;
  readonly rowIdx: Float32Array;
  readonly cscValues: Float32Array;
  /** Longest column of any shard (the column loops' trip count). */
  readonly maxColumnLength: number;
  /** True when every stored value is exactly representable in float32 (binary data always is). */
  readonly valuesExactInFloat32: boolean;
}

export interface EllLayout {
  readonly width: number;
  /** Entry s of row r at s·totalRows + r; padding has column d and value 0. */
  readonly ellCols: Float32Array;
  readonly ellValues: Float32Array;
  /** Stored cells / non-zeros (1 = no padding). */
  readonly paddingRatio: number;
}

function checkExact(what: string, value: number): void {
  if (value >= FLOAT32_EXACT_INTEGERS) {
    throw new RangeError(`gpu backend: ${what} is ${value}, but float32 indices are exact only below 2^24 = ${FLOAT32_EXACT_INTEGERS}`);
  }
}

export function packShards(shards: readonly LogregShardData[]): PackedShards {
  if (shards.length === 0) throw new RangeError('gpu backend: at least one shard is required');
  const d = shards[0].A.cols;
  const workers = shards.length;
  const rowOffset = new Int32Array(workers + 1);
  const shardRows = new Int32Array(workers);
  let nnz = 0;
  for (let i = 0; i < workers; i++) {
    const { A, b } = shards[i];
    if (A.cols !== d) throw new RangeError(`gpu backend: shard ${i} has ${A.cols} columns, shard 0 has ${d}`);
    if (b.length < A.rows) throw new RangeError(`gpu backend: shard ${i} has ${A.rows} rows but ${b.length} labels`);
    if (A.rows === 0) throw new RangeError(`gpu backend: shard ${i} has no rows`);
    shardRows[i] = A.rows;
    rowOffset[i + 1] = rowOffset[i] + A.rows;
    nnz += A.rowPtr[A.rows];
  }
  const totalRows = rowOffset[workers];
  checkExact('the number of stored entries', nnz);
  checkExact('the number of rows', totalRows);
  checkExact('workers × features', workers * d);

  const rowPtr = new Float32Array(totalRows + 1);
  const colIdx = new Float32Array(nnz);
  const values = new Float32Array(nnz);
  const labels = new Float32Array(totalRows);
  const rowScale = new Float32Array(totalRows);
  let maxRowLength = 0;
  let exact = true;
  let at = 0;
  for (let i = 0; i < workers; i++) {
    const { A, b } = shards[i];
    const scale = 1 / A.rows;
    const base = rowOffset[i];
    for (let r = 0; r < A.rows; r++) {
      const start = A.rowPtr[r];
      const end = A.rowPtr[r + 1];
      maxRowLength = Math.max(maxRowLength, end - start);
      for (let k = start; k < end; k++) {
        colIdx[at] = A.colIdx[k];
        values[at] = A.values[k];
        if (values[at] !== A.values[k]) exact = false;
        at++;
      }
      rowPtr[base + r + 1] = at;
      labels[base + r] = b[r];
      rowScale[base + r] = scale;
    }
  }

  // CSC per shard, cell i·d + j, by a stable counting sort (rows ascending within a column).
  const colPtr = new Float32Array(workers * d + 1);
  const rowIdx = new Float32Array(nnz);
  const cscValues = new Float32Array(nnz);
  const counts = new Int32Array(workers * d + 1);
  for (let i = 0; i < workers; i++) {
    const A = shards[i].A;
    for (let k = 0; k < A.rowPtr[A.rows]; k++) counts[i * d + A.colIdx[k] + 1]++;
  }
  let maxColumnLength = 0;
  for (let t = 0; t < workers * d; t++) {
    maxColumnLength = Math.max(maxColumnLength, counts[t + 1]);
    counts[t + 1] += counts[t];
  }
  colPtr.set(counts);
  const next = counts.slice(0, workers * d);
  for (let i = 0; i < workers; i++) {
    const A = shards[i].A;
    for (let r = 0; r < A.rows; r++) {
      for (let k = A.rowPtr[r]; k < A.rowPtr[r + 1]; k++) {
        const slot = next[i * d + A.colIdx[k]]++;
        rowIdx[slot] = rowOffset[i] + r;
        cscValues[slot] = A.values[k];
      }
    }
  }
  let maxShardRows = 0;
  for (let i = 0; i < workers; i++) maxShardRows = Math.max(maxShardRows, shardRows[i]);
  return {
    workers, d, totalRows, nnz, rowOffset, shardRows, maxShardRows, rowPtr, colIdx, values, labels, rowScale, maxRowLength,
    colPtr, rowIdx, cscValues, maxColumnLength, valuesExactInFloat32: exact,
  };
}

/** The ELL copy of the packed CSR (column-major, padded to the longest row). */
export function ellLayout(packed: PackedShards): EllLayout {
  const width = Math.max(1, packed.maxRowLength);
  const R = packed.totalRows;
  checkExact('ELL cells (rows × longest row)', width * R);
  const ellCols = new Float32Array(width * R).fill(packed.d);
  const ellValues = new Float32Array(width * R);
  for (let r = 0; r < R; r++) {
    const start = packed.rowPtr[r];
    const end = packed.rowPtr[r + 1];
    for (let k = start; k < end; k++) {
      const s = k - start;
      ellCols[s * R + r] = packed.colIdx[k];
      ellValues[s * R + r] = packed.values[k];
    }
  }
  return { width, ellCols, ellValues, paddingRatio: packed.nnz === 0 ? 1 : (width * R) / packed.nnz };
}
