/**
 * Shared fixtures for the problems tests: a minimal LIBSVM reader (the well-formed files in the
 * shared dataset directory only; the real parser and its error handling live in src/data) and
 * helpers to build LabeledData and shards.
 */
import { readFileSync } from 'node:fs';
import type { CsrMatrix, LabeledData } from '../src/data/types.js';
import { datasetPath } from './data-dir.js';

/** Reads a LIBSVM file; keeps only the first `maxRows` rows when given. */
export function readDataset(name: string, maxRows = Infinity): LabeledData {
  const text = readFileSync(datasetPath(name), 'utf8');
  const rowPtr: number[] = [0];
  const colIdx: number[] = [];
  const values: number[] = [];
  const raw: number[] = [];
  let cols = 0;
  for (const line of text.split('\n')) {
    if (raw.length >= maxRows) break;
    const tokens = line.trim().split(/\s+/).filter((t) => t.length > 0);
    if (tokens.length === 0) continue;
    raw.push(Number(tokens[0]));
    for (let i = 1; i < tokens.length; i++) {
      const [idx, val] = tokens[i].split(':');
      const j = Number(idx) - 1;
      colIdx.push(j);
      values.push(Number(val));
      cols = Math.max(cols, j + 1);
    }
    rowPtr.push(colIdx.length);
  }
  const labelValues = [...new Set(raw)].sort((a, b) => a - b);
  const b = Float64Array.from(raw, (v) => (v === labelValues[0] ? -1 : 1));
  return {
    X: { rows: raw.length, cols, rowPtr: Int32Array.from(rowPtr), colIdx: Int32Array.from(colIdx), values: Float64Array.from(values) },
    b,
    labelValues,
    source: name,
  };
}

/** LabeledData from dense rows (for hand-made cases). */
export function denseData(rows: number[][], labels: number[], cols = rows[0]?.length ?? 0): LabeledData {
  const rowPtr = [0];
  const colIdx: number[] = [];
  const values: number[] = [];
  for (const row of rows) {
    row.forEach((v, j) => {
      if (v !== 0) {
        colIdx.push(j);
        values.push(v);
      }
    });
    rowPtr.push(colIdx.length);
  }
  const X: CsrMatrix = { rows: rows.length, cols, rowPtr: Int32Array.from(rowPtr), colIdx: Int32Array.from(colIdx), values: Float64Array.from(values) };
  return { X, b: Float64Array.from(labels), labelValues: [-1, 1], source: 'inline' };
}

/** n contiguous shards whose sizes differ by at most one (spec §1), over rows 0..N−1. */
export function contiguousShards(N: number, n: number): Int32Array[] {
  const shards: Int32Array[] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const size = Math.floor(N / n) + (i < N % n ? 1 : 0);
    shards.push(Int32Array.from({ length: size }, (_, k) => start + k));
    start += size;
  }
  return shards;
}

export function allRows(N: number): Int32Array[] {
  return [Int32Array.from({ length: N }, (_, k) => k)];
}

/** The shapes of `prefixSharingMatrix`. */
export const PREFIX_SHAPES = ['one-hot', 'one-hot-valued', 'repeats', 'unsorted'] as const;

/**
 * A matrix whose rows share prefixes: six one-hot attributes of three levels (the first ones with fewer
 * levels in use, so leading entries repeat), binary or with values that differ where the columns agree
 * (`one-hot-valued`), with repeated and empty rows (`repeats`), or each row's entries reversed (`unsorted`).
 */
export function prefixSharingMatrix(shape: (typeof PREFIX_SHAPES)[number], rows: number, rng: { int(n: number): number }): CsrMatrix {
  const attributes = 6;
  const levels = 3;
  const cols = attributes * levels + 2;
  const rowPtr = [0];
  const colIdx: number[] = [];
  const values: number[] = [];
  let previous: [number, number][] = [];
  for (let r = 0; r < rows; r++) {
    let row: [number, number][];
    if (shape === 'repeats' && r > 0 && rng.int(3) === 0) row = previous.slice(); // a repeated row
    else if (shape === 'repeats' && rng.int(10) === 0) row = []; // an empty row
    else {
      row = [];
      for (let a = 0; a < attributes; a++) row.push([a * levels + rng.int(a < 2 ? 2 : levels), shape === 'one-hot-valued' ? [0.5, 1, -2][rng.int(a < 3 ? 1 : 3)] : 1]);
      if (shape === 'unsorted') row.reverse();
    }
    for (const [j, v] of row) {
      colIdx.push(j);
      values.push(v);
    }
    rowPtr.push(colIdx.length);
    previous = row;
  }
  return { rows, cols, rowPtr: Int32Array.from(rowPtr), colIdx: Int32Array.from(colIdx), values: Float64Array.from(values) };
}
