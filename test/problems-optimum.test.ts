import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logregSpec, logregNonconvexSpec } from '../src/problems/logreg.js';
import { solveOptimum } from '../src/problems/optimum.js';
import { cachedOptimum, optimumCachePath, type OptimumKey } from '../src/problems/optimum-cache.js';
import type { Problem } from '../src/problems/types.js';
import { readDataset, denseData, contiguousShards, allRows } from './problems-fixtures.js';

const softplus = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
const sigma = (z: number) => 1 / (1 + Math.exp(-z));

function gradNorm(problem: Problem, x: Float64Array): number {
  const g = new Float64Array(problem.d);
  problem.gradient(x, g);
  return Math.sqrt(g.reduce((s, v) => s + v * v, 0));
}

/** Root of a monotone increasing function on [lo, hi] by bisection to the last bit. */
function bisect(fn: (x: number) => number, lo: number, hi: number): number {
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (fn(mid) < 0) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

test('f* in one dimension with λ = 0: rows (1,+1),(1,+1),(1,−1) give σ(x*) = 2/3, x* = log 2, f* = (2/3)log(3/2) + (1/3)log 3', () => {
  const data = denseData([[1], [1], [1]], [1, 1, -1]);
  const problem = logregSpec.create(data, { shards: allRows(3), values: { l2: 0 } });
  const result = solveOptimum(problem)!;
  assert.ok(result.gradNorm <= 1e-10);
  assert.ok(Math.abs(result.x[0] - Math.log(2)) <= 1e-10);
  const fStar = (2 / 3) * Math.log(1.5) + (1 / 3) * Math.log(3);
  assert.ok(Math.abs(result.fStar - fStar) <= 1e-15 * fStar + 1e-16, `${result.fStar} vs ${fStar}`);
});

test('f* weights shards by 1/N_i: shards {+1} and {+1,−1} give f = (3/4)softplus(−x) + (1/4)softplus(x), x* = log 3', () => {
  const data = denseData([[1], [1], [1]], [1, 1, -1]);
  const problem = logregSpec.create(data, { shards: [Int32Array.from([0]), Int32Array.from([1, 2])], values: { l2: 0 } });
  const result = solveOptimum(problem)!;
  assert.ok(Math.abs(result.x[0] - Math.log(3)) <= 1e-10, `${result.x[0]}`);
  const fStar = 0.75 * softplus(-Math.log(3)) + 0.25 * softplus(Math.log(3));
  assert.ok(Math.abs(result.fStar - fStar) <= 1e-15);
});

test('f* in one dimension with λ = 0.3 matches bisection on f′(x) = −(2/3)σ(−2x) + (1/3)σ(x) + λx', () => {
  const data = denseData([[2], [2], [1]], [1, 1, -1]);
  const lambda = 0.3;
  const problem = logregSpec.create(data, { shards: allRows(3), values: { l2: lambda } });
  const derivative = (x: number) => -(2 / 3) * 2 * sigma(-2 * x) + (1 / 3) * sigma(x) + lambda * x;
  const xStar = bisect(derivative, -10, 10);
  const fStar = (2 / 3) * softplus(-2 * xStar) + (1 / 3) * softplus(xStar) + 0.5 * lambda * xStar * xStar;
  const result = solveOptimum(problem)!;
  assert.ok(Math.abs(result.x[0] - xStar) <= 1e-10, `${result.x[0]} vs ${xStar}`);
  assert.ok(Math.abs(result.fStar - fStar) <= 1e-15);
});

test('solveOptimum reaches ‖∇f‖ ≤ 1e-10 on mushrooms with λ = 1e-3 (1 and 20 workers), and f* is below nearby points', () => {
  const data = readDataset('mushrooms');
  for (const n of [1, 20]) {
    const problem = logregSpec.create(data, { shards: contiguousShards(data.X.rows, n) });
    const result = solveOptimum(problem)!;
    assert.ok(result.gradNorm <= 1e-10, `n=${n}: ${result.gradNorm}`);
    assert.ok(gradNorm(problem, result.x) <= 1e-10);
    assert.equal(problem.loss(result.x), result.fStar);
    const nearby = Float64Array.from(result.x, (v, j) => v + (j % 2 ? 1e-4 : -1e-4));
    assert.ok(problem.loss(nearby) > result.fStar);
  }
});

test('the L-BFGS fallback (problem without Hessian products) agrees with Newton-CG on f*', () => {
  const data = readDataset('phishing', 1500);
  const problem = logregSpec.create(data, { shards: contiguousShards(1500, 2), values: { l2: 1e-2 } });
  const plain: Problem = {
    name: problem.name,
    d: problem.d,
    workers: problem.workers,
    totalRows: problem.totalRows,
    convex: true,
    loss: (x) => problem.loss(x),
    gradient: (x, out) => problem.gradient(x, out),
    accuracy: (x) => problem.accuracy(x),
    smoothness: () => problem.smoothness(),
  };
  const newton = solveOptimum(problem)!;
  const quasi = solveOptimum(plain)!;
  assert.ok(quasi.gradNorm <= 1e-10);
  assert.ok(Math.abs(quasi.fStar - newton.fStar) <= 1e-14 * newton.fStar, `${quasi.fStar} vs ${newton.fStar}`);
});

test('non-convex problems have no f*: solveOptimum and cachedOptimum return undefined', () => {
  const data = readDataset('mushrooms', 100);
  const problem = logregNonconvexSpec.create(data, { shards: allRows(100) });
  assert.equal(solveOptimum(problem), undefined);
  assert.equal(cachedOptimum(problem, { datasetSha256: 'x', problem: 'logreg-nonconvex', l2: 0.1, split: 'iid', workers: 1, seed: 0 }, undefined), undefined);
});

test('an optimum not reached within the iteration budget is reported as an error, not returned as f*', () => {
  const data = readDataset('mushrooms', 500);
  const problem = logregSpec.create(data, { shards: allRows(500) });
  assert.throws(() => solveOptimum(problem, { maxIterations: 1 }), /‖∇f‖ = .* > 1e-10/);
});

test('cachedOptimum stores {fStar, gradNorm} atomically, reads it back, and ignores a corrupt file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcomp-optimum-'));
  try {
    const data = readDataset('mushrooms', 400);
    const problem = logregSpec.create(data, { shards: contiguousShards(400, 2) });
    const key: OptimumKey = { datasetSha256: 'abc', problem: 'logreg', l2: 1e-3, split: 'contiguous', workers: 2, seed: 0 };
    const first = cachedOptimum(problem, key, dir)!;
    assert.ok(first.gradNorm <= 1e-10);
    const path = optimumCachePath(key, dir);
    assert.equal(path.startsWith(join(dir, 'optimum')), true);
    assert.deepEqual(readdirSync(join(dir, 'optimum')), [path.slice(join(dir, 'optimum').length + 1)], 'no temp file left');
    const stored = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(stored.fStar, first.fStar);
    // a valid file is used as is (proved by planting a different value)
    writeFileSync(path, JSON.stringify({ ...stored, fStar: 42 }));
    assert.equal(cachedOptimum(problem, key, dir)!.fStar, 42);
    // another key maps to another file
    assert.notEqual(optimumCachePath({ ...key, seed: 1 }, dir), path);
    assert.notEqual(optimumCachePath({ ...key, l2: 1e-2 }, dir), path);
    // a corrupt file is recomputed and rewritten
    writeFileSync(path, '{"fStar": 0.1, "gradNo');
    assert.equal(cachedOptimum(problem, key, dir)!.fStar, first.fStar);
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).fStar, first.fStar);
    // without a cache directory the value is computed and nothing is written
    assert.equal(cachedOptimum(problem, key, undefined)!.fStar, first.fStar);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
