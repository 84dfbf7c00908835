/**
 * The logistic-regression kernel's interleaved groups (src/backends/assembly/csr.ts, "Interleaved
 * groups of four"): rows and CSC columns of different lengths are padded to their group's longest
 * with the address of a −0, which must change no bit — not even the sign of a zero. The other kernel
 * tests compare with the reference loop up to the sign of a zero (the reference skips rows whose
 * coefficient is 0); here a mirror of the kernel's own operations (no skipping) is compared with
 * Object.is, on matrices made so that gradient entries are −0 (a +0 padding would turn them into +0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/core/rng.js';
import { createWasmKernel, type WasmCsrKernel } from '../src/backends/wasm.js';
import type { CsrMatrix } from '../src/data/types.js';
import { prefixSharingMatrix, PREFIX_SHAPES } from './problems-fixtures.js';

/** The kernel's gradient, operation for operation: dots from +0 in CSR order, σ with the kernel's exp, out_j = λx_j then += c_r·a_rj in row order. */
function mirrorGradient(kernel: WasmCsrKernel, A: CsrMatrix, b: Float64Array, x: Float64Array, lambda: number, scale: number): Float64Array {
  const out = new Float64Array(A.cols);
  for (let j = 0; j < A.cols; j++) out[j] = lambda * x[j];
  for (let r = 0; r < A.rows; r++) {
    let dot = 0;
    for (let k = A.rowPtr[r]; k < A.rowPtr[r + 1]; k++) dot += A.values[k] * x[A.colIdx[k]];
    const z = -b[r] * dot;
    const e = kernel.expNonPositive(-Math.abs(z));
    const sigma = z > 0 ? 1 / (1 + e) : e / (1 + e);
    const c = -b[r] * sigma * scale;
    for (let k = A.rowPtr[r]; k < A.rowPtr[r + 1]; k++) out[A.colIdx[k]] += c * A.values[k];
  }
  return out;
}

function assertSameBits(actual: Float64Array, expected: Float64Array, label: string): void {
  for (let j = 0; j < expected.length; j++) {
    if (!Object.is(actual[j], expected[j])) assert.fail(`${label}: entry ${j} is ${Object.is(actual[j], -0) ? '-0' : actual[j]}, the mirror gives ${Object.is(expected[j], -0) ? '-0' : expected[j]}`);
  }
}

/** Rows of scattered lengths over `cols` columns (column 0 in every row when `anchor`), values 1 or random. */
function raggedMatrix(rows: number, cols: number, seed: number, binary: boolean, anchor: boolean): CsrMatrix {
  const rng = createRng(seed, 'wasm-interleaved');
  const rowPtr = [0];
  const colIdx: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < rows; r++) {
    const length = rng.int(Math.min(cols, 1 + rng.int(12)));
    const chosen = new Set<number>(anchor ? [0] : []);
    while (chosen.size < length + (anchor ? 1 : 0)) chosen.add(rng.int(cols));
    for (const j of [...chosen].sort((a, c) => a - c)) {
      colIdx.push(j);
      values.push(binary ? 1 : 0.25 + rng.int(7) * 0.5);
    }
    rowPtr.push(colIdx.length);
  }
  return { rows, cols, rowPtr: Int32Array.from(rowPtr), colIdx: Int32Array.from(colIdx), values: Float64Array.from(values) };
}

test('interleaved groups keep every bit, −0 included: coefficients of −0 (σ = 0) on columns whose λ·x_j is −0', () => {
  for (const binary of [true, false]) {
    for (const rows of [3, 4, 9, 61, 200]) {
      // Column 0 is in every row with x_0 = 10⁴ (values ≥ 0.25), labels +1: each margin is < −745, exp underflows to 0,
      // σ = 0 and every coefficient is (−1·0)·scale = −0. Columns with x_j = −0 then have a gradient of
      // −0 + (−0) + … = −0, which one +0 term would turn into +0.
      const A = raggedMatrix(rows, 13, rows, binary, true);
      const b = new Float64Array(rows).fill(1);
      const kernel = createWasmKernel(A, b, 'rows');
      assert.ok(kernel, 'the wasm kernels are built');
      const x = Float64Array.from({ length: A.cols }, (_, j) => (j === 0 ? 1e4 : j % 2 ? -0 : 0.5));
      const expected = mirrorGradient(kernel, A, b, x, 1e-3, 1 / rows);
      assert.ok(expected.some((v) => Object.is(v, -0)), `binary=${binary} rows=${rows}: the case has −0 entries to keep (${[...expected].map((v) => (Object.is(v, -0) ? '-0' : v)).join(' ')})`);
      kernel.regularisedGradient(x, 1 / rows, false, 1e-3, 'l2');
      assertSameBits(kernel.out, expected, `binary=${binary} rows=${rows}`);
    }
  }
});

test('interleaved groups equal the mirror bit for bit on random ragged matrices (every group size remainder, binary and valued, ±1 labels)', () => {
  const rng = createRng(5, 'wasm-interleaved-random');
  for (const binary of [true, false]) {
    for (const [rows, cols] of [[1, 1], [2, 5], [5, 3], [8, 8], [37, 6], [300, 41], [1001, 123]]) {
      const A = raggedMatrix(rows, cols, rows * 31 + cols, binary, false);
      const b = Float64Array.from({ length: rows }, () => (rng.int(2) ? 1 : -1));
      const kernel = createWasmKernel(A, b, 'rows');
      assert.ok(kernel);
      for (const spread of [0, 1, 40]) {
        const x = Float64Array.from({ length: cols }, () => (rng.int(9) === 0 ? -0 : spread * rng.normal()));
        const expected = mirrorGradient(kernel, A, b, x, 1e-3, 1 / rows);
        kernel.regularisedGradient(x, 1 / rows, false, 1e-3, 'l2');
        assertSameBits(kernel.out, expected, `binary=${binary} ${rows}×${cols} spread ${spread}`);
      }
    }
  }
});

test('shared prefix sums keep every bit: one-hot rows (binary, and valued with differing values), repeated, empty and unsorted rows, −0 entries of x', () => {
  const rng = createRng(11, 'wasm-interleaved-prefixes');
  for (const shape of PREFIX_SHAPES) {
    for (const rows of [5, 9, 130, 1201]) {
      const A = prefixSharingMatrix(shape, rows, rng);
      const cols = A.cols;
      const b = Float64Array.from({ length: rows }, () => (rng.int(2) ? 1 : -1));
      const kernel = createWasmKernel(A, b, 'rows');
      assert.ok(kernel);
      if (rows > 100) assert.ok(kernel.prefixNodes > 0, `${shape} ${rows} rows: prefix sums are shared (${kernel.prefixNodes} nodes)`);
      for (const spread of [1, 50]) {
        const x = Float64Array.from({ length: cols }, () => (rng.int(5) === 0 ? -0 : spread * rng.normal()));
        const expected = mirrorGradient(kernel, A, b, x, 1e-3, 1 / rows);
        kernel.regularisedGradient(x, 1 / rows, false, 1e-3, 'l2');
        assertSameBits(kernel.out, expected, `${shape} ${rows} rows spread ${spread}`);
      }
    }
  }
});
