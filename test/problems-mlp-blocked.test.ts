import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/core/rng.js';
import type { LabeledData } from '../src/data/types.js';
import { mlpLayout, mlpSpec } from '../src/problems/mlp.js';
import { initialPoint } from '../src/problems/initial-point.js';
import { contiguousShards, denseData, readDataset } from './problems-fixtures.js';
import { firstBitDifference } from './methods-fixtures.js';

// The wasm kernel runs its layer loops on blocks of sixteen or eight units (eight or four f64x2 held in
// registers) and a scalar tail for the rest; these widths mix the paths in every layer (13 → 26: a
// sixteen-unit block, an eight-unit block and a tail; 8 → 17: sixteen and a tail), including a dense
// layer whose inputs and outputs both have a tail, widths below one block and odd bias lengths.

/** Rows of mixed-sign, non-binary values, some rows empty, seeded. */
function randomSparse(rows: number, cols: number, seed: number, density = 0.3): LabeledData {
  const rng = createRng(seed, 'test-mlp-blocked-data');
  const dense = Array.from({ length: rows }, (_, r) =>
    Array.from({ length: cols }, () => (r % 5 === 2 ? 0 : rng.float() < density ? rng.normal() : 0)));
  const labels = Array.from({ length: rows }, () => (rng.float() < 0.5 ? -1 : 1));
  return denseData(dense, labels, cols);
}

test('wasm kernel = JS reference bit for bit on widths that mix eight-unit blocks and tails', () => {
  const cases: [string, LabeledData, number[]][] = [
    ['mushrooms', readDataset('mushrooms', 400), [19, 11]],
    ['mushrooms', readDataset('mushrooms', 400), [8, 17, 9]],
    ['random', randomSparse(83, 21, 3), [13, 26]],
    ['random', randomSparse(83, 21, 4), [24, 7]],
  ];
  for (const [name, data, hidden] of cases) {
    const shards = contiguousShards(data.X.rows, 2);
    const pw = mlpSpec.create(data, { shards, values: { hidden, l2: 0 }, kernels: 'wasm' });
    const pj = mlpSpec.create(data, { shards, values: { hidden, l2: 0 }, kernels: 'js' });
    assert.equal(pw.workers[0].kernels, 'wasm');
    const x = initialPoint(pw, 7);
    for (let j = 0; j < x.length; j++) if (x[j] === 0) x[j] = 0.05 * Math.cos(j);
    for (let i = 0; i < shards.length; i++) {
      const label = `${name} ${hidden} worker ${i}`;
      const gw = new Float64Array(pw.d);
      const gj = new Float64Array(pw.d);
      const lw = pw.workers[i].gradient(x, gw);
      const lj = pj.workers[i].gradient(x, gj);
      assert.ok(Object.is(lw, lj), `${label}: loss ${lw} vs ${lj}`);
      assert.ok(Number.isNaN(firstBitDifference(gw, gj)), `${label}: gradient differs at ${firstBitDifference(gw, gj)}`);
      let nonZero = 0;
      for (const g of gw) if (g !== 0) nonZero++;
      assert.ok(nonZero > gw.length / 4, `${label}: a non-trivial gradient (${nonZero} of ${gw.length} non-zero)`);
    }
    assert.equal(pw.accuracy(x), pj.accuracy(x), `${name} ${hidden}: accuracy`);
  }
});

test('full gradient passes gather the first layer block by block (512 rows): several blocks and a partial one, repeated columns in a row, = JS reference bit for bit', () => {
  // Rows with a column listed twice (the scatter adds both in CSR order; the block's column lists keep that order).
  const rng = createRng(5, 'test-mlp-blocks');
  const rows = 1300;
  const cols = 23;
  const rowPtr = [0];
  const colIdx: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < rows; r++) {
    const length = rng.int(7);
    for (let t = 0; t < length; t++) {
      colIdx.push(rng.int(cols));
      values.push(rng.normal());
    }
    if (length > 0 && rng.int(4) === 0) {
      colIdx.push(colIdx[colIdx.length - 1]);
      values.push(rng.normal());
    }
    rowPtr.push(colIdx.length);
  }
  const repeated: LabeledData = {
    X: { rows, cols, rowPtr: Int32Array.from(rowPtr), colIdx: Int32Array.from(colIdx), values: Float64Array.from(values) },
    b: Float64Array.from({ length: rows }, () => (rng.int(2) ? 1 : -1)),
    labelValues: [-1, 1],
    source: 'repeated columns',
  };
  const cases: [string, LabeledData, number[]][] = [
    ['repeated', repeated, [19]],
    ['repeated', repeated, [8, 5]],
    ['mushrooms', readDataset('mushrooms', 1900), [32]],
    ['mushrooms', readDataset('mushrooms', 1900), [21, 16]],
  ];
  for (const [name, data, hidden] of cases) {
    const shards = contiguousShards(data.X.rows, 1);
    const pw = mlpSpec.create(data, { shards, values: { hidden, l2: 0 }, kernels: 'wasm' });
    const pj = mlpSpec.create(data, { shards, values: { hidden, l2: 0 }, kernels: 'js' });
    const x = initialPoint(pw, 3);
    for (let j = 0; j < x.length; j++) if (x[j] === 0) x[j] = 0.05 * Math.sin(j);
    const gw = new Float64Array(pw.d);
    const gj = new Float64Array(pw.d);
    const lw = pw.workers[0].gradient(x, gw);
    const lj = pj.workers[0].gradient(x, gj);
    assert.ok(Object.is(lw, lj), `${name} ${hidden}: loss ${lw} vs ${lj}`);
    assert.ok(Number.isNaN(firstBitDifference(gw, gj)), `${name} ${hidden}: gradient differs at ${firstBitDifference(gw, gj)}`);
    const only = pw.workers[0].gradientOnly;
    assert.ok(only, 'mlp shards have gradientOnly');
    gw.fill(Number.NaN);
    only.call(pw.workers[0], x, gw);
    assert.ok(Number.isNaN(firstBitDifference(gw, gj)), `${name} ${hidden}: gradientOnly differs at ${firstBitDifference(gw, gj)}`);
  }
});

/** j where a and b differ, counting any two NaNs as equal (their payloads are the hardware's), or NaN. */
function firstDifferenceNanEqual(a: Float64Array, b: Float64Array): number {
  const ua = new BigUint64Array(a.buffer, a.byteOffset, a.length);
  const ub = new BigUint64Array(b.buffer, b.byteOffset, b.length);
  for (let j = 0; j < a.length; j++) if (ua[j] !== ub[j] && !(Number.isNaN(a[j]) && Number.isNaN(b[j]))) return j;
  return NaN;
}

test('non-finite parameters: infinite and NaN activations take the reference branches (ReLU, skipped inputs, the output unit) in the wasm kernel', () => {
  // Weights of 1e308 overflow some pre-activations to ±Infinity, a NaN weight makes NaN ones with a
  // positive sign (which an integer "> 0" test must still treat as inactive), −Infinity in the output
  // layer meets zero activations there.
  const cases: [LabeledData, number[]][] = [
    [randomSparse(97, 21, 8), [13, 26]],
    [randomSparse(97, 21, 9), [24, 7]],
    [randomSparse(97, 21, 10), [17]],
  ];
  for (const [data, hidden] of cases) {
    const shards = contiguousShards(data.X.rows, 2);
    const pw = mlpSpec.create(data, { shards, values: { hidden, l2: 0 }, kernels: 'wasm' });
    const pj = mlpSpec.create(data, { shards, values: { hidden, l2: 0 }, kernels: 'js' });
    const layout = mlpLayout(data.X.cols, hidden);
    const x = initialPoint(pw, 11);
    for (let j = 0; j < x.length; j++) if (x[j] === 0) x[j] = 0.05 * Math.cos(j);
    for (let t = 0; t < 6; t++) x[layout.weightOffset[0] + 5 * t] = (t % 2 ? -1 : 1) * 1e308;
    const last = hidden.length;
    x[layout.weightOffset[0] + 7] = Number.NaN;
    if (last > 1) x[layout.weightOffset[1] + 3] = Number.NaN;
    x[layout.weightOffset[last] + 1] = Number.NEGATIVE_INFINITY;
    let nonFinite = 0;
    let finite = 0;
    for (let i = 0; i < shards.length; i++) {
      const label = `${hidden} worker ${i}`;
      const gw = new Float64Array(pw.d);
      const gj = new Float64Array(pw.d);
      const lw = pw.workers[i].gradient(x, gw);
      const lj = pj.workers[i].gradient(x, gj);
      assert.ok(Object.is(lw, lj) || (Number.isNaN(lw) && Number.isNaN(lj)), `${label}: loss ${lw} vs ${lj}`);
      const at = firstDifferenceNanEqual(gw, gj);
      assert.ok(Number.isNaN(at), `${label}: gradient differs at ${at} (${gw[at]} vs ${gj[at]})`);
      for (const g of gj) if (Number.isFinite(g)) finite++; else nonFinite++;
      assert.equal(pw.workers[i].correctCount(x), pj.workers[i].correctCount(x), `${label}: correct count`);
    }
    assert.ok(nonFinite > 0 && finite > 0, `${hidden}: the case reaches non-finite values (${nonFinite}) and keeps finite ones (${finite})`);
  }
});
