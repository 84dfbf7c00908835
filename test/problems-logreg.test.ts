import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/core/rng.js';
import { UsageError, DcompError } from '../src/core/errors.js';
import { logregSpec, logregNonconvexSpec, type LogregProblem } from '../src/problems/logreg.js';
import type { LabeledData } from '../src/data/types.js';
import { readDataset, denseData, contiguousShards, allRows } from './problems-fixtures.js';

const specs = [logregSpec, logregNonconvexSpec];
const mushrooms300 = readDataset('mushrooms', 300);
const phishing300 = readDataset('phishing', 300);

function randomPoint(d: number, scale: number, stream: string): Float64Array {
  const rng = createRng(7, stream);
  return Float64Array.from({ length: d }, () => scale * rng.normal());
}

function maxAbs(v: Float64Array): number {
  let m = 0;
  for (const a of v) m = Math.max(m, Math.abs(a));
  return m;
}

/** f_i written straight from the spec formula (moderate margins only), independent of the implementation. */
function naiveLoss(data: LabeledData, rows: Int32Array, x: Float64Array, lambda: number, nonconvex: boolean): number {
  let s = 0;
  for (const r of rows) {
    let dot = 0;
    for (let k = data.X.rowPtr[r]; k < data.X.rowPtr[r + 1]; k++) dot += data.X.values[k] * x[data.X.colIdx[k]];
    s += Math.log(1 + Math.exp(-data.b[r] * dot));
  }
  let reg = 0;
  for (const xj of x) reg += nonconvex ? (lambda * xj * xj) / (1 + xj * xj) : 0.5 * lambda * xj * xj;
  return s / rows.length + reg;
}

for (const spec of specs) {
  for (const [name, data] of [['mushrooms', mushrooms300], ['phishing', phishing300]] as const) {
    test(`${spec.name}: gradient matches central finite differences of the loss on a ${name} shard`, () => {
      const problem = spec.create(data, { shards: allRows(data.X.rows) });
      const worker = problem.workers[0];
      const x = randomPoint(problem.d, 0.3, `fd-${spec.name}-${name}`);
      const g = new Float64Array(problem.d);
      const returned = worker.gradient(x, g);
      assert.equal(returned, worker.loss(x), 'gradient returns the loss of the same pass');
      const h = 1e-6;
      const fd = new Float64Array(problem.d);
      const probe = Float64Array.from(x);
      for (let j = 0; j < problem.d; j++) {
        probe[j] = x[j] + h;
        const up = worker.loss(probe);
        probe[j] = x[j] - h;
        const down = worker.loss(probe);
        probe[j] = x[j];
        fd[j] = (up - down) / (2 * h);
      }
      const err = maxAbs(Float64Array.from(fd, (v, j) => v - g[j]));
      assert.ok(err <= 1e-6 * maxAbs(g), `max |fd − g| = ${err}, ‖g‖∞ = ${maxAbs(g)}`);
    });
  }

  test(`${spec.name}: loss equals the spec formula evaluated directly`, () => {
    const problem = spec.create(mushrooms300, { shards: allRows(300), values: { l2: 0.05 } });
    const x = randomPoint(problem.d, 0.2, 'formula');
    const expected = naiveLoss(mushrooms300, allRows(300)[0], x, 0.05, spec.name === 'logreg-nonconvex');
    assert.ok(Math.abs(problem.loss(x) - expected) <= 1e-13 * expected);
  });

  test(`${spec.name}: batchGradient over all local rows equals gradient (same order: bit-identical; shuffled: to rounding)`, () => {
    const problem = spec.create(mushrooms300, { shards: contiguousShards(300, 3) });
    const worker = problem.workers[1];
    const x = randomPoint(problem.d, 0.3, 'batch');
    const g = new Float64Array(problem.d);
    const gb = new Float64Array(problem.d);
    const f = worker.gradient(x, g);
    const ordered = Int32Array.from({ length: worker.rows }, (_, i) => i);
    assert.equal(worker.batchGradient(x, ordered, worker.rows, gb), f);
    assert.deepEqual(gb, g);
    const shuffled = Int32Array.from(ordered).reverse();
    const fb = worker.batchGradient(x, shuffled, worker.rows, gb);
    assert.ok(Math.abs(fb - f) <= 1e-14 * f);
    for (let j = 0; j < problem.d; j++) assert.ok(Math.abs(gb[j] - g[j]) <= 1e-14 * maxAbs(g));
  });

  test(`${spec.name}: batchGradient on a subset equals the full gradient of a worker owning just those rows`, () => {
    const problem = spec.create(mushrooms300, { shards: allRows(300) });
    const local = Int32Array.from([5, 17, 42, 99, 250, 251, 0]);
    const single = spec.create(mushrooms300, { shards: [local] });
    const x = randomPoint(problem.d, 0.3, 'subset');
    const gb = new Float64Array(problem.d);
    const g = new Float64Array(problem.d);
    const fb = problem.workers[0].batchGradient(x, local, local.length, gb);
    const f = single.gradient(x, g);
    assert.ok(Math.abs(fb - f) <= 1e-15 * f);
    for (let j = 0; j < problem.d; j++) assert.ok(Math.abs(gb[j] - g[j]) <= 1e-15 * maxAbs(g));
  });

  test(`${spec.name}: huge margins (entries 1e4) give finite loss and gradient equal to their asymptotic values`, () => {
    const data = mushrooms300;
    const lambda = 1e-3;
    const problem = spec.create(data, { shards: allRows(data.X.rows), values: { l2: lambda } });
    const d = problem.d;
    // all entries positive: every aᵀx ≥ 1e4 on this non-negative data, so every |margin| is huge
    const x = Float64Array.from({ length: d }, (_, j) => 1e4 * (1 + j / d));
    const g = new Float64Array(d);
    const f = problem.gradient(x, g);
    assert.ok(Number.isFinite(f));
    assert.ok(g.every(Number.isFinite));
    // softplus(−m) → max(0, −m); −b σ(−m) a → −b a when m → −∞ and 0 when m → +∞
    let loss = 0;
    const expectedGrad = new Float64Array(d);
    for (let r = 0; r < data.X.rows; r++) {
      let dot = 0;
      for (let k = data.X.rowPtr[r]; k < data.X.rowPtr[r + 1]; k++) dot += data.X.values[k] * x[data.X.colIdx[k]];
      const m = data.b[r] * dot;
      if (m < 0) {
        loss += -m;
        for (let k = data.X.rowPtr[r]; k < data.X.rowPtr[r + 1]; k++) {
          expectedGrad[data.X.colIdx[k]] += (-data.b[r] * data.X.values[k]) / data.X.rows;
        }
      }
    }
    loss /= data.X.rows;
    for (let j = 0; j < d; j++) {
      const s = 1 + x[j] * x[j];
      loss += spec.name === 'logreg' ? 0.5 * lambda * x[j] * x[j] : (lambda * x[j] * x[j]) / s;
      expectedGrad[j] += spec.name === 'logreg' ? lambda * x[j] : (2 * lambda * x[j]) / (s * s);
    }
    assert.ok(Math.abs(f - loss) <= 1e-12 * loss, `${f} vs ${loss}`);
    for (let j = 0; j < d; j++) assert.ok(Math.abs(g[j] - expectedGrad[j]) <= 1e-12 * maxAbs(expectedGrad));
    const neg = Float64Array.from(x, (v) => -v);
    assert.ok(Number.isFinite(problem.loss(neg)));
  });

  test(`${spec.name}: f is the mean of the workers' f_i (mean of shard means) with unequal shard sizes`, () => {
    const shards = [Int32Array.from([0, 1, 2]), Int32Array.from([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), Int32Array.from([13, 14])];
    const problem = spec.create(mushrooms300, { shards, values: { l2: 0.01 } });
    const x = randomPoint(problem.d, 0.5, 'mean');
    const nonconvex = spec.name === 'logreg-nonconvex';
    const perShard = shards.map((rows) => naiveLoss(mushrooms300, rows, x, 0.01, nonconvex));
    const mean = perShard.reduce((a, b) => a + b, 0) / 3;
    const pooled = naiveLoss(mushrooms300, Int32Array.from({ length: 15 }, (_, i) => i), x, 0.01, nonconvex);
    assert.ok(Math.abs(mean - pooled) > 1e-3, 'the test data distinguishes mean-of-means from the pooled mean');
    assert.ok(Math.abs(problem.loss(x) - mean) <= 1e-14 * mean);
    assert.equal(problem.totalRows, 15);
    const g = new Float64Array(problem.d);
    assert.ok(Math.abs(problem.gradient(x, g) - mean) <= 1e-14 * mean);
    const expected = new Float64Array(problem.d);
    const gi = new Float64Array(problem.d);
    for (const w of problem.workers) {
      w.gradient(x, gi);
      for (let j = 0; j < problem.d; j++) expected[j] += gi[j] / 3;
    }
    for (let j = 0; j < problem.d; j++) assert.ok(Math.abs(g[j] - expected[j]) <= 1e-15 * maxAbs(expected));
  });
}

test('accuracy counts sign(aᵀx) = b with sign(0) = +1, on training rows or on a test set with fewer features', () => {
  const data = denseData([[1, 0], [2, 1], [-1, 0], [0, 0]], [1, -1, -1, 1], 2);
  const problem = logregSpec.create(data, { shards: [Int32Array.from([0, 1]), Int32Array.from([2, 3])] });
  // x = 0: every prediction is sign(0) = +1, so the accuracy is the share of +1 labels
  assert.equal(problem.accuracy(new Float64Array(2)), 0.5);
  // x = (1, −3): aᵀx = 1, −1, −1, 0 → predictions +1, −1, −1, +1: all correct
  assert.equal(problem.accuracy(Float64Array.from([1, -3])), 1);
  const testSet = denseData([[1], [-2], [3]], [1, 1, -1], 1);
  assert.equal(problem.accuracy(Float64Array.from([1, -3]), testSet), 1 / 3);
  const wide = denseData([[1, 0, 1]], [1], 3);
  assert.throws(() => problem.accuracy(Float64Array.from([1, -3]), wide), DcompError);
});

test('create rejects a negative or non-finite λ naming --l2, and uses the spec defaults 1e-3 and 0.1', () => {
  assert.throws(() => logregSpec.create(mushrooms300, { shards: allRows(300), values: { l2: -1 } }), UsageError);
  assert.throws(() => logregNonconvexSpec.create(mushrooms300, { shards: allRows(300), values: { l2: Number.NaN } }), /--l2/);
  assert.equal(logregSpec.options.find((o) => o.name === 'l2')?.default, 1e-3);
  assert.equal(logregNonconvexSpec.options.find((o) => o.name === 'l2')?.default, 0.1);
  const p = logregSpec.create(mushrooms300, { shards: allRows(300) }) as LogregProblem;
  const q = logregNonconvexSpec.create(mushrooms300, { shards: allRows(300) }) as LogregProblem;
  assert.equal(p.lambda, 1e-3);
  assert.equal(q.lambda, 0.1);
  assert.equal(p.convex, true);
  assert.equal(q.convex, false);
});
