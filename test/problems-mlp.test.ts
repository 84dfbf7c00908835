import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/core/rng.js';
import { DcompError } from '../src/core/errors.js';
import type { LabeledData } from '../src/data/types.js';
import { mlpWasmAvailable, mlpWasmUnavailableReason } from '../src/backends/mlp-wasm.js';
import { mlpGradientFlops, mlpInitialize, mlpLayout, mlpSpec, MLP_OPTIONS, MlpShard, type MlpKernelChoice } from '../src/problems/mlp.js';
import { initialPoint } from '../src/problems/initial-point.js';
import { gdSpec } from '../src/methods/gd.js';
import { allRows, contiguousShards, denseData, readDataset } from './problems-fixtures.js';
import { firstBitDifference, makeEnv, run } from './methods-fixtures.js';

const mushrooms = readDataset('mushrooms');

function create(data: LabeledData, hidden: number[], options: { l2?: number; shards?: Int32Array[]; kernels?: MlpKernelChoice } = {}) {
  return mlpSpec.create(data, { shards: options.shards ?? allRows(data.X.rows), values: { hidden, l2: options.l2 ?? 0 }, kernels: options.kernels });
}

/** Rows of mixed-sign, non-binary values with some empty rows, seeded (exercises the general loops). */
function randomSparse(rows: number, cols: number, seed: number, density = 0.3): LabeledData {
  const rng = createRng(seed, 'test-mlp-data');
  const dense = Array.from({ length: rows }, (_, r) =>
    Array.from({ length: cols }, () => (r % 7 === 3 ? 0 : rng.float() < density ? rng.normal() : 0)));
  const labels = Array.from({ length: rows }, () => (rng.float() < 0.5 ? -1 : 1));
  return denseData(dense, labels, cols);
}

function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('the kernels are built and in use (npm run build compiles mlp-kernels.wasm)', () => {
  assert.ok(mlpWasmAvailable(), mlpWasmUnavailableReason());
  assert.equal(create(mushrooms, [4]).workers[0].kernels, 'wasm');
  assert.equal(create(mushrooms, [4], { kernels: 'js' }).workers[0].kernels, 'js');
});

test('layout (spec §2): layer by layer, weights out × in row-major then bias; 112 → 32 → 1 has d = 3649', () => {
  const l = mlpLayout(112, [32]);
  assert.equal(l.d, 112 * 32 + 32 + 32 + 1);
  assert.equal(l.d, 3649);
  assert.deepEqual(l.sizes, [112, 32, 1]);
  assert.deepEqual(l.weightOffset, [0, 3616]);
  assert.deepEqual(l.biasOffset, [3584, 3648]);
  const deep = mlpLayout(112, [64, 32]);
  assert.equal(deep.d, 112 * 64 + 64 + 64 * 32 + 32 + 32 + 1);
  assert.deepEqual(deep.weightOffset, [0, 7232, 9312]);
  assert.deepEqual(deep.biasOffset, [7168, 9280, 9344]);
  // d of the problem is the parameter count, not the feature count
  const p = create(mushrooms, [32]);
  assert.equal(mushrooms.X.cols, 112);
  assert.equal(p.d, 3649);
  assert.equal(p.workers[0].d, 3649);
});

test('layout: weight (u, j) of the first layer is x[u·inputs + j]: moving it moves exactly the rows with feature j through unit u', () => {
  // 3 inputs, 2 hidden units; all weights zero but w(1, 2) and the output weight of unit 1
  const data = denseData([[1, 0, 0], [0, 0, 2], [0, 1, 0]], [1, -1, 1]);
  const p = create(data, [2], { kernels: 'js' });
  const x = new Float64Array(p.d);
  const l = mlpLayout(3, [2]);
  x[l.weightOffset[0] + 1 * 3 + 2] = 0.5; // unit 1, input 2
  x[l.weightOffset[1] + 1] = 3; // output weight of unit 1
  x[l.biasOffset[1]] = 0.25; // output bias
  const logits = new Float64Array(3);
  p.workers[0].logits(data.X, x, logits);
  // row 1 has input 2 = 2: hidden unit 1 = 1, logit = 3·1 + 0.25; the other rows see only the bias
  assert.deepEqual([...logits], [0.25, 3.25, 0.25]);
});

test('initialisation (spec §2): He N(0, 2/fan_in) hidden weights, N(0, 1/fan_in) output weights, zero biases', () => {
  const l = mlpLayout(112, [64, 32]);
  const x = new Float64Array(l.d).fill(Number.NaN);
  mlpInitialize(l, createRng(0, 'init'), x);
  const stats = (from: number, count: number) => {
    let s = 0;
    let q = 0;
    for (let t = 0; t < count; t++) {
      s += x[from + t];
      q += x[from + t] ** 2;
    }
    return { mean: s / count, variance: q / count };
  };
  const first = stats(l.weightOffset[0], 112 * 64);
  const second = stats(l.weightOffset[1], 64 * 32);
  const output = stats(l.weightOffset[2], 32);
  // 7168 and 2048 draws: the sample variance is within ~5 standard errors (√(2/n)·σ²) of σ²
  assert.ok(Math.abs(first.variance / (2 / 112) - 1) < 5 * Math.sqrt(2 / 7168), `first layer variance ${first.variance}`);
  assert.ok(Math.abs(second.variance / (2 / 64) - 1) < 5 * Math.sqrt(2 / 2048), `second layer variance ${second.variance}`);
  assert.ok(Math.abs(output.variance / (1 / 32) - 1) < 5 * Math.sqrt(2 / 32), `output variance ${output.variance}`);
  assert.ok(Math.abs(first.mean) < 5 * Math.sqrt(2 / 112 / 7168));
  for (let l2 = 0; l2 < 3; l2++) {
    for (let u = 0; u < l.sizes[l2 + 1]; u++) assert.equal(Object.is(x[l.biasOffset[l2] + u], 0), true, 'biases are +0');
  }
  assert.ok(x.every(Number.isFinite), 'every entry written');
});

test('initialisation is a deterministic function of the seed, through the problem and initialPoint', () => {
  const p = create(mushrooms, [16]);
  const a = initialPoint(p, 7);
  const b = initialPoint(p, 7);
  assert.ok(Number.isNaN(firstBitDifference(a, b)));
  assert.notDeepEqual(a, initialPoint(p, 8));
  const direct = new Float64Array(p.d);
  mlpInitialize(p.layout, createRng(7, 'init'), direct);
  assert.ok(Number.isNaN(firstBitDifference(a, direct)), 'initialPoint uses the stream (seed, "init")');
});

test('the spec declares hidden (default 32) and l2 (default 0); no smoothness, not convex', () => {
  const byName = new Map(MLP_OPTIONS.map((o) => [o.name, o]));
  assert.deepEqual(byName.get('hidden')?.default, [32]);
  assert.equal(byName.get('l2')?.default, 0);
  assert.deepEqual(byName.get('hidden')?.type.fromText('64,32'), [64, 32]);
  assert.equal(byName.get('hidden')?.type.fromText('0'), undefined);
  const p = mlpSpec.create(mushrooms, { shards: allRows(mushrooms.X.rows) });
  assert.equal(p.d, 3649, 'defaults: --hidden 32');
  assert.equal(p.lambda, 0, 'defaults: --l2 0');
  assert.equal(p.smoothness(), undefined);
  assert.equal(p.convex, false);
  assert.equal(mlpSpec.convex, false);
});

test('wasm kernel = JS reference bit for bit: loss, gradient, gradientOnly, minibatches, accuracy (binary and general values, odd widths)', () => {
  const cases: [string, LabeledData, number[], number][] = [
    ['mushrooms', readDataset('mushrooms', 600), [32], 0],
    ['mushrooms', readDataset('mushrooms', 600), [64, 32], 1e-3],
    ['mushrooms', readDataset('mushrooms', 600), [5, 3, 7], 0],
    ['random', randomSparse(97, 13, 1), [3], 0.1],
    ['random', randomSparse(97, 13, 2), [4, 3], 0],
    ['phishing', readDataset('phishing', 400), [9], 0],
  ];
  for (const [name, data, hidden, l2] of cases) {
    const shards = contiguousShards(data.X.rows, 3);
    const pw = create(data, hidden, { l2, shards });
    const pj = create(data, hidden, { l2, shards, kernels: 'js' });
    for (const seed of [0, 1]) {
      const x = initialPoint(pw, seed);
      // random biases too, so that no unit is trivially zero
      for (let j = 0; j < x.length; j++) if (x[j] === 0) x[j] = 0.1 * Math.sin(j + seed);
      const label = `${name} ${hidden} λ=${l2} seed ${seed}`;
      for (let i = 0; i < 3; i++) {
        const w = pw.workers[i];
        const r = pj.workers[i];
        const gw = new Float64Array(pw.d);
        const gr = new Float64Array(pw.d);
        const lw = w.gradient(x, gw);
        const lr = r.gradient(x, gr);
        assert.ok(Object.is(lw, lr), `${label}: loss ${lw} vs ${lr}`);
        assert.ok(Number.isNaN(firstBitDifference(gw, gr)), `${label}: gradient differs at ${firstBitDifference(gw, gr)}`);
        assert.ok(Object.is(w.loss(x), lr), `${label}: loss()`);
        const go = new Float64Array(pw.d);
        w.gradientOnly(x, go);
        assert.ok(Number.isNaN(firstBitDifference(go, gr)), `${label}: gradientOnly`);
        const rows = Int32Array.from([2, 0, 5, 5, 1].filter((k) => k < w.rows));
        const bw = new Float64Array(pw.d);
        const br = new Float64Array(pw.d);
        assert.ok(Object.is(w.batchGradient(x, rows, rows.length, bw), r.batchGradient(x, rows, rows.length, br)), `${label}: batch loss`);
        assert.ok(Number.isNaN(firstBitDifference(bw, br)), `${label}: batch gradient`);
        assert.ok(maxAbs(gw) > 0, `${label}: a non-trivial gradient`);
      }
      assert.equal(pw.accuracy(x), pj.accuracy(x), `${label}: accuracy`);
      assert.equal(pw.accuracy(x, data), pw.accuracy(x), `${label}: accuracy on the same rows as a test set`);
    }
  }
});

test('a minibatch of all rows in order is bit for bit the full gradient; minibatch rows are checked', () => {
  const data = readDataset('mushrooms', 300);
  for (const kernels of ['wasm', 'js'] as const) {
    const p = create(data, [6, 4], { kernels, l2: 0.01 });
    const w = p.workers[0];
    const x = initialPoint(p, 3);
    const full = new Float64Array(p.d);
    const batch = new Float64Array(p.d);
    const lf = w.gradient(x, full);
    const lb = w.batchGradient(x, Int32Array.from({ length: w.rows }, (_, r) => r), w.rows, batch);
    assert.ok(Object.is(lf, lb));
    assert.ok(Number.isNaN(firstBitDifference(full, batch)), kernels);
    assert.throws(() => w.batchGradient(x, Int32Array.from([0, 300]), 2, batch), RangeError);
    assert.throws(() => w.batchGradient(x, Int32Array.from([0]), 2, batch), DcompError);
    assert.throws(() => w.gradient(new Float64Array(p.d - 1), full), RangeError);
  }
});

/** The generic importance-(a) path: d evaluations of f_i. */
function bruteDecrease(w: MlpShard, x: Float64Array, v: Float64Array, eta: number): Float64Array {
  const out = new Float64Array(x.length);
  const f0 = w.loss(x);
  const trial = Float64Array.from(x);
  for (let j = 0; j < x.length; j++) {
    trial[j] = x[j] - eta * v[j];
    out[j] = f0 - w.loss(trial);
    trial[j] = x[j];
  }
  return out;
}

test('imp-a coordinateDecrease equals f_i(x) − f_i(x − η v_j e_j) by d loss evaluations (1, 2 and 3 hidden layers)', () => {
  const cases: [string, LabeledData, number[], number][] = [
    ['mushrooms', readDataset('mushrooms', 400), [8], 0],
    ['mushrooms', readDataset('mushrooms', 400), [8], 0.05],
    ['mushrooms', readDataset('mushrooms', 400), [6, 5], 0],
    ['mushrooms', readDataset('mushrooms', 400), [4, 3, 3], 0.01],
    ['random', randomSparse(80, 9, 4, 0.5), [5], 0],
    ['random', randomSparse(80, 9, 5, 0.5), [4, 3], 0],
  ];
  for (const [name, data, hidden, l2] of cases) {
    const p = create(data, hidden, { l2, shards: contiguousShards(data.X.rows, 2) });
    const pj = create(data, hidden, { l2, shards: contiguousShards(data.X.rows, 2), kernels: 'js' });
    const x = initialPoint(p, 2);
    for (let j = 0; j < x.length; j++) if (x[j] === 0) x[j] = 0.05 * Math.cos(j);
    const w = p.workers[1];
    const v = new Float64Array(p.d);
    w.gradient(x, v);
    v[3] = 0; // a zero entry has importance exactly 0
    // small steps (the |u| ≤ 1 branch) and large ones (ReLUs switch, direct differences)
    for (const eta of [2, 40]) {
      const label = `${name} ${hidden} λ=${l2} η=${eta}`;
      const fast = new Float64Array(p.d);
      w.coordinateDecrease(x, v, eta, fast);
      const brute = bruteDecrease(w, x, v, eta);
      const scale = maxAbs(brute);
      assert.ok(scale > 1e-3, `${label}: decreases of a resolvable size (${scale})`);
      assert.ok(maxDiff(fast, brute) <= 1e-12 * scale, `${label}: max difference ${maxDiff(fast, brute)} vs scale ${scale}`);
      assert.ok(Object.is(fast[3], 0), `${label}: v_j = 0 gives exactly 0`);
      const reference = new Float64Array(p.d);
      pj.workers[1].coordinateDecrease(x, v, eta, reference);
      assert.ok(maxDiff(fast, reference) <= 1e-14 * scale, `${label}: wasm vs JS loop ${maxDiff(fast, reference)}`);
    }
  }
});

test('imp-a keeps full relative accuracy where d loss evaluations cannot: δ = 1e-12 against the first-order term', () => {
  const data = readDataset('mushrooms', 500);
  const p = create(data, [8]);
  const w = p.workers[0];
  const x = initialPoint(p, 4);
  const g = new Float64Array(p.d);
  w.gradient(x, g);
  const eta = 1e-12;
  const out = new Float64Array(p.d);
  w.coordinateDecrease(x, g, eta, out);
  // f(x) − f(x − ηg_j e_j) = η g_j² + O(η²): relative error ~1e-12 · (curvature / g_j²)
  let checked = 0;
  for (let j = 0; j < p.d; j++) {
    const first = eta * g[j] * g[j];
    if (first < 1e-20) continue;
    assert.ok(Math.abs(out[j] - first) <= 1e-6 * first, `j=${j}: ${out[j]} vs ${first}`);
    checked++;
  }
  assert.ok(checked > p.d / 4, `${checked} coordinates checked`);
});

test('accuracy (spec §2): z ≥ 0 predicts +1; a test set may be narrower than the training set but not wider', () => {
  const data = readDataset('mushrooms', 200);
  const p = create(data, [4]);
  // x = 0: every logit is 0 → predicted +1 → accuracy is the share of +1 labels
  const positives = data.b.filter((b) => b > 0).length / data.b.length;
  assert.equal(p.accuracy(new Float64Array(p.d)), positives);
  const narrow = denseData([[1, 0, 1], [0, 1, 0]], [1, -1]);
  assert.equal(p.accuracy(new Float64Array(p.d), narrow), 0.5);
  const wide = denseData([[1, 0, 1]], [1], p.inputs + 1);
  const message = `inline: has ${p.inputs + 1} features but the network has ${p.inputs} inputs; align them with --features ${p.inputs + 1}`;
  assert.throws(() => p.accuracy(new Float64Array(p.d), wide), (e: unknown) => e instanceof DcompError && e.message === message);
});

test('loss and gradient are finite and stable for huge logits (softplus from the logit)', () => {
  const data = readDataset('mushrooms', 100);
  for (const kernels of ['wasm', 'js'] as const) {
    const p = create(data, [3], { kernels });
    const x = initialPoint(p, 0);
    for (let j = 0; j < x.length; j++) x[j] *= 1e4;
    const g = new Float64Array(p.d);
    const f = p.gradient(x, g);
    assert.ok(Number.isFinite(f) && f > 0, `${kernels}: f = ${f}`);
    assert.ok(g.every(Number.isFinite), kernels);
    // recomputed from the logits (|logit| ~ 1e4, where a naive log(1 + e^z) overflows)
    const logits = new Float64Array(data.X.rows);
    p.workers[0].logits(data.X, x, logits);
    assert.ok(maxAbs(logits) > 1000);
    let expected = 0;
    for (let r = 0; r < data.X.rows; r++) {
      const m = -data.b[r] * logits[r];
      expected += Math.max(0, m) + Math.log1p(Math.exp(-Math.abs(m)));
    }
    assert.ok(Math.abs(f - expected / data.X.rows) <= 1e-12 * f, `${kernels}: ${f} vs ${expected / data.X.rows}`);
  }
});

test('FLOP count of a full gradient: 4·nnz·h₁ + 6·N·Σ dense layer products', () => {
  assert.equal(mlpGradientFlops(mlpLayout(112, [32]), 8124, 170604), 4 * 170604 * 32 + 6 * 8124 * 32);
  assert.equal(mlpGradientFlops(mlpLayout(112, [64, 32]), 8124, 170604), 4 * 170604 * 64 + 6 * 8124 * (64 * 32 + 32));
});

test('a network fits XOR (not linearly separable) to 100% training accuracy with gd', () => {
  // sparse XOR in two features, each point repeated with a small offset in a third feature
  const rows: number[][] = [];
  const labels: number[] = [];
  for (const [a, c, y] of [[0, 0, -1], [1, 1, -1], [1, 0, 1], [0, 1, 1]]) {
    for (const e of [0, 0.1]) {
      rows.push([a, c, e]);
      labels.push(y);
    }
  }
  const data = denseData(rows, labels, 3);
  const p = create(data, [8]);
  const x0 = initialPoint(p, 0);
  const { xs } = run(gdSpec, makeEnv(p, { stepSize: 0.5 }), x0, 3000);
  const last = xs[xs.length - 1];
  assert.equal(p.accuracy(last), 1, `accuracy ${p.accuracy(last)}, loss ${p.loss(last)}`);
  assert.ok(p.loss(last) < 0.05, `loss ${p.loss(last)}`);
});
