/**
 * A seeded synthetic sparse classification problem (for `dcomp perf`'s scale cases; no download):
 * N rows over d columns, each row a uniform number of non-zeros in [minNnz, maxNnz] at distinct
 * uniformly drawn columns (ascending), every value 1 (binary features, like mushrooms, a9a, w8a);
 * labels b_r = sign(a_rᵀw* + ε) for a hidden w* ~ N(0, 1) and ε ~ N(0, 1). The same seed gives the
 * same problem. O(nnz) time (plus an insertion sort of each row's ≤ maxNnz columns) and memory.
 */
import { createRng } from '../core/rng.js';
import type { LabeledData } from './types.js';

export interface SyntheticSparseOptions {
  readonly rows: number;
  readonly cols: number;
  readonly minNnz: number;
  readonly maxNnz: number;
  readonly seed: number;
}

export function syntheticSparse({ rows, cols, minNnz, maxNnz, seed }: SyntheticSparseOptions): LabeledData {
  if (!(Number.isInteger(rows) && rows >= 2 && Number.isInteger(cols) && cols >= 1)) {
    throw new RangeError(`syntheticSparse: rows must be an integer ≥ 2 and cols ≥ 1, got ${rows} × ${cols}`);
  }
  if (!(Number.isInteger(minNnz) && Number.isInteger(maxNnz) && minNnz >= 1 && minNnz <= maxNnz && maxNnz <= cols)) {
    throw new RangeError(`syntheticSparse: need 1 ≤ minNnz ≤ maxNnz ≤ cols, got ${minNnz}, ${maxNnz}, ${cols}`);
  }
  const rng = createRng(seed, 'synthetic-sparse', rows, cols, minNnz, maxNnz);
  const hidden = new Float64Array(cols);
  for (let j = 0; j < cols; j++) hidden[j] = rng.normal();
  const lengths = new Int32Array(rows);
  let nnz = 0;
  for (let r = 0; r < rows; r++) {
    lengths[r] = minNnz + rng.int(maxNnz - minNnz + 1);
    nnz += lengths[r];
  }
  const rowPtr = new Int32Array(rows + 1);
  const colIdx = new Int32Array(nnz);
  const b = new Float64Array(rows);
  let at = 0;
  for (let r = 0; r < rows; r++) {
    const start = at;
    const len = lengths[r];
    // Distinct columns: draw, insert in order, and draw again on a repeat (rare when len ≪ cols).
    while (at - start < len) {
      const j = rng.int(cols);
      let p = at;
      while (p > start && colIdx[p - 1] > j) p--;
      if (p > start && colIdx[p - 1] === j) continue;
      colIdx.copyWithin(p + 1, p, at);
      colIdx[p] = j;
      at++;
    }
    rowPtr[r + 1] = at;
    let margin = rng.normal();
    for (let k = start; k < at; k++) margin += hidden[colIdx[k]];
    b[r] = margin >= 0 ? 1 : -1;
  }
  // Both classes must occur (a logistic problem needs two labels); flip one row if not.
  if (b.every((v) => v === b[0])) b[0] = -b[0];
  const values = new Float64Array(nnz).fill(1);
  return { X: { rows, cols, rowPtr, colIdx, values }, b, labelValues: [-1, 1], source: `synthetic ${rows}×${cols} (seed ${seed})` };
}
