import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/core/rng.js';
import {
  columnsSortedInRows, copyCsc, createWasmKernel, uniformRowLength, wasmKernelsAvailable, wasmUnavailableReason,
} from '../src/backends/wasm.js';
import { LogregProblem, LogregShard, type RegulariserKind } from '../src/problems/logreg.js';
import { FullGradientOracle } from '../src/methods/oracle.js';
import type { CsrMatrix, LabeledData } from '../src/data/types.js';
import { readDataset, denseData, contiguousShards, allRows } from './problems-fixtures.js';

const datasets: [string, LabeledData][] = [
  ['mushrooms', readDataset('mushrooms')],
  ['a9a', readDataset('a9a', 8000)],
  ['phishing', readDataset('phishing')],
  ['a1a', readDataset('a1a')],
];
const regularisers: RegulariserKind[] = ['l2', 'nonconvex'];

function point(d: number, scale: number, stream: string): Float64Array {
  const rng = createRng(11, stream);
  return Float64Array.from({ length: d }, () => scale * rng.normal());
}

/** max_j |u_j − v_j| / max_j |v_j| */
function relativeMaxDiff(u: Float64Array, v: Float64Array): number {
  let diff = 0;
  let size = 0;
  for (let j = 0; j < v.length; j++) {
    diff = Math.max(diff, Math.abs(u[j] - v[j]));
    size = Math.max(size, Math.abs(v[j]));
  }
  return size === 0 ? diff : diff / size;
}

function pair(data: LabeledData, regulariser: RegulariserKind, shards: Int32Array[]): [LogregProblem, LogregProblem] {
  return [
    new LogregProblem('p', data, 1e-3, regulariser, shards, { kernels: 'wasm' }),
    new LogregProblem('p', data, 1e-3, regulariser, shards, { kernels: 'js' }),
  ];
}

test('the compiled wasm kernels are available in the built package and are the default for logreg shards', () => {
  assert.equal(wasmKernelsAvailable(), true, wasmUnavailableReason());
  const data = denseData([[1, 0], [0, 2]], [1, -1]);
  assert.equal(new LogregShard(data.X, data.b, 0.1, 'l2').kernels, 'wasm');
  assert.equal(new LogregShard(data.X, data.b, 0.1, 'l2', { kernels: 'js' }).kernels, 'js');
});

test('the binary fast path is chosen exactly when every stored value is 1 (mushrooms, a9a, a1a yes; phishing no)', () => {
  for (const [name, data] of datasets) {
    const kernel = createWasmKernel(data.X, data.b);
    assert.ok(kernel);
    assert.equal(kernel.binary, name !== 'phishing', name);
  }
});

for (const [name, data] of datasets) {
  for (const regulariser of regularisers) {
    test(`${regulariser} on ${name} shards: wasm loss and gradient agree with the JS reference loops to 1e-14 relative`, () => {
      const [wasm, js] = pair(data, regulariser, contiguousShards(data.X.rows, 3));
      const d = wasm.d;
      const gw = new Float64Array(d);
      const gj = new Float64Array(d);
      // Small, moderate and large margins (the last exercises softplus(z) = z and σ → 0/1).
      for (const scale of [0, 0.05, 1, 40]) {
        const x = point(d, scale, `${name}-${scale}`);
        for (let i = 0; i < wasm.workers.length; i++) {
          const lw = wasm.workers[i].gradient(x, gw);
          const lj = js.workers[i].gradient(x, gj);
          assert.ok(Math.abs(lw - lj) <= 1e-14 * Math.abs(lj), `${scale} worker ${i}: gradient loss ${lw} vs ${lj}`);
          assert.ok(relativeMaxDiff(gw, gj) <= 1e-14, `${scale} worker ${i}: gradient differs by ${relativeMaxDiff(gw, gj)}`);
          const fw = wasm.workers[i].loss(x);
          assert.ok(Math.abs(fw - lj) <= 1e-14 * Math.abs(lj), `${scale} worker ${i}: loss ${fw} vs ${lj}`);
          assert.equal(fw, lw, 'loss and the gradient pass return the same value');
        }
        const pw = wasm.gradient(x, gw);
        const pj = js.gradient(x, gj);
        assert.ok(Math.abs(pw - pj) <= 1e-14 * Math.abs(pj));
        assert.ok(relativeMaxDiff(gw, gj) <= 1e-14);
      }
    });

    test(`${regulariser} on ${name}: wasm minibatch gradients agree with the JS reference on random batches`, () => {
      const [wasm, js] = pair(data, regulariser, allRows(data.X.rows));
      const d = wasm.d;
      const rng = createRng(3, 'batch-test', name);
      const n = data.X.rows;
      const rows = new Int32Array(64);
      const gw = new Float64Array(d);
      const gj = new Float64Array(d);
      for (let trial = 0; trial < 5; trial++) {
        for (let i = 0; i < rows.length; i++) rows[i] = rng.int(n);
        const x = point(d, 0.5, `batch-${trial}`);
        const count = 1 + trial * 15;
        const lw = wasm.workers[0].batchGradient(x, rows, count, gw);
        const lj = js.workers[0].batchGradient(x, rows, count, gj);
        assert.ok(Math.abs(lw - lj) <= 1e-14 * Math.abs(lj));
        assert.ok(relativeMaxDiff(gw, gj) <= 1e-14, `trial ${trial}: ${relativeMaxDiff(gw, gj)}`);
      }
    });
  }
}

test('gradientOnly writes bitwise the gradient of gradient(), and a batch of all rows in order is bitwise the full gradient', () => {
  for (const [name, data] of datasets) {
    const [wasm] = pair(data, 'l2', allRows(data.X.rows));
    const shard = wasm.workers[0];
    const d = wasm.d;
    const x = point(d, 0.3, name);
    const full = new Float64Array(d);
    const only = new Float64Array(d).fill(Number.NaN);
    const batch = new Float64Array(d);
    const loss = shard.gradient(x, full);
    shard.gradientOnly(x, only);
    assert.deepEqual(only, full, name);
    const all = Int32Array.from({ length: shard.rows }, (_, k) => k);
    assert.equal(shard.batchGradient(x, all, all.length, batch), loss, name);
    assert.deepEqual(batch, full, name);
  }
});

test('the full-gradient oracle uses gradientOnly and reports the shard rows', () => {
  const data = datasets[0][1];
  const problem = new LogregProblem('p', data, 1e-3, 'l2', contiguousShards(data.X.rows, 2));
  const x = point(problem.d, 0.2, 'oracle');
  const viaOracle = new Float64Array(problem.d);
  const direct = new Float64Array(problem.d);
  assert.equal(new FullGradientOracle(problem).gradient(1, x, viaOracle), problem.workers[1].rows);
  problem.workers[1].gradient(x, direct);
  assert.deepEqual(viaOracle, direct);
});

test('a non-binary hand-made case matches the closed form (values, label signs and the scatter)', () => {
  // Rows a_1 = (2, 0, −3), b_1 = +1 and a_2 = (0, 0.5, 1), b_2 = −1; λ = 0.
  const data = denseData([[2, 0, -3], [0, 0.5, 1]], [1, -1]);
  const shard = new LogregShard(data.X, data.b, 0, 'l2');
  assert.equal(shard.kernels, 'wasm');
  const x = Float64Array.from([0.25, -1, 0.5]);
  const m1 = 1 * (2 * 0.25 - 3 * 0.5); // −1
  const m2 = -1 * (0.5 * -1 + 1 * 0.5); // 0
  const sigma = (z: number): number => 1 / (1 + Math.exp(-z));
  const expectedLoss = (Math.log(1 + Math.exp(-m1)) + Math.log(1 + Math.exp(-m2))) / 2;
  const c1 = (-1 * sigma(-m1)) / 2;
  const c2 = (1 * sigma(-m2)) / 2;
  const expected = [c1 * 2, c2 * 0.5, c1 * -3 + c2 * 1];
  const g = new Float64Array(3);
  const loss = shard.gradient(x, g);
  assert.ok(Math.abs(loss - expectedLoss) <= 1e-15 * expectedLoss);
  for (let j = 0; j < 3; j++) assert.ok(Math.abs(g[j] - expected[j]) <= 1e-15, `coordinate ${j}: ${g[j]} vs ${expected[j]}`);
});

test('creating more problems (each shard has its own wasm memory) leaves earlier ones valid, and kernels never grow memory', () => {
  const data = datasets[0][1];
  const first = new LogregProblem('p', data, 1e-3, 'l2', contiguousShards(data.X.rows, 2));
  const x = point(first.d, 0.4, 'memory');
  const before = new Float64Array(first.d);
  const lossBefore = first.gradient(x, before);
  const kernel = createWasmKernel(first.workers[0].A, first.workers[0].b);
  assert.ok(kernel);
  const buffer = kernel.memoryBuffer;
  kernel.accumulateGradient(x, 1, true);
  kernel.lossSum(x);
  kernel.accumulateBatchGradient(x, Int32Array.from([0, 1, 2]), 3, 1);
  assert.equal(kernel.memoryBuffer, buffer, 'the memory was grown (views would have detached)');
  // Larger problems made afterwards (a9a needs more pages than mushrooms).
  const others = [datasets[1][1], datasets[2][1]].map((d2) => new LogregProblem('q', d2, 1e-3, 'l2', allRows(d2.X.rows)));
  for (const other of others) other.gradient(point(other.d, 0.1, 'other'), new Float64Array(other.d));
  const after = new Float64Array(first.d);
  assert.equal(first.gradient(x, after), lossBefore);
  assert.deepEqual(after, before);
});

test('minibatch rows outside the shard are rejected instead of read out of bounds', () => {
  const data = denseData([[1, 0], [0, 1], [1, 1]], [1, -1, 1]);
  const shard = new LogregShard(data.X, data.b, 0.1, 'l2');
  const out = new Float64Array(2);
  const x = new Float64Array(2);
  assert.throws(() => shard.batchGradient(x, Int32Array.from([0, 3]), 2, out), RangeError);
  assert.throws(() => shard.batchGradient(x, Int32Array.from([-1, 0]), 2, out), RangeError);
});

test('importance (a) coordinateDecrease in wasm agrees with the JS reference to 1e-14 of the largest decrease', () => {
  for (const [name, data] of datasets) {
    for (const regulariser of regularisers) {
      const [wasm, js] = pair(data, regulariser, contiguousShards(data.X.rows, 2));
      const d = wasm.d;
      const x = point(d, 0.3, `coord-${name}`);
      // Some zero directions: their decrease is exactly 0.
      const v = Float64Array.from(point(d, 1, `dir-${name}`), (a, j) => (j % 4 === 0 ? 0 : a));
      const ow = new Float64Array(d).fill(Number.NaN);
      const oj = new Float64Array(d);
      // Steps giving |u| ≤ 1 (the expm1/log1p form) and |u| > 1 (the direct difference).
      for (const eta of [1e-7, 0.5, 4]) {
        for (let i = 0; i < wasm.workers.length; i++) {
          wasm.workers[i].coordinateDecrease!(x, v, eta, ow);
          js.workers[i].coordinateDecrease!(x, v, eta, oj);
          assert.ok(relativeMaxDiff(ow, oj) <= 1e-14, `${name} ${regulariser} eta ${eta}: ${relativeMaxDiff(ow, oj)}`);
          for (let j = 0; j < d; j += 4) assert.equal(ow[j], 0);
        }
      }
    }
  }
});

/** Distance from a to b in units in the last place of the smaller (subnormal spacing below 2^-1022). */
function ulpDistance(a: number, b: number): number {
  if (a === b) return 0;
  const lo = Math.min(a, b);
  const bits = new Float64Array([lo]);
  const asInt = new BigInt64Array(bits.buffer);
  asInt[0] += 1n;
  return Math.abs(a - b) / (bits[0] - lo);
}

function expKernel(): NonNullable<ReturnType<typeof createWasmKernel>> {
  const one = denseData([[1]], [1]);
  const kernel = createWasmKernel(one.X, one.b);
  assert.ok(kernel);
  return kernel;
}

test('the SIMD exp matches correctly rounded exp(y) within 1 ulp at known points, and its special values', () => {
  const kernel = expKernel();
  // Correctly rounded float64 values of exp(y) (from an extended-precision evaluation).
  const known: [number, number][] = [
    [-1, 0.36787944117144233],
    [-0.5, 0.6065306597126334],
    [-1e-10, 0.9999999999],
    [-0.34657359027997264, 0.7071067811865476],
    [-20, 2.061153622438558e-9],
    [-100, 3.720075976020836e-44],
    [-707.5, 5.453232991066742e-308],
    [-708, 3.307553003638408e-308],
  ];
  for (const [y, expected] of known) {
    assert.ok(ulpDistance(kernel.expNonPositive(y), expected) <= 1, `exp(${y}) = ${kernel.expNonPositive(y)}, expected ${expected}`);
  }
  assert.equal(kernel.expNonPositive(0), 1);
  assert.equal(kernel.expNonPositive(-0), 1);
  assert.equal(kernel.expNonPositive(-Number.MIN_VALUE), 1);
  assert.equal(kernel.expNonPositive(-1e-300), 1);
  assert.equal(kernel.expNonPositive(-Infinity), 0);
  assert.equal(kernel.expNonPositive(-746), 0);
  assert.ok(Number.isNaN(kernel.expNonPositive(Number.NaN)));
});

test('the SIMD exp is within 2 ulp of Math.exp over a dense sweep of [−745, 0] (both are within 1 ulp of the true value)', () => {
  const kernel = expKernel();
  const points = 1_000_000;
  let worst = 0;
  let worstAt = 0;
  const check = (y: number): void => {
    const ours = kernel.expNonPositive(y);
    const reference = Math.exp(y);
    // Subnormal results (y < −708.39…) differ by at most a couple of the smallest subnormals.
    const distance = reference < 2.2250738585072014e-308 ? Math.abs(ours - reference) / Number.MIN_VALUE : ulpDistance(ours, reference);
    if (!(distance <= worst)) {
      worst = distance;
      worstAt = y;
    }
  };
  for (let i = 0; i < points; i++) check((-745 * i) / (points - 1));
  // Around the switch to the scalar path (−708), the smallest normal (−708.396…) and the underflow to 0.
  for (const centre of [-708, -708.3964185322641, -745.1332191019411, -0.34657359027997264, -1e-8]) {
    for (let step = -2000; step <= 2000; step++) check(centre + step * Math.abs(centre) * 2 ** -52);
  }
  assert.ok(worst <= 2, `worst difference ${worst} ulp at y = ${worstAt}`);
});

test('the SIMD-exp gradient is deterministic: repeated and interleaved calls on different shards give the same bits', () => {
  const data = datasets[0][1];
  const problem = new LogregProblem('p', data, 1e-3, 'l2', contiguousShards(data.X.rows, 3));
  const x = point(problem.d, 0.7, 'determinism');
  const first = problem.workers.map((w) => {
    const g = new Float64Array(problem.d);
    w.gradientOnly(x, g);
    return g;
  });
  for (let round = 0; round < 2; round++) {
    for (let i = problem.workers.length - 1; i >= 0; i--) {
      const g = new Float64Array(problem.d);
      problem.workers[i].gradientOnly(x, g);
      assert.deepEqual(g, first[i], `worker ${i}`);
    }
  }
});

test('the CSC copy lists each column rows ascending with its values, and the column order sorts by length then index', () => {
  // Rows: (0: 1, 2: 2), (2: 3), (), (1: 4, 2: 5, 0: 6) — the last row deliberately unsorted.
  const A: CsrMatrix = {
    rows: 4, cols: 4,
    rowPtr: Int32Array.from([0, 2, 3, 3, 6]),
    colIdx: Int32Array.from([0, 2, 2, 1, 2, 0]),
    values: Float64Array.from([1, 2, 3, 4, 5, 6]),
  };
  const buffer = new ArrayBuffer(256);
  const ptr = { colOrder: 0, colPtr: 16, rowIdx: 40, cscValues: 64 };
  copyCsc(buffer, ptr, A, false);
  assert.deepEqual([...new Int32Array(buffer, ptr.colPtr, 5)], [0, 2, 3, 6, 6]);
  assert.deepEqual([...new Int32Array(buffer, ptr.rowIdx, 6)], [0, 3, 3, 0, 1, 3]);
  assert.deepEqual([...new Float64Array(buffer, ptr.cscValues, 6)], [1, 6, 4, 2, 3, 5]);
  // Lengths 2, 1, 3, 0 → columns 3, 1, 0, 2.
  assert.deepEqual([...new Int32Array(buffer, ptr.colOrder, 4)], [3, 1, 0, 2]);
  assert.equal(columnsSortedInRows(A), false);
  assert.equal(columnsSortedInRows({ ...A, colIdx: Int32Array.from([0, 2, 2, 0, 1, 2]) }), true);
  assert.equal(uniformRowLength(A), false);
  assert.equal(uniformRowLength({ ...A, rows: 2, rowPtr: Int32Array.from([0, 2, 4]) }), true);
});

test('rows of varying length, sorted or not, give gradients within 1e-14 of the JS loops and full and batch paths agree bitwise', () => {
  // Random sparse rows of 0..9 entries over 13 columns, with a few repeated and out-of-order columns.
  const rng = createRng(5, 'csc-gather');
  const rows = 157;
  const cols = 13;
  for (const sorted of [true, false]) {
    const rowPtr = [0];
    const colIdx: number[] = [];
    const values: number[] = [];
    for (let r = 0; r < rows; r++) {
      const len = rng.int(10);
      const row = Array.from({ length: len }, () => rng.int(cols));
      if (sorted) row.sort((a, b) => a - b);
      for (const j of row) {
        colIdx.push(j);
        values.push(rng.normal());
      }
      rowPtr.push(colIdx.length);
    }
    const X: CsrMatrix = { rows, cols, rowPtr: Int32Array.from(rowPtr), colIdx: Int32Array.from(colIdx), values: Float64Array.from(values) };
    assert.equal(columnsSortedInRows(X), sorted);
    const b = Float64Array.from({ length: rows }, (_, r) => (r % 3 === 0 ? 1 : -1));
    const shard = new LogregShard(X, b, 1e-3, 'l2');
    assert.equal(shard.kernels, 'wasm');
    const x = point(cols, 0.7, `csc-${sorted}`);
    const full = new Float64Array(cols);
    const reference = new Float64Array(cols);
    const batch = new Float64Array(cols);
    const loss = shard.gradient(x, full);
    const referenceLoss = shard.referenceGradient(x, reference);
    assert.ok(relativeMaxDiff(full, reference) <= 1e-14, `sorted=${sorted}: ${relativeMaxDiff(full, reference)}`);
    assert.ok(Math.abs(loss - referenceLoss) <= 1e-14 * Math.abs(referenceLoss));
    const all = Int32Array.from({ length: rows }, (_, k) => k);
    assert.equal(shard.batchGradient(x, all, rows, batch), loss);
    assert.deepEqual(batch, full, `sorted=${sorted}`);
  }
});
