/** Compressed sparse row matrix: row r's entries are colIdx/values[rowPtr[r] .. rowPtr[r+1]), 0-based columns. */
export interface CsrMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly rowPtr: Int32Array; // length rows + 1
  readonly colIdx: Int32Array; // length nnz, ascending within a row
  readonly values: Float64Array; // length nnz
}

/** A binary classification dataset: features and labels b ∈ {-1, +1} (spec §1). */
export interface LabeledData {
  readonly X: CsrMatrix;
  readonly b: Float64Array;
  /** The distinct raw labels in the file, ascending; [0] maps to -1 and [1] to +1. */
  readonly labelValues: readonly number[];
  /** Where it came from, for messages. */
  readonly source: string;
}

export type SplitMode = 'iid' | 'contiguous' | 'label';
export const SPLIT_MODES: readonly SplitMode[] = ['iid', 'contiguous', 'label'];
