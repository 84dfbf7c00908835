/**
 * The two ways the logistic-regression kernel computes A·x (rows in interleaved groups with shared
 * prefix sums, down the CSC columns: src/backends/wasm.ts DotsMode) give the same bits: both forced on
 * real data and on matrices built to share prefixes (one-hot rows, repeated and empty rows, valued
 * entries whose columns agree but values differ), where the column sweep shares nothing — and the rows
 * mode is held to the reference loop's bits by backends-wasm-exact.test.ts and to a mirror of its own
 * operations, −0 included, by backends-wasm-interleaved.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/core/rng.js';
import { createWasmKernel, type DotsMode } from '../src/backends/wasm.js';
import type { CsrMatrix, LabeledData } from '../src/data/types.js';
import { LogregProblem } from '../src/problems/logreg.js';
import { contiguousShards, prefixSharingMatrix, PREFIX_SHAPES, readDataset } from './problems-fixtures.js';

function sortedRows(A: CsrMatrix): boolean {
  for (let r = 0; r < A.rows; r++) for (let p = A.rowPtr[r] + 1; p < A.rowPtr[r + 1]; p++) if (A.colIdx[p] < A.colIdx[p - 1]) return false;
  return true;
}

function assertBits(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  for (let j = 0; j < expected.length; j++) {
    if (!Object.is(actual[j], expected[j])) assert.fail(`${label}: entry ${j} is ${actual[j]}, the rows mode gives ${expected[j]}`);
  }
}

function checkModes(data: LabeledData, label: string, shardCounts: readonly number[]): void {
  const rng = createRng(3, 'wasm-dots', label);
  for (const n of shardCounts) {
    const problem = new LogregProblem('p', data, 1e-3, 'l2', contiguousShards(data.X.rows, n), { kernels: 'js' });
    const d = problem.d;
    const points = [new Float64Array(d), Float64Array.from({ length: d }, () => rng.normal()), Float64Array.from({ length: d }, () => 30 * rng.normal())];
    for (const [i, shard] of problem.workers.slice(0, 3).entries()) {
      const rows = createWasmKernel(shard.A, shard.b, 'rows');
      assert.ok(rows, 'the wasm kernel is built by npm test');
      const expected = points.map((x) => {
        const sum = rows.regularisedGradient(x, 1 / shard.rows, true, 1e-3, 'l2');
        return { sum, gradient: Float64Array.from(rows.out) };
      });
      const modes: DotsMode[] = sortedRows(shard.A) ? ['columns'] : [];
      for (const mode of modes) {
        const kernel = createWasmKernel(shard.A, shard.b, mode);
        assert.ok(kernel);
        assert.equal(kernel.dots, mode);
        for (const [pi, x] of points.entries()) {
          const at = `${label} n=${n} worker ${i} ${mode} point ${pi}`;
          const sum = kernel.regularisedGradient(x, 1 / shard.rows, true, 1e-3, 'l2');
          assertBits(kernel.out, expected[pi].gradient, `${at}: gradient`);
          assert.ok(Object.is(sum, expected[pi].sum), `${at}: loss sum ${sum} vs ${expected[pi].sum}`);
          assert.ok(Object.is(kernel.lossSum(x), sum), `${at}: lossSum`);
          kernel.out.fill(Number.NaN);
          kernel.regularisedGradient(x, 1 / shard.rows, false, 1e-3, 'l2');
          assertBits(kernel.out, expected[pi].gradient, `${at}: gradient only`);
        }
      }
    }
  }
}

test('every A·x mode of the wasm kernel gives the same gradient and loss bits (mushrooms, a9a, w8a, phishing; 1, 5 and 7 shards)', () => {
  for (const name of ['mushrooms', 'a9a', 'w8a', 'phishing']) checkModes(readDataset(name, name === 'mushrooms' ? Infinity : 6000), name, [1, 5, 7]);
});

test('the same on matrices that share prefixes: one-hot rows, repeated and empty rows, equal columns with different values, unsorted rows, tiny shards', () => {
  const rng = createRng(9, 'wasm-dots-random');
  for (const shape of PREFIX_SHAPES) {
    for (const rows of [3, 5, 8, 301]) {
      const X = prefixSharingMatrix(shape, rows, rng);
      if (rows > 64) {
        const kernel = createWasmKernel(X, Float64Array.from({ length: rows }, () => 1), 'rows');
        assert.ok(kernel && kernel.prefixNodes > 0, `${shape}: the row sweep shares prefixes (${kernel?.prefixNodes} nodes)`);
      }
      const b = Float64Array.from({ length: rows }, () => (rng.int(2) ? 1 : -1));
      checkModes({ X, b, labelValues: [-1, 1], source: shape }, `${shape} ${rows} rows`, [1, 3]);
    }
  }
});
