import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { logregSpec, logregNonconvexSpec } from '../src/problems/logreg.js';
import { gramLambdaMax, averagedGramLambdaMax, symmetricLambdaMax } from '../src/problems/smoothness.js';
import type { CsrMatrix } from '../src/data/types.js';
import { readDataset, denseData, contiguousShards } from './problems-fixtures.js';

function denseGram(A: CsrMatrix, weight = 1, into?: Matrix): Matrix {
  const G = into ?? new Matrix(A.cols, A.cols);
  for (let r = 0; r < A.rows; r++) {
    for (let p = A.rowPtr[r]; p < A.rowPtr[r + 1]; p++) {
      for (let q = A.rowPtr[r]; q < A.rowPtr[r + 1]; q++) {
        const i = A.colIdx[p];
        const j = A.colIdx[q];
        G.set(i, j, G.get(i, j) + weight * A.values[p] * A.values[q]);
      }
    }
  }
  return G;
}

function denseLambdaMax(G: Matrix): number {
  return Math.max(...new EigenvalueDecomposition(G, { assumeSymmetric: true }).realEigenvalues);
}

test('L, L_i and L̃ on orthogonal rows with unequal shards equal the hand-computed eigenvalues (λ and 2λ curvature terms)', () => {
  // shard 1: a = (3,0,0) → A₁ᵀA₁ = diag(9,0,0), N₁ = 1
  // shard 2: a = (0,1,1), (0,1,−1) → A₂ᵀA₂ = diag(0,2,2), N₂ = 2
  const data = denseData([[3, 0, 0], [0, 1, 1], [0, 1, -1]], [1, -1, 1]);
  const shards = [Int32Array.from([0]), Int32Array.from([1, 2])];
  const lambda = 0.01;
  for (const [spec, curvature] of [[logregSpec, lambda], [logregNonconvexSpec, 2 * lambda]] as const) {
    const s = spec.create(data, { shards, values: { l2: lambda } }).smoothness()!;
    const L1 = 9 / 4 + curvature;
    const L2 = 2 / (4 * 2) + curvature;
    // (1/2)(diag(9,0,0)/1 + diag(0,2,2)/2) = diag(4.5, 0.5, 0.5)
    const L = 4.5 / 4 + curvature;
    assert.ok(Math.abs(s.Li[0] - L1) <= 1e-12 * L1, `${s.Li[0]} vs ${L1}`);
    assert.ok(Math.abs(s.Li[1] - L2) <= 1e-12 * L2, `${s.Li[1]} vs ${L2}`);
    assert.ok(Math.abs(s.L - L) <= 1e-12 * L, `${s.L} vs ${L}`);
    const Lt = Math.sqrt((L1 * L1 + L2 * L2) / 2);
    assert.ok(Math.abs(s.Ltilde - Lt) <= 1e-12 * Lt);
  }
});

test('λ_max is found even when the all-ones vector is an eigenvector of the smaller eigenvalue', () => {
  // AᵀA = [[5,−3],[−3,5]]: eigenvalues 8 on (1,−1) and 2 on (1,1)
  const A = denseData([[2, -2], [1, 1]], [1, 1]).X;
  assert.ok(Math.abs(gramLambdaMax(A) - 8) <= 1e-12 * 8);
});

test('λ_max of a zero matrix is 0 and of a rank-one Gram matrix is ‖a‖²', () => {
  assert.equal(gramLambdaMax(denseData([[0, 0, 0]], [1]).X), 0);
  const a = [0.5, -2, 0, 1.25, 3];
  const expected = a.reduce((s, v) => s + v * v, 0);
  assert.ok(Math.abs(gramLambdaMax(denseData([a], [1]).X) - expected) <= 1e-13 * expected);
});

for (const name of ['mushrooms', 'phishing', 'a1a']) {
  test(`Lanczos λ_max matches a dense symmetric eigen-solve on ${name} shards to 1e-9 relative`, () => {
    const data = readDataset(name, 3000);
    const problem = logregSpec.create(data, { shards: contiguousShards(data.X.rows, 3) });
    const shards = problem.workers.map((w) => w.A);
    for (const A of shards) {
      const dense = denseLambdaMax(denseGram(A));
      const fast = gramLambdaMax(A);
      assert.ok(Math.abs(fast - dense) <= 1e-9 * dense, `${fast} vs ${dense}`);
    }
    const avg = new Matrix(problem.d, problem.d);
    for (const A of shards) denseGram(A, 1 / (shards.length * A.rows), avg);
    const dense = denseLambdaMax(avg);
    const fast = averagedGramLambdaMax(shards);
    assert.ok(Math.abs(fast - dense) <= 1e-9 * dense, `${fast} vs ${dense}`);
  });
}

test('smoothness is computed once per problem and with one worker L equals L_1', () => {
  const data = readDataset('mushrooms', 500);
  const problem = logregSpec.create(data, { shards: contiguousShards(500, 1) });
  const first = problem.smoothness()!;
  assert.equal(problem.smoothness(), first);
  assert.equal(first.L, first.Li[0]);
  assert.equal(first.Ltilde, first.L);
});

test('symmetricLambdaMax stops on its residual: a diagonal operator with a tiny spectral gap is still resolved to 1e-9', () => {
  const d = 400;
  const diag = Float64Array.from({ length: d }, (_, j) => 1 + j / d); // top gap 1/400 relative
  const result = symmetricLambdaMax((v, out) => {
    for (let j = 0; j < d; j++) out[j] = diag[j] * v[j];
  }, d);
  const top = diag[d - 1];
  assert.ok(Math.abs(result.value - top) <= 1e-9 * top, `${result.value} vs ${top} after ${result.steps} steps`);
});
