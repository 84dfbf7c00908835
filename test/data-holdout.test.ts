import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createRng } from '../src/core/rng.js';
import { DataFormatError, UsageError } from '../src/core/errors.js';
import { holdoutRows, holdoutSplit, HOLDOUT_RNG_STREAM, SPLIT_RNG_STREAM } from '../src/data/split.js';
import { loadDataset } from '../src/data/resolve.js';
import { readDataset } from './problems-fixtures.js';

const rng = (seed: number) => createRng(seed, HOLDOUT_RNG_STREAM);

test('holdout: the test set has ⌈f·N⌉ rows, train and test are disjoint, cover every row, each ascending', () => {
  for (const [N, f] of [[10, 0.2], [10, 0.25], [8124, 0.2], [7, 0.5], [3, 0.01], [101, 0.999 * 100 / 101]] as [number, number][]) {
    const { train, test: held } = holdoutRows(N, f, rng(5));
    assert.equal(held.length, Math.ceil(f * N), `N=${N} f=${f}`);
    assert.equal(train.length + held.length, N);
    const seen = new Uint8Array(N);
    for (const r of train) seen[r]++;
    for (const r of held) seen[r] += 2;
    // 1 = train only, 2 = test only: never both (3), never missing (0)
    assert.ok(seen.every((c) => c === 1 || c === 2), `N=${N} f=${f}: a row is in both sets or in neither`);
    for (let i = 1; i < train.length; i++) assert.ok(train[i] > train[i - 1]);
    for (let i = 1; i < held.length; i++) assert.ok(held[i] > held[i - 1]);
  }
});

test('holdout: the test set is the last ⌈f·N⌉ rows of a Fisher–Yates permutation drawn from the given stream', () => {
  const N = 50;
  const f = 0.3;
  // the permutation, written out independently
  const r = rng(11);
  const order = Array.from({ length: N }, (_, i) => i);
  for (let i = N - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const expected = order.slice(N - Math.ceil(f * N)).sort((a, b) => a - b);
  assert.deepEqual([...holdoutRows(N, f, rng(11)).test], expected);
});

test('holdout: reproducible from the seed, different for another seed, independent of the split stream', () => {
  const a = holdoutRows(1000, 0.2, rng(3));
  const b = holdoutRows(1000, 0.2, rng(3));
  assert.deepEqual([...a.test], [...b.test]);
  assert.deepEqual([...a.train], [...b.train]);
  assert.notDeepEqual([...holdoutRows(1000, 0.2, rng(4)).test], [...a.test]);
  // another stream of the same seed (the split's) gives another set: the holdout has its own stream
  assert.notDeepEqual([...holdoutRows(1000, 0.2, createRng(3, SPLIT_RNG_STREAM)).test], [...a.test]);
});

test('holdout: the fraction must be in (0, 1) and leave a training row', () => {
  for (const bad of [0, 1, -0.1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => holdoutRows(10, bad, rng(0)), (e: unknown) => e instanceof UsageError && /^--holdout: expected a number > 0 and < 1/.test(e.message), String(bad));
  }
  assert.throws(() => holdoutRows(3, 0.9, rng(0)), (e: unknown) => e instanceof UsageError && /leaves no training row/.test(e.message));
});

test('holdoutSplit keeps d, the label mapping and the rows themselves', () => {
  const data = readDataset('mushrooms');
  const { train, test: held } = holdoutSplit(data, 0.2, rng(0));
  assert.equal(train.X.cols, data.X.cols);
  assert.equal(held.X.cols, data.X.cols);
  assert.deepEqual(train.labelValues, data.labelValues);
  assert.equal(train.X.rows + held.X.rows, data.X.rows);
  assert.equal(held.X.rows, Math.ceil(0.2 * data.X.rows));
  const { train: rowsTrain, test: rowsTest } = holdoutRows(data.X.rows, 0.2, rng(0));
  // spot-check that row i of each set is the original row it names
  for (const [set, rows] of [[train, rowsTrain], [held, rowsTest]] as const) {
    for (const i of [0, 1, Math.floor(rows.length / 2), rows.length - 1]) {
      const r = rows[i];
      assert.equal(set.b[i], data.b[r]);
      const mine = [...set.X.colIdx.subarray(set.X.rowPtr[i], set.X.rowPtr[i + 1])];
      const theirs = [...data.X.colIdx.subarray(data.X.rowPtr[r], data.X.rowPtr[r + 1])];
      assert.deepEqual(mine, theirs);
    }
  }
});

test('a test file is read with the training d and label pair: another feature space or an unknown label names file and line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dcomp-holdout-'));
  try {
    const wide = join(dir, 'wide.txt');
    await writeFile(wide, '1 1:1 3:1\n# comment\n2 2:1 5:1\n');
    await assert.rejects(loadDataset(wide, { features: 4, labels: [1, 2] }), (e: unknown) =>
      e instanceof DataFormatError && e.file === wide && e.line === 3 && /feature index 5 exceeds --features 4/.test(e.message));
    const labels = join(dir, 'labels.txt');
    await writeFile(labels, '1 1:1\n2 2:1\n0 1:1\n');
    await assert.rejects(loadDataset(labels, { features: 4, labels: [1, 2] }), (e: unknown) =>
      e instanceof DataFormatError && e.file === labels && e.line === 3 && /label 0 is not one of the expected labels 1 and 2/.test(e.message));
    // a narrower test file takes the training d; one label only is fine when the pair is given
    const narrow = join(dir, 'narrow.txt');
    await writeFile(narrow, '2 1:1\n2 2:0.5\n');
    const data = await loadDataset(narrow, { features: 4, labels: [1, 2] });
    assert.equal(data.X.cols, 4);
    assert.deepEqual([...data.b], [1, 1]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
