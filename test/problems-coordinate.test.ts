import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/core/rng.js';
import { logregSpec, logregNonconvexSpec } from '../src/problems/logreg.js';
import { readDataset, contiguousShards } from './problems-fixtures.js';

const specs = [logregSpec, logregNonconvexSpec];

function seeded(d: number, scale: number, stream: string): Float64Array {
  const rng = createRng(3, stream);
  return Float64Array.from({ length: d }, () => scale * rng.normal());
}

for (const spec of specs) {
  for (const name of ['mushrooms', 'a1a', 'phishing']) {
    test(`${spec.name}: coordinateDecrease equals d brute-force loss evaluations f_i(x) − f_i(x − ηv_j e_j) on a ${name} shard`, () => {
      const data = readDataset(name, 2000);
      const problem = spec.create(data, { shards: contiguousShards(data.X.rows, 4), values: { l2: 0.01 } });
      const worker = problem.workers[2];
      const d = problem.d;
      const x = seeded(d, 0.5, `x-${name}`);
      const v = new Float64Array(d);
      worker.gradient(x, v);
      // mix large and small moves; a few exact zeros; eta large enough that |u| > 1 occurs too
      const rng = createRng(3, 'v', name);
      for (let j = 0; j < d; j++) v[j] = j % 11 === 0 ? 0 : v[j] * 50 + rng.normal() * 3;
      const eta = 0.7;
      const fast = new Float64Array(d);
      worker.coordinateDecrease!(x, v, eta, fast);
      const f0 = worker.loss(x);
      const probe = Float64Array.from(x);
      let scale = 0;
      const brute = new Float64Array(d);
      for (let j = 0; j < d; j++) {
        probe[j] = x[j] - eta * v[j];
        brute[j] = f0 - worker.loss(probe);
        probe[j] = x[j];
        scale = Math.max(scale, Math.abs(brute[j]));
      }
      assert.ok(scale > 1e-3, 'the moves change the loss noticeably');
      for (let j = 0; j < d; j++) {
        // brute force itself carries the rounding of two losses of size f0 subtracted
        assert.ok(Math.abs(fast[j] - brute[j]) <= 1e-12 * Math.max(scale, f0), `j=${j}: ${fast[j]} vs ${brute[j]}`);
        if (v[j] === 0) assert.equal(fast[j], 0);
      }
    });
  }

  test(`${spec.name}: coordinateDecrease keeps full relative accuracy for tiny moves, where subtracting two losses cannot (first-order term δ·∂_j f)`, () => {
    const data = readDataset('mushrooms', 1000);
    const problem = spec.create(data, { shards: contiguousShards(data.X.rows, 1), values: { l2: 0.01 } });
    const worker = problem.workers[0];
    const d = problem.d;
    const x = seeded(d, 0.3, 'tiny');
    const g = new Float64Array(d);
    worker.gradient(x, g);
    const v = Float64Array.from(g, (gj) => Math.sign(gj));
    // f(x) − f(x − δe_j) = δ ∂_j f − δ² ∂_jj f / 2 + …; at δ = 1e-12 the second term is ~1e-12 of the first
    const eta = 1e-12;
    const out = new Float64Array(d);
    worker.coordinateDecrease!(x, v, eta, out);
    for (let j = 0; j < d; j++) {
      const firstOrder = eta * v[j] * g[j];
      if (Math.abs(g[j]) < 1e-6) continue;
      assert.ok(Math.abs(out[j] - firstOrder) <= 1e-9 * Math.abs(firstOrder), `j=${j}: ${out[j]} vs ${firstOrder}`);
    }
  });
}

test('coordinateDecrease on a worker gives zero data change for a column that no row of the shard uses', () => {
  const data = readDataset('a1a', 200);
  // widen to d + 2 columns that no row touches: only the regulariser changes there
  const wide = { ...data, X: { ...data.X, cols: data.X.cols + 2 } };
  const lambda = 0.3;
  const problem = logregSpec.create(wide, { shards: contiguousShards(200, 1), values: { l2: lambda } });
  const d = problem.d;
  const x = seeded(d, 1, 'wide');
  const v = seeded(d, 1, 'wide-v');
  const out = new Float64Array(d);
  problem.workers[0].coordinateDecrease!(x, v, 0.5, out);
  for (const j of [d - 2, d - 1]) {
    const y = x[j] - 0.5 * v[j];
    const expected = 0.5 * lambda * (x[j] * x[j] - y * y);
    assert.ok(Math.abs(out[j] - expected) <= 1e-14 * lambda * (x[j] * x[j] + y * y), `${out[j]} vs ${expected}`);
  }
});
