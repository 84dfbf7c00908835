import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rowOrder, splitShards, SPLIT_RNG_STREAM } from '../src/data/split.js';
import { selectLabeledRows, selectRows, toCsc, toDense } from '../src/data/csr.js';
import { parseLibsvm, readLibsvmFile } from '../src/data/libsvm.js';
import { createRng } from '../src/core/rng.js';
import { UsageError } from '../src/core/errors.js';
import { SPLIT_MODES } from '../src/data/types.js';
import type { CsrMatrix } from '../src/data/types.js';
import { DATA_DIR } from './data-dir.js';

const dataDir = DATA_DIR;

function labels(values: number[]): { b: Float64Array; source: string } {
  return { b: Float64Array.from(values), source: 'toy' };
}

test('shards are contiguous cuts whose sizes differ by at most one, the first N mod n one longer', () => {
  const data = labels(Array.from({ length: 10 }, (_, i) => (i % 2 ? 1 : -1)));
  const shards = splitShards(data, 3, 'contiguous');
  assert.deepEqual(shards.map((s) => [...s]), [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  for (const [n, sizes] of [
    [1, [10]],
    [4, [3, 3, 2, 2]],
    [10, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
    [7, [2, 2, 2, 1, 1, 1, 1]],
  ] as [number, number[]][]) {
    assert.deepEqual(splitShards(data, n, 'contiguous').map((s) => s.length), sizes, `n=${n}`);
  }
});

test('every mode covers every row exactly once', () => {
  const data = labels(Array.from({ length: 103 }, (_, i) => ((i * 7) % 5 < 2 ? 1 : -1)));
  for (const mode of SPLIT_MODES) {
    for (const n of [1, 2, 5, 13, 103]) {
      const shards = splitShards(data, n, mode, createRng(3, SPLIT_RNG_STREAM));
      const seen = new Uint8Array(103);
      for (const shard of shards) for (const r of shard) seen[r]++;
      assert.ok(seen.every((c) => c === 1), `${mode} n=${n}`);
      assert.equal(shards.length, n);
    }
  }
});

test('iid split is reproducible from the seed and differs between seeds', () => {
  const data = labels(Array.from({ length: 50 }, (_, i) => (i < 25 ? -1 : 1)));
  const a = splitShards(data, 4, 'iid', createRng(42, SPLIT_RNG_STREAM));
  const b = splitShards(data, 4, 'iid', createRng(42, SPLIT_RNG_STREAM));
  const c = splitShards(data, 4, 'iid', createRng(43, SPLIT_RNG_STREAM));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.notDeepEqual(a.flatMap((s) => [...s]), Array.from({ length: 50 }, (_, i) => i));
});

test('the iid shuffle makes all 6 orders of 3 rows equally likely (chi-square)', () => {
  const rng = createRng(1, 'test-shuffle');
  const counts = new Map<string, number>();
  const draws = 12000;
  const b = new Float64Array(3);
  for (let t = 0; t < draws; t++) {
    const key = [...rowOrder(b, 'iid', rng)].join('');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  const expected = draws / 6;
  let chi2 = 0;
  for (const c of counts.values()) chi2 += (c - expected) ** 2 / expected;
  // 5 degrees of freedom: P(χ² > 20.5) ≈ 0.001
  assert.ok(chi2 < 20.5, `chi-square ${chi2}`);
});

test('label split is a stable sort by label, so shards are label-heterogeneous', () => {
  const data = labels([1, -1, 1, -1, -1, 1]);
  assert.deepEqual([...rowOrder(data.b, 'label')], [1, 3, 4, 0, 2, 5]);
  assert.deepEqual(splitShards(data, 2, 'label').map((s) => [...s]), [[1, 3, 4], [0, 2, 5]]);
});

test('label split of mushrooms over 2 workers puts all 3916 negatives in shard 0 and only positives in shard 1', async () => {
  const data = await readLibsvmFile(join(dataDir, 'mushrooms'));
  const [first, second] = splitShards(data, 2, 'label');
  assert.equal(first.length, 4062);
  assert.equal(second.length, 4062);
  let negatives = 0;
  for (const r of first) if (data.b[r] === -1) negatives++;
  assert.equal(negatives, 3916);
  assert.ok([...second].every((r) => data.b[r] === 1));
  for (const shard of [first, second]) for (let i = 1; i < shard.length; i++) if (data.b[shard[i]] === data.b[shard[i - 1]]) assert.ok(shard[i] > shard[i - 1]);
});

test('workers below 1, above N or fractional is a usage error naming --workers', () => {
  const data = labels([1, -1, 1]);
  for (const n of [0, -1, 4, 1.5, Number.NaN]) {
    assert.throws(() => splitShards(data, n, 'contiguous'), (err: unknown) => err instanceof UsageError && /--workers must be an integer from 1 to 3/.test(err.message));
  }
});

const toy = parseLibsvm(new TextEncoder().encode('1 1:1 3:2\n-1 2:3\n1\n-1 1:4 2:5 3:6\n'), { file: 'toy' });

test('selectRows copies the chosen rows in the given order', () => {
  const X = selectRows(toy.X, Int32Array.from([3, 0, 2]));
  assert.equal(X.rows, 3);
  assert.equal(X.cols, 3);
  assert.deepEqual(toDense(X).map((r) => [...r]), [
    [4, 5, 6],
    [1, 0, 2],
    [0, 0, 0],
  ]);
  const shard = selectLabeledRows(toy, Int32Array.from([1, 3]));
  assert.deepEqual([...shard.b], [-1, -1]);
  assert.deepEqual(toDense(shard.X).map((r) => [...r]), [
    [0, 3, 0],
    [4, 5, 6],
  ]);
  assert.throws(() => selectRows(toy.X, Int32Array.from([4])), RangeError);
});

function cscToDense(X: ReturnType<typeof toCsc>): number[][] {
  const dense = Array.from({ length: X.rows }, () => new Array<number>(X.cols).fill(0));
  for (let c = 0; c < X.cols; c++) {
    for (let k = X.colPtr[c]; k < X.colPtr[c + 1]; k++) {
      if (k > X.colPtr[c]) assert.ok(X.rowIdx[k] > X.rowIdx[k - 1], 'rows ascending in a column');
      dense[X.rowIdx[k]][c] = X.values[k];
    }
  }
  return dense;
}

test('toCsc gives the same matrix column by column, rows ascending', () => {
  const csc = toCsc(toy.X);
  assert.deepEqual([...csc.colPtr], [0, 2, 4, 6]);
  assert.deepEqual([...csc.rowIdx], [0, 3, 1, 3, 0, 3]);
  assert.deepEqual([...csc.values], [1, 4, 3, 5, 2, 6]);
});

test('toCsc of a real shard holds exactly the entries of the CSR', async () => {
  const data = await readLibsvmFile(join(dataDir, 'a1a'), { features: 123 });
  const X: CsrMatrix = selectRows(data.X, splitShards(data, 3, 'iid', createRng(0, SPLIT_RNG_STREAM))[1]);
  const csc = toCsc(X);
  assert.equal(csc.colPtr[csc.cols], X.rowPtr[X.rows]);
  assert.deepEqual(cscToDense(csc), toDense(X).map((r) => [...r]));
});
