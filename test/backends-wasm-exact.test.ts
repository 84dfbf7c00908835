/**
 * The WebAssembly kernels against the JS reference loops of src/problems/logreg.ts, bit for bit.
 *
 * The kernels take the reference loops' order of operations (rows in order, each dot product summed
 * over the row's entries in order, the gradient's additions onto out[j] in row order, the imp-a
 * column sums in row order) but their own exp/log1p/expm1. So each test runs a mirror of the
 * reference loop — the same statements — with the kernels' scalar functions in place of V8's Math
 * ones, and requires the same bits (a zero may differ in sign: the reference skips rows whose
 * coefficient is 0, the column gather adds that 0). The two-lane log1p of the loss and of imp-a is
 * checked against the scalar one separately, also bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/core/rng.js';
import { createWasmKernel } from '../src/backends/wasm.js';
import { toCsc } from '../src/data/csr.js';
import type { CsrMatrix, LabeledData } from '../src/data/types.js';
import { LogregProblem, type LogregShard, type RegulariserKind } from '../src/problems/logreg.js';
import { contiguousShards, denseData, readDataset } from './problems-fixtures.js';

const kernel = (() => {
  const k = createWasmKernel(denseData([[1]], [1]).X, Float64Array.from([1]));
  assert.ok(k, 'the wasm kernels are built');
  return k;
})();
const exp = (y: number): number => kernel.expNonPositive(y);
const log1p = (x: number): number => kernel.log1pScalar(x);

/** Same value, NaN included, and a zero of either sign equal to a zero. */
function sameBits(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

function assertSameArray(actual: Float64Array, expected: Float64Array, label: string): void {
  assert.equal(actual.length, expected.length, label);
  for (let j = 0; j < expected.length; j++) {
    if (!sameBits(actual[j], expected[j])) assert.fail(`${label}: entry ${j} is ${actual[j]}, the reference loop gives ${expected[j]}`);
  }
}

function regulariserGradient(x: Float64Array, lambda: number, kind: RegulariserKind, out: Float64Array): void {
  for (let j = 0; j < out.length; j++) {
    if (kind === 'l2') out[j] = lambda * x[j];
    else {
      const s = 1 + x[j] * x[j];
      out[j] = (2 * lambda * x[j]) / (s * s);
    }
  }
}

function regulariserValue(x: Float64Array, lambda: number, kind: RegulariserKind, d: number): number {
  let s = 0;
  if (kind === 'l2') {
    for (let j = 0; j < d; j++) s += x[j] * x[j];
    return 0.5 * lambda * s;
  }
  for (let j = 0; j < d; j++) {
    const q = x[j] * x[j];
    s += q / (1 + q);
  }
  return lambda * s;
}

/** LogregShard.referenceBatchGradient, statement for statement, with the kernels' exp and log1p. */
function mirrorBatchGradient(
  shard: LogregShard, x: Float64Array, rows: Int32Array, count: number, out: Float64Array,
): number {
  regulariserGradient(x, shard.lambda, shard.regulariser, out);
  const { rowPtr, colIdx, values } = shard.A;
  const b = shard.b;
  const invCount = 1 / count;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const r = rows[i];
    const start = rowPtr[r];
    const end = rowPtr[r + 1];
    let dot = 0;
    for (let k = start; k < end; k++) dot += values[k] * x[colIdx[k]];
    const br = b[r];
    const z = -br * dot;
    let sig: number;
    if (z > 0) {
      const e = exp(-z);
      sum += z + log1p(e);
      sig = 1 / (1 + e);
    } else {
      const e = exp(z);
      sum += log1p(e);
      sig = e / (1 + e);
    }
    const c = -br * sig * invCount;
    if (c !== 0) for (let k = start; k < end; k++) out[colIdx[k]] += c * values[k];
  }
  return sum * invCount + regulariserValue(x, shard.lambda, shard.regulariser, shard.d);
}

/** The reference loss (referenceLoss) with the kernels' functions. */
function mirrorLoss(shard: LogregShard, x: Float64Array): number {
  const { rowPtr, colIdx, values } = shard.A;
  let sum = 0;
  for (let r = 0; r < shard.rows; r++) {
    let dot = 0;
    for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) dot += values[k] * x[colIdx[k]];
    const z = -shard.b[r] * dot;
    sum += z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
  }
  return sum * (1 / shard.rows) + regulariserValue(x, shard.lambda, shard.regulariser, shard.d);
}

/** referenceCoordinateDecrease with the kernels' scalar exp, expm1 and log1p (AssemblyScript's). */
function mirrorCoordinateDecrease(shard: LogregShard, x: Float64Array, v: Float64Array, eta: number, out: Float64Array): void {
  const aExp = (y: number): number => kernel.expScalar(y);
  const aExpm1 = (y: number): number => kernel.expm1Scalar(y);
  const { rowPtr, colIdx, values } = shard.A;
  const n = shard.rows;
  const p = new Float64Array(n);
  const rowSigma = new Float64Array(n);
  const rowSoftplus = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let dot = 0;
    for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) dot += values[k] * x[colIdx[k]];
    const z = -shard.b[r] * dot;
    p[r] = z;
    if (z > 0) {
      const e = aExp(-z);
      rowSoftplus[r] = z + log1p(e);
      rowSigma[r] = 1 / (1 + e);
    } else {
      const e = aExp(z);
      rowSoftplus[r] = log1p(e);
      rowSigma[r] = e / (1 + e);
    }
  }
  const csc = toCsc(shard.A);
  for (let k = 0; k < csc.values.length; k++) csc.values[k] *= shard.b[csc.rowIdx[k]];
  const lambda = shard.lambda;
  for (let j = 0; j < shard.d; j++) {
    const delta = eta * v[j];
    if (delta === 0) {
      out[j] = 0;
      continue;
    }
    let sum = 0;
    for (let k = csc.colPtr[j]; k < csc.colPtr[j + 1]; k++) {
      const r = csc.rowIdx[k];
      const u = csc.values[k] * delta;
      if (u <= 1 && u >= -1) sum -= log1p(rowSigma[r] * aExpm1(u));
      else {
        const z = p[r] + u;
        sum += rowSoftplus[r] - (z > 0 ? z + log1p(aExp(-z)) : log1p(aExp(z)));
      }
    }
    const sq = delta * (2 * x[j] - delta);
    const y = x[j] - delta;
    const reg = shard.regulariser === 'l2' ? 0.5 * lambda * sq : (lambda * sq) / ((1 + x[j] * x[j]) * (1 + y * y));
    out[j] = sum * (1 / n) + reg;
  }
}

function points(d: number, seed: string): Float64Array[] {
  const rng = createRng(21, 'exact', seed);
  const pts = [new Float64Array(d), Float64Array.from({ length: d }, (_, j) => 0.1 * Math.sin(j + 1))];
  // Small, moderate and very large margins (σ → 0/1, exp(−|z|) below 2^-53 and, at 300, below the
  // SIMD exp's −708 fallback on long rows).
  for (const scale of [0.05, 1, 40, 300]) pts.push(Float64Array.from({ length: d }, () => scale * rng.normal()));
  return pts;
}

function checkShards(data: LabeledData, label: string, shardCounts: readonly number[]): void {
  for (const regulariser of ['l2', 'nonconvex'] as RegulariserKind[]) {
    for (const n of shardCounts) {
      const problem = new LogregProblem('p', data, 1e-3, regulariser, contiguousShards(data.X.rows, n), { kernels: 'wasm' });
      const d = problem.d;
      const g = new Float64Array(d);
      const expected = new Float64Array(d);
      const rng = createRng(4, 'exact-batch', label, regulariser, n);
      points(d, label).forEach((x, pi) => {
        problem.workers.slice(0, 3).forEach((shard, i) => {
          const at = `${label} ${regulariser} n=${n} worker ${i} point ${pi}`;
          const all = Int32Array.from({ length: shard.rows }, (_, r) => r);
          const reference = mirrorBatchGradient(shard, x, all, shard.rows, expected);
          assert.ok(sameBits(shard.gradient(x, g), reference), `${at}: loss`);
          assertSameArray(g, expected, `${at}: gradient`);
          g.fill(Number.NaN);
          shard.gradientOnly(x, g);
          assertSameArray(g, expected, `${at}: gradientOnly`);
          assert.ok(sameBits(shard.loss(x), mirrorLoss(shard, x)), `${at}: loss()`);
          // Minibatches, with repeated rows.
          const rows = new Int32Array(Math.min(64, shard.rows));
          for (let t = 0; t < rows.length; t++) rows[t] = rng.int(shard.rows);
          for (const count of [1, rows.length >> 1, rows.length]) {
            if (count < 1) continue;
            const batchReference = mirrorBatchGradient(shard, x, rows, count, expected);
            assert.ok(sameBits(shard.batchGradient(x, rows, count, g), batchReference), `${at}: batch ${count} loss`);
            assertSameArray(g, expected, `${at}: batch ${count} gradient`);
          }
        });
      });
    }
  }
}

test('wasm loss, gradient, gradientOnly and minibatch gradients equal the reference loop bit for bit (mushrooms, a9a, w8a, phishing, a1a)', () => {
  for (const name of ['mushrooms', 'a9a', 'w8a', 'phishing', 'a1a']) {
    const data = readDataset(name, name === 'w8a' || name === 'a9a' ? 12000 : Infinity);
    checkShards(data, name, [1, 3, 20]);
  }
});

test('the same on random sparse matrices: ragged, empty, repeated and unsorted columns, ties in values, one and many lengths', () => {
  const rng = createRng(8, 'exact-random');
  for (const shape of ['ragged', 'spread', 'spread-unsorted', 'uniform', 'unsorted', 'binary']) {
    // 'spread': few rows of very different lengths, so that the four rows the kernel sums side by
    // side differ in length by many entries (their sums go on past the shared part); sorted rows
    // of scattered lengths take the column sweep, unsorted ones the row sweep.
    const spread = shape.startsWith('spread');
    const rows = spread ? 23 : 203;
    const cols = 37;
    const rowPtr = [0];
    const colIdx: number[] = [];
    const values: number[] = [];
    for (let r = 0; r < rows; r++) {
      const len = shape === 'uniform' || shape === 'binary' ? 9 : spread ? rng.int(60) : rng.int(15); // ragged: 0..14, empty rows included
      const row = Array.from({ length: len }, () => rng.int(cols)); // repeats possible
      if (!shape.endsWith('unsorted')) row.sort((a, b) => a - b);
      for (const j of row) {
        colIdx.push(j);
        values.push(shape === 'binary' ? 1 : Math.round(rng.normal() * 4) / 4 || 0.5); // ties in values
      }
      rowPtr.push(colIdx.length);
    }
    const X: CsrMatrix = { rows, cols, rowPtr: Int32Array.from(rowPtr), colIdx: Int32Array.from(colIdx), values: Float64Array.from(values) };
    const b = Float64Array.from({ length: rows }, () => (rng.int(2) ? 1 : -1));
    checkShards({ X, b, labelValues: [-1, 1], source: shape }, shape, [1, 4]);
  }
});

test('wasm imp-a (coordinateDecrease) equals the reference loops bit for bit with the kernels\' exp, expm1 and log1p', () => {
  for (const name of ['mushrooms', 'a9a', 'w8a', 'phishing', 'a1a']) {
    const data = readDataset(name, 6000);
    for (const regulariser of ['l2', 'nonconvex'] as RegulariserKind[]) {
      const problem = new LogregProblem('p', data, 1e-3, regulariser, contiguousShards(data.X.rows, 3), { kernels: 'wasm' });
      const d = problem.d;
      const shard = problem.workers[1];
      const rng = createRng(6, 'exact-imp-a', name, regulariser);
      const out = new Float64Array(d);
      const expected = new Float64Array(d);
      for (const [pi, x] of points(d, name).slice(0, 4).entries()) {
        const v = new Float64Array(d);
        shard.gradient(x, v);
        for (let j = 0; j < d; j++) if (j % 9 === 4) v[j] = 0;
        // η with |u| ≤ 1 everywhere (the two-lane loop), mixed, and |u| > 1 (the direct differences).
        for (const eta of [1e-7, 0.5, 40, 1e4]) {
          for (const scale of [1, 60]) {
            const vs = Float64Array.from(v, (t) => t * scale + (t === 0 ? 0 : 1e-3 * rng.normal()));
            shard.coordinateDecrease!(x, vs, eta, out);
            mirrorCoordinateDecrease(shard, x, vs, eta, expected);
            assertSameArray(out, expected, `${name} ${regulariser} point ${pi} eta ${eta} scale ${scale}`);
          }
        }
      }
    }
  }
});

/** x with the given high and low 32-bit words. */
function fromWords(hi: number, lo: number): number {
  const u = new Uint32Array([lo >>> 0, hi >>> 0]);
  return new Float64Array(u.buffer)[0];
}

test('the two-lane log1p is AssemblyScript\'s Math.log1p bit for bit: dense sweeps, every reduction boundary, special values', () => {
  const check = (x: number): void => {
    const lane = kernel.log1pLane(x);
    const scalar = kernel.log1pScalar(x);
    if (!(Object.is(lane, scalar) || (Number.isNaN(lane) && Number.isNaN(scalar)))) assert.fail(`log1p(${x}): lane ${lane}, scalar ${scalar}`);
  };
  // σ·expm1(u) of imp-a lies in (−1, e − 1); exp(−|z|) of the loss in [0, 1].
  const steps = 400_000;
  for (let i = 0; i <= steps; i++) check(-1 + (3 * i) / steps);
  for (let i = 0; i <= steps; i++) check(i / steps);
  const rng = createRng(1, 'log1p-lane');
  for (let i = 0; i < 200_000; i++) check((rng.int(2) ? 1 : -1) * Math.pow(2, -1080 + rng.float() * 1140));
  // Around the branch points of musl's log1p (high words 0x3FDA827A, 0xBFD2BEC4, 0x3CA00000, 0xBFF00000, 2^53).
  for (const hi of [0x3fda827a, 0xbfd2bec4, 0x3ca00000, 0xbca00000, 0xbff00000, 0x43400000, 0x3fe6a09e, 0x3ff6a09e, 0x7fefffff, 0x00100000]) {
    for (let dh = -2; dh <= 2; dh++) for (const lo of [0, 1, 0x7fffffff, 0xffffffff]) check(fromWords(hi + dh, lo));
  }
  for (const x of [0, -0, 1, -1, -1 + 2 ** -53, 2 ** -53, -(2 ** -53), 2 ** -1074, -(2 ** -1074), 2 ** 53, 2 ** 54, 1e300, Infinity, -Infinity, Number.NaN, -2, -1e-300]) {
    check(x);
  }
});
