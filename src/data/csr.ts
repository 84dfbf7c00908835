/** CSR helpers: row selection (a worker's shard), column-major copy, sizes. */
import type { CsrMatrix, LabeledData } from './types.js';

/** Compressed sparse column matrix: column c's entries are rowIdx/values[colPtr[c] .. colPtr[c+1]), rows ascending. */
export interface CscMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly colPtr: Int32Array; // length cols + 1
  readonly rowIdx: Int32Array; // length nnz, ascending within a column
  readonly values: Float64Array; // length nnz
}

export function nnzOf(X: CsrMatrix): number {
  return X.rowPtr[X.rows];
}

/** A new CSR matrix made of `rows` of X in the given order (same columns). O(rows + nnz of the selection). */
export function selectRows(X: CsrMatrix, rows: Int32Array): CsrMatrix {
  const rowPtr = new Int32Array(rows.length + 1);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!(r >= 0 && r < X.rows)) throw new RangeError(`selectRows: row ${r} is outside [0, ${X.rows})`);
    rowPtr[i + 1] = rowPtr[i] + (X.rowPtr[r + 1] - X.rowPtr[r]);
  }
  const nnz = rowPtr[rows.length];
  const colIdx = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const from = X.rowPtr[r];
    const to = X.rowPtr[r + 1];
    colIdx.set(X.colIdx.subarray(from, to), rowPtr[i]);
    values.set(X.values.subarray(from, to), rowPtr[i]);
  }
  return { rows: rows.length, cols: X.cols, rowPtr, colIdx, values };
}

/** The rows `rows` of a dataset (features and labels) as a dataset of its own, e.g. one worker's shard. */
export function selectLabeledRows(data: LabeledData, rows: Int32Array): LabeledData {
  const b = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) b[i] = data.b[rows[i]];
  return { X: selectRows(data.X, rows), b, labelValues: data.labelValues, source: data.source };
}

/** Column-major copy of X (the transpose's CSR), for O(nnz) column access. O(nnz + cols). */
export function toCsc(X: CsrMatrix): CscMatrix {
  const nnz = nnzOf(X);
  const colPtr = new Int32Array(X.cols + 1);
  for (let k = 0; k < nnz; k++) colPtr[X.colIdx[k] + 1]++;
  for (let c = 0; c < X.cols; c++) colPtr[c + 1] += colPtr[c];
  const next = colPtr.slice(0, X.cols);
  const rowIdx = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  // rows in ascending order, so each column's row indices come out ascending
  for (let r = 0; r < X.rows; r++) {
    for (let k = X.rowPtr[r]; k < X.rowPtr[r + 1]; k++) {
      const slot = next[X.colIdx[k]]++;
      rowIdx[slot] = r;
      values[slot] = X.values[k];
    }
  }
  return { rows: X.rows, cols: X.cols, colPtr, rowIdx, values };
}

/** Dense row-major copy (tests and tiny problems only: O(rows·cols) memory). */
export function toDense(X: CsrMatrix): Float64Array[] {
  const out: Float64Array[] = [];
  for (let r = 0; r < X.rows; r++) {
    const row = new Float64Array(X.cols);
    for (let k = X.rowPtr[r]; k < X.rowPtr[r + 1]; k++) row[X.colIdx[k]] = X.values[k];
    out.push(row);
  }
  return out;
}
