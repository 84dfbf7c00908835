import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/core/rng.js';
import type { CsrMatrix } from '../src/data/types.js';
import { createMlpWasmKernel, mlpWasmAvailable, mlpWasmUnavailableReason } from '../src/backends/mlp-wasm.js';
import { rowPrefixPlan } from '../src/backends/row-prefix.js';
import { MlpShard, mlpLayout } from '../src/problems/mlp.js';
import { readDataset } from './problems-fixtures.js';
import { firstBitDifference } from './methods-fixtures.js';

// Full passes of the wasm kernel can compute every row's first layer along the row-prefix plan (rows in
// lexicographic order, each starting from the partial sums its shared prefix left). These shards mix
// rows that share long prefixes (copies of a few templates, cut at random lengths, with their own tails;
// exact duplicates; rows that are a prefix of another; empty rows) with rows that share nothing, so the
// sweep starts from every depth; the widths mix eight-unit blocks and scalar tails. Everything must be
// bitwise the JS reference loop's.

const INPUTS = 40;

/** Seeded rows: 3/4 from templates (prefix of random length, then random later columns), the rest random. */
function prefixRows(rows: number, seed: number, valued: boolean): { A: CsrMatrix; b: Float64Array } {
  const rng = createRng(seed, 'test-mlp-prefix-data');
  const shared = [0.5, -1.25, 2]; // few distinct values, so valued rows share (column, value) entries
  const pickValue = (): number => (!valued ? 1 : rng.float() < 0.7 ? shared[Math.floor(rng.float() * 3)] : rng.normal());
  const randomRow = (from: number, p: number): [number, number][] => {
    const out: [number, number][] = [];
    for (let j = from; j < INPUTS; j++) if (rng.float() < p) out.push([j, pickValue()]);
    return out;
  };
  const templates = Array.from({ length: 4 }, () => randomRow(0, 0.45));
  const rowPtr = [0];
  const colIdx: number[] = [];
  const values: number[] = [];
  const labels: number[] = [];
  let previous: [number, number][] = [];
  for (let r = 0; r < rows; r++) {
    const u = rng.float();
    let row: [number, number][];
    if (r % 23 === 7) row = [];
    else if (u < 0.1) row = previous.slice(); // an exact duplicate
    else if (u < 0.15) row = previous.slice(0, Math.floor(rng.float() * (previous.length + 1))); // a prefix of one
    else if (u < 0.75) {
      const t = templates[Math.floor(rng.float() * templates.length)];
      const m = Math.floor(rng.float() * (t.length + 1));
      const head = t.slice(0, m);
      row = head.concat(randomRow(m > 0 ? head[m - 1][0] + 1 : 0, 0.3));
    } else row = randomRow(0, 0.35);
    for (const [j, v] of row) {
      colIdx.push(j);
      values.push(v);
    }
    rowPtr.push(colIdx.length);
    labels.push(rng.float() < 0.5 ? -1 : 1);
    previous = row;
  }
  const A: CsrMatrix = { rows, cols: INPUTS, rowPtr: Int32Array.from(rowPtr), colIdx: Int32Array.from(colIdx), values: Float64Array.from(values) };
  return { A, b: Float64Array.from(labels) };
}

function point(d: number): Float64Array {
  // every parameter non-zero (biases included: the sweep starts from the bias), units on both sides of 0
  return Float64Array.from({ length: d }, (_, j) => 0.3 * Math.sin(1.7 * j + 0.3));
}

function assertSameBits(label: string, got: Float64Array, want: Float64Array): void {
  const at = firstBitDifference(got, want);
  assert.ok(Number.isNaN(at), `${label}: differs at ${at} (${got[at]} vs ${want[at]})`);
}

test('wasm full passes along the row-prefix plan = JS reference bit for bit (shared and unshared rows, valued and binary)', () => {
  assert.ok(mlpWasmAvailable(), `the mlp kernels are built by npm test: ${mlpWasmUnavailableReason()}`);
  let plannedShards = 0;
  for (const valued of [true, false]) {
    for (const [rows, seed] of [[157, 1], [64, 2]] as const) {
      const { A, b } = prefixRows(rows, seed, valued);
      const plan = rowPrefixPlan(A, !valued);
      assert.ok(plan, 'the test data shares prefixes');
      assert.ok(plan.computed < 0.8 * plan.nnz && plan.computed > 0.2 * plan.nnz, `a mix of shared and own entries (${plan.computed} of ${plan.nnz})`);
      assert.ok(plan.lcp.some((l, i) => i > 0 && l === 0) && plan.lcp.some((l) => l >= 3), 'rows that share nothing and rows that share several entries');
      for (const hidden of [[5], [8], [13], [19, 6], [16, 9], [11, 24]]) {
        const label = `${valued ? 'valued' : 'binary'} rows=${rows} hidden=${hidden}`;
        const layout = mlpLayout(INPUTS, hidden);
        const reference = new MlpShard(A, b, layout, 0, { kernels: 'js' });
        const kernel = createMlpWasmKernel(A, b, layout, 'always');
        assert.ok(kernel, 'wasm kernel');
        assert.equal(kernel.rowPrefix, true, `${label}: the kernel uses the plan`);
        assert.equal(kernel.binary, !valued);
        plannedShards++;
        const x = point(layout.d);
        const invRows = 1 / rows;

        const gj = new Float64Array(layout.d);
        const lj = reference.referenceGradient(x, gj);
        const gw = new Float64Array(layout.d);
        const lw = kernel.accumulate(x, undefined, rows, invRows, true, gw) * invRows;
        assert.ok(Object.is(lw, lj), `${label}: loss with the gradient ${lw} vs ${lj}`);
        assertSameBits(`${label} gradient`, gw, gj);
        const go = new Float64Array(layout.d);
        assert.equal(kernel.accumulate(x, undefined, rows, invRows, false, go), 0);
        assertSameBits(`${label} gradient only`, go, gj);
        const loss = kernel.lossSum(x) * invRows;
        assert.ok(Object.is(loss, reference.referenceLoss(x)), `${label}: loss ${loss} vs ${reference.referenceLoss(x)}`);
        let nonZero = 0;
        for (const g of gw) if (g !== 0) nonZero++;
        assert.ok(nonZero > gw.length / 3, `${label}: a non-trivial gradient (${nonZero} of ${gw.length})`);

        // a row list keeps the row-by-row path in the same instance, bit for bit the reference's
        const list = Int32Array.from({ length: 9 }, (_, i) => (i * 37 + 5) % rows);
        const bj = new Float64Array(layout.d);
        const sj = reference.referenceBatchGradient(x, list, list.length, bj);
        const bw = new Float64Array(layout.d);
        const sw = kernel.accumulate(x, list, list.length, 1 / list.length, true, bw) * (1 / list.length);
        assert.ok(Object.is(sw, sj), `${label}: minibatch loss ${sw} vs ${sj}`);
        assertSameBits(`${label} minibatch gradient`, bw, bj);
        assert.equal(kernel.countCorrect(x), reference.correctCount(x), `${label}: accuracy`);
      }
    }
  }
  assert.equal(plannedShards, 24);
});

test('row-prefix plan in chunks: the rows of each chunk in its own positions, ordered among themselves, lcp 0 at each chunk start', () => {
  const { A } = prefixRows(157, 3, false);
  const whole = rowPrefixPlan(A, true);
  const chunked = rowPrefixPlan(A, true, 50);
  assert.ok(whole && chunked);
  assert.equal(whole.chunkRows, 157);
  assert.equal(chunked.chunkRows, 50);
  for (let i = 0; i < 157; i++) {
    assert.equal(Math.floor(chunked.order[i] / 50), Math.floor(i / 50), `position ${i} holds a row of its chunk`);
    if (i % 50 === 0) assert.equal(chunked.lcp[i], 0, `chunk start ${i}`);
  }
  assert.deepEqual([...chunked.order].sort((p, q) => p - q), Array.from({ length: 157 }, (_, r) => r), 'every row once');
  assert.ok(chunked.lcp.some((l, i) => i % 50 !== 0 && l >= 2), 'rows share prefixes within chunks');
  assert.ok(chunked.computed >= whole.computed, `a chunk's trie shares less (${chunked.computed} vs ${whole.computed})`);
  assert.throws(() => rowPrefixPlan(A, true, 0), /chunkRows must be a positive integer, got 0/);
});

test('wasm full passes along the row-prefix plan in chunks of rows (several, the last one partial) = the row loop bit for bit (itself the JS reference, above)', () => {
  assert.ok(mlpWasmAvailable(), `the mlp kernels are built by npm test: ${mlpWasmUnavailableReason()}`);
  /** Loss and gradient, the gradient alone, the loss alone, then loss and gradient again (each pass starts clean), in one vector. */
  const fullPass = (kernel: NonNullable<ReturnType<typeof createMlpWasmKernel>>, x: Float64Array, rows: number): Float64Array => {
    const d = x.length;
    const out = new Float64Array(3 * d + 2);
    out[0] = kernel.accumulate(x, undefined, rows, 1, true, out.subarray(1, 1 + d));
    kernel.accumulate(x, undefined, rows, 1, false, out.subarray(1 + d, 1 + 2 * d));
    out[1 + 2 * d] = kernel.lossSum(x);
    kernel.accumulate(x, undefined, rows, 1, true, out.subarray(2 + 2 * d));
    return out;
  };
  for (const valued of [true, false]) {
    for (const [rows, seed] of [[157, 1], [64, 2]] as const) {
      const { A, b } = prefixRows(rows, seed, valued);
      for (const [hidden, chunkRows] of [[[8], 50], [[19, 6], 50], [[16, 9], 31], [[32], 7]] as const) {
        const label = `${valued ? 'valued' : 'binary'} rows=${rows} hidden=${hidden} chunks of ${chunkRows} rows`;
        const layout = mlpLayout(INPUTS, [...hidden]);
        const chunked = createMlpWasmKernel(A, b, layout, 'always', chunkRows);
        assert.ok(chunked?.rowPrefix, `${label}: the kernel uses the plan`);
        const x = point(layout.d);
        // the reference's loss and gradient (scale 1: sums over the rows) in the same four places
        const reference = new MlpShard(A, b, layout, 0, { kernels: 'js' });
        const g = new Float64Array(layout.d);
        const loss = reference.referenceGradient(x, g) * rows;
        for (let j = 0; j < g.length; j++) g[j] *= rows;
        const rowLoop = createMlpWasmKernel(A, b, layout, 'never');
        assert.ok(rowLoop && !rowLoop.rowPrefix);
        const want = fullPass(rowLoop, x, rows);
        assert.ok(Math.abs(want[0] - loss) <= 1e-12 * Math.abs(loss), `${label}: the row loop's loss is the reference's sum`);
        assertSameBits(`${label}: chunked plan against the row loop`, fullPass(chunked, x, rows), want);
      }
    }
  }
});

test('row-prefix plan on real one-hot rows (mushrooms) and its choice: auto uses it where it pays, never keeps the row loop', () => {
  assert.ok(mlpWasmAvailable(), `the mlp kernels are built by npm test: ${mlpWasmUnavailableReason()}`);
  const data = readDataset('mushrooms', 1200);
  const A = data.X;
  const layout = mlpLayout(A.cols, [21, 10]);
  const x = point(layout.d);
  const auto = createMlpWasmKernel(A, data.b, layout, 'auto');
  const never = createMlpWasmKernel(A, data.b, layout, 'never');
  assert.ok(auto && never);
  assert.equal(auto.rowPrefix, true, 'mushrooms shares most prefixes: the plan pays');
  assert.equal(never.rowPrefix, false);
  const reference = new MlpShard(A, data.b, layout, 0, { kernels: 'js' });
  const gj = new Float64Array(layout.d);
  const lj = reference.referenceGradient(x, gj);
  for (const [name, kernel] of [['auto', auto], ['never', never]] as const) {
    const g = new Float64Array(layout.d);
    const l = kernel.accumulate(x, undefined, A.rows, 1 / A.rows, true, g) * (1 / A.rows);
    assert.ok(Object.is(l, lj), `${name}: loss`);
    assertSameBits(`${name} gradient`, g, gj);
  }
  // rows that share nothing: the plan is not worth its sort (or found not to pay)
  const rng = createRng(5, 'test-mlp-prefix-unshared');
  const rowPtr = [0];
  const colIdx: number[] = [];
  for (let r = 0; r < 300; r++) {
    for (let j = 0; j < INPUTS; j++) if (rng.float() < 0.3) colIdx.push(j);
    rowPtr.push(colIdx.length);
  }
  const U: CsrMatrix = { rows: 300, cols: INPUTS, rowPtr: Int32Array.from(rowPtr), colIdx: Int32Array.from(colIdx), values: new Float64Array(colIdx.length).fill(1) };
  const unshared = createMlpWasmKernel(U, new Float64Array(300).fill(1), mlpLayout(INPUTS, [8]), 'auto');
  assert.equal(unshared?.rowPrefix, false);
  assert.throws(() => auto.accumulate(x, undefined, A.rows - 1, 1, true, new Float64Array(layout.d)), /full pass covers the shard's 1200 rows/);
});
