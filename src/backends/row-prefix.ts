/**
 * Rows in lexicographic order of their entries, with the length of the prefix each row shares with
 * the one before: the plan of the mlp kernel's first-layer sweep on full passes (./assembly/mlp.ts; the
 * logistic-regression kernel shares only a trie's top levels, see ../wasm.ts prefixNodes). A row's
 * first-layer pre-activation (or dot product) is summed over its entries
 * in CSR order starting from 0, so two rows whose first m entries are equal (same column, same value
 * bits) have bitwise the same partial sum after m terms: a sweep in this order keeps the partial sums
 * of the previous row and adds only each row's new suffix. The rows' results are those of the plain
 * row loop, bit for bit; the work is the number of nodes of the rows' prefix trie instead of nnz —
 * on categorical one-hot data most rows share long prefixes (mushrooms: 20% of nnz for one shard,
 * 41% for 20 contiguous shards; a9a 34% and 62%; w8a 67% and 77%). In chunks of rows the trie is per
 * chunk (a9a, one shard: 41% of nnz in chunks of 16384 rows, 47% in 8192, 54% in 4096).
 */
import type { CsrMatrix } from '../data/types.js';

export interface RowPrefixPlan {
  /** The rows, chunk by chunk, each chunk's in lexicographic order of their (column, value) sequences (ties: by row index). */
  readonly order: Int32Array;
  /** lcp[i]: number of leading entries row order[i] shares with row order[i − 1] (0 at each chunk's first position). */
  readonly lcp: Int32Array;
  /** Entries the prefix sweep adds: Σ (row length − lcp), the trie's node count. */
  readonly computed: number;
  readonly nnz: number;
  /** Longest row (the partial-sum buffer holds maxLength + 1 values). */
  readonly maxLength: number;
  /**
   * Rows per chunk: the rows of each chunk [c·chunkRows, (c + 1)·chunkRows) are ordered among
   * themselves and occupy the same plan positions, lcp 0 at each chunk's first position — so a
   * sweep can take the plan one chunk at a time, keeping only that chunk's results (chunkRows ≥ rows: one chunk).
   */
  readonly chunkRows: number;
}

/**
 * The plan, or undefined when it cannot pay off: a cheap look first — the first two entries of up to
 * 4096 evenly spaced rows (of at least 64); more distinct two-entry prefixes than half of them says the rows share
 * little, and the O(N log N · length) sort is skipped (a random sparse matrix costs O(4096)).
 */
export function rowPrefixPlan(A: CsrMatrix, binary: boolean, chunkRows: number = A.rows): RowPrefixPlan | undefined {
  const { rows, rowPtr, colIdx, values } = A;
  if (!(Number.isInteger(chunkRows) && chunkRows >= 1)) throw new RangeError(`chunkRows must be a positive integer, got ${chunkRows}`);
  const nnz = rowPtr[rows];
  if (rows < 2 || nnz === 0) return undefined;
  const valueWords = new Uint32Array(values.buffer, values.byteOffset, 2 * values.length);
  const sameEntry = (p: number, q: number): boolean =>
    colIdx[p] === colIdx[q] && (binary || (valueWords[2 * p] === valueWords[2 * q] && valueWords[2 * p + 1] === valueWords[2 * q + 1]));
  // Cheap look: distinct (first, second) entries of a strided sample of rows.
  const heads = new Set<string>();
  const looked = Math.min(rows, 4096);
  for (let i = 0; i < looked; i++) {
    const r = Math.floor((i * rows) / looked);
    const s = rowPtr[r];
    const len = rowPtr[r + 1] - s;
    const key = len === 0 ? '' : len === 1 ? entryKey(colIdx, valueWords, s, binary) : `${entryKey(colIdx, valueWords, s, binary)}|${entryKey(colIdx, valueWords, s + 1, binary)}`;
    heads.add(key);
    if (looked >= 64 && heads.size > looked / 2) return undefined;
  }
  const compareEntries = (p: number, q: number): number => {
    const dc = colIdx[p] - colIdx[q];
    if (dc !== 0 || binary) return dc;
    // values by their bits: a total order that puts bitwise-equal values (and only those) together
    const dh = valueWords[2 * p + 1] - valueWords[2 * q + 1];
    return dh !== 0 ? dh : valueWords[2 * p] - valueWords[2 * q];
  };
  const rowIds = Array.from({ length: rows }, (_, r) => r);
  rowIds.sort((a, b) => {
    const dChunk = Math.floor(a / chunkRows) - Math.floor(b / chunkRows);
    if (dChunk !== 0) return dChunk;
    const sa = rowPtr[a], la = rowPtr[a + 1] - sa;
    const sb = rowPtr[b], lb = rowPtr[b + 1] - sb;
    const m = Math.min(la, lb);
    for (let t = 0; t < m; t++) {
      const c = compareEntries(sa + t, sb + t);
      if (c !== 0) return c;
    }
    return la !== lb ? la - lb : a - b;
  });
  const order = Int32Array.from(rowIds);
  const lcp = new Int32Array(rows);
  let computed = 0;
  let maxLength = 0;
  for (let i = 0; i < rows; i++) {
    const r = order[i];
    const s = rowPtr[r];
    const len = rowPtr[r + 1] - s;
    if (len > maxLength) maxLength = len;
    let l = 0;
    if (i % chunkRows !== 0) {
      const q = order[i - 1];
      const sq = rowPtr[q];
      const m = Math.min(len, rowPtr[q + 1] - sq);
      while (l < m && sameEntry(s + l, sq + l)) l++;
    }
    lcp[i] = l;
    computed += len - l;
  }
  return { order, lcp, computed, nnz, maxLength, chunkRows: Math.min(chunkRows, rows) };
}

function entryKey(colIdx: Int32Array, valueWords: Uint32Array, p: number, binary: boolean): string {
  return binary ? String(colIdx[p]) : `${colIdx[p]}:${valueWords[2 * p + 1]}:${valueWords[2 * p]}`;
}

/**
 * Each plan position's entries beyond the prefix it shares (lcp[i]), as CSR
 * entry indices in plan order: position i's are entries[start[i] .. start[i + 1]). Sweeps copy them
 * out as one stream, so that they read sequentially instead of jumping between rows (measured: reading
 * the rows' own entries in plan order cost more than the whole row loop on a9a and w8a).
 */
export function suffixEntries(plan: RowPrefixPlan, A: CsrMatrix): { start: Int32Array; entries: Int32Array } {
  const lcp = plan.lcp;
  const rows = plan.order.length;
  const start = new Int32Array(rows + 1);
  for (let i = 0; i < rows; i++) {
    const r = plan.order[i];
    start[i + 1] = start[i] + (A.rowPtr[r + 1] - A.rowPtr[r] - lcp[i]);
  }
  const entries = new Int32Array(start[rows]);
  for (let i = 0; i < rows; i++) {
    const from = A.rowPtr[plan.order[i]] + lcp[i];
    for (let t = start[i]; t < start[i + 1]; t++) entries[t] = from + t - start[i];
  }
  return { start, entries };
}
