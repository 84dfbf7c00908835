import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticSparse } from '../src/data/synthetic.js';

test('syntheticSparse: the seed fixes the problem; rows hold minNnz..maxNnz distinct ascending columns of value 1; labels ±1, both present', () => {
  const options = { rows: 500, cols: 300, minNnz: 20, maxNnz: 50, seed: 3 };
  const a = syntheticSparse(options);
  const again = syntheticSparse(options);
  assert.deepEqual(again.X.colIdx, a.X.colIdx);
  assert.deepEqual(again.b, a.b);
  assert.notDeepEqual(syntheticSparse({ ...options, seed: 4 }).X.colIdx, a.X.colIdx);
  const { X, b } = a;
  assert.equal(X.rows, 500);
  assert.equal(X.cols, 300);
  const lengths = new Set<number>();
  for (let r = 0; r < X.rows; r++) {
    const len = X.rowPtr[r + 1] - X.rowPtr[r];
    lengths.add(len);
    assert.ok(len >= 20 && len <= 50, `row ${r} has ${len} entries`);
    for (let k = X.rowPtr[r]; k < X.rowPtr[r + 1]; k++) {
      assert.ok(X.colIdx[k] >= 0 && X.colIdx[k] < 300);
      if (k > X.rowPtr[r]) assert.ok(X.colIdx[k] > X.colIdx[k - 1], `row ${r}: columns must be distinct and ascending`);
    }
  }
  assert.ok(lengths.size > 20, 'row lengths spread over the range');
  assert.equal(X.values.length, X.rowPtr[X.rows]);
  assert.ok(X.values.every((v) => v === 1));
  assert.ok(b.every((v) => v === 1 || v === -1));
  assert.ok(b.some((v) => v === 1) && b.some((v) => v === -1));
});

test('syntheticSparse rejects impossible shapes with a message naming them', () => {
  assert.throws(() => syntheticSparse({ rows: 10, cols: 5, minNnz: 3, maxNnz: 6, seed: 0 }), /maxNnz ≤ cols/);
  assert.throws(() => syntheticSparse({ rows: 1, cols: 5, minNnz: 1, maxNnz: 2, seed: 0 }), /rows must be an integer ≥ 2/);
});
