import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { OptionValues } from '../src/core/options.js';
import { createRng } from '../src/core/rng.js';
import { UsageError } from '../src/core/errors.js';
import type { LocalObjective } from '../src/problems/types.js';
import { logregSpec } from '../src/problems/logreg.js';
import type { CompressContext, CompressorOptions, CompressorSpec } from '../src/compressors/types.js';
import { importanceASpec, ImportanceACompressor } from '../src/compressors/importance-a.js';
import { importanceBSpec, ImportanceBCompressor } from '../src/compressors/importance-b.js';
import { importanceCSpec, ImportanceCCompressor } from '../src/compressors/importance-c.js';
import { contiguousShards, readDataset } from './problems-fixtures.js';

// ---------- data: the problems tests' small independent LIBSVM reader ----------

const mushrooms = readDataset('mushrooms');
const d = mushrooms.X.cols; // 112

/** Worker 0 of a 20-worker contiguous split of mushrooms (407 rows), logreg with λ = 1e-3. */
function mushroomsShard(): LocalObjective {
  const shards = contiguousShards(mushrooms.X.rows, 20);
  return logregSpec.create(mushrooms, { shards, values: { l2: 1e-3 } }).workers[0];
}

/** The same objective without its coordinate structure: forces imp-a's generic path (d loss evaluations). */
function withoutStructure(f: LocalObjective): LocalObjective & { lossCalls: number } {
  const wrapped = {
    d: f.d,
    rows: f.rows,
    lossCalls: 0,
    loss(x: Float64Array) {
      wrapped.lossCalls++;
      return f.loss(x);
    },
    gradient: (x: Float64Array, out: Float64Array) => f.gradient(x, out),
    batchGradient: (x: Float64Array, rows: Int32Array, count: number, out: Float64Array) => f.batchGradient(x, rows, count, out),
  };
  return wrapped;
}

const shard = mushroomsShard();

function normalVector(dim: number, sigma: number, seed: number): Float64Array {
  const rng = createRng(seed, 'test-importance');
  return Float64Array.from({ length: dim }, () => sigma * rng.normal());
}

function gradientAt(f: LocalObjective, x: Float64Array): Float64Array {
  const g = new Float64Array(f.d);
  f.gradient(x, g);
  return g;
}

function options(values: OptionValues, floatBits = 32): CompressorOptions {
  return { d, floatBits, rng: createRng(0, 'unused'), values };
}

/** Reference Top-k by a full sort: larger key first, then larger |secondary|, then smaller index; ascending output. */
function referenceTopK(keys: ArrayLike<number>, k: number, secondary?: ArrayLike<number>): number[] {
  const idx = Array.from({ length: keys.length }, (_, i) => i);
  idx.sort((a, b) => {
    if (keys[a] !== keys[b]) return keys[b] - keys[a];
    if (secondary && Math.abs(secondary[a]) !== Math.abs(secondary[b])) return Math.abs(secondary[b]) - Math.abs(secondary[a]);
    return a - b;
  });
  return idx.slice(0, k).sort((a, b) => a - b);
}

/** Gap between the k-th and (k+1)-th largest keys relative to the k-th: no near-tie at the boundary when large. */
function boundaryGap(keys: ArrayLike<number>, k: number): number {
  const s = Array.from(keys).sort((a, b) => b - a);
  return (s[k - 1] - s[k]) / Math.abs(s[k - 1]);
}

/** g(w) = f_i(x − η (w ⊙ v)), computed directly. */
function g(f: LocalObjective, x: Float64Array, v: Float64Array, eta: number, w: ArrayLike<number>): number {
  return f.loss(Float64Array.from(x, (xj, j) => xj - eta * w[j] * v[j]));
}

// ---------- imp-a ----------

/** Brute force: w_j = f_i(x) − f_i(x − η v_j e_j), each on a fresh copy of x. */
function bruteForceImportance(f: LocalObjective, x: Float64Array, v: Float64Array, eta: number): Float64Array {
  const f0 = f.loss(x);
  return Float64Array.from(v, (vj, j) => {
    const y = Float64Array.from(x);
    y[j] -= eta * vj;
    return f0 - f.loss(y);
  });
}

/**
 * Both f values carry rounding of order ε·|f|, so their difference is exact only to ~1e-15·|f|:
 * compare to 1e-12 relative, with an absolute floor of 1e-12·|f(x)|.
 */
function assertImportanceClose(actual: Float64Array, expected: Float64Array, f0: number): void {
  for (let j = 0; j < expected.length; j++) {
    const tol = 1e-12 * Math.max(Math.abs(expected[j]), Math.abs(f0));
    assert.ok(Math.abs(actual[j] - expected[j]) <= tol, `j=${j}: ${actual[j]} vs ${expected[j]}`);
  }
}

const aCases = [
  { label: 'v = ∇f_i(x)', v: (x: Float64Array) => gradientAt(shard, x) },
  { label: 'a random v with some zero entries', v: () => normalVector(d, 0.5, 7).map((t, j) => (j % 10 === 3 ? 0 : t)) },
];

for (const c of aCases) {
  test(`imp-a equals brute force (d evaluations of f_i) on a real mushrooms shard, via coordinateDecrease and via the generic path, ${c.label}`, () => {
    assert.ok(shard.coordinateDecrease, 'logreg provides the O(nnz) coordinateDecrease');
    const x = normalVector(d, 0.3, 1);
    const v = c.v(x);
    const eta = 0.5;
    const k = 15;
    const ctx: CompressContext = { x, objective: shard, stepSize: eta };
    const fast = importanceASpec.create(options({ k })) as ImportanceACompressor;
    const fastMsg = fast.compress(v, ctx);
    const fastW = Float64Array.from(fast.weights);
    const fastSupport = Array.from(fastMsg.indices.subarray(0, fastMsg.nnz));

    const plain = withoutStructure(shard);
    const generic = importanceASpec.create(options({ k })) as ImportanceACompressor;
    const genericMsg = generic.compress(v, { x, objective: plain, stepSize: eta });
    const nonzero = v.reduce((acc, t) => acc + (t !== 0 ? 1 : 0), 0);
    assert.equal(plain.lossCalls, 1 + nonzero, 'generic path: f_i(x) once, then one evaluation per coordinate with v_j ≠ 0 (importance exactly 0 otherwise)');

    const brute = bruteForceImportance(shard, x, v, eta);
    const f0 = shard.loss(x);
    assertImportanceClose(fastW, brute, f0);
    assertImportanceClose(generic.weights, brute, f0);
    assertImportanceClose(fastW, generic.weights, f0);

    assert.ok(boundaryGap(brute, k) > 1e-6, 'no near-tie at the k-th importance, so the support is well defined');
    const expected = referenceTopK(brute, k);
    assert.deepEqual(fastSupport, expected);
    assert.deepEqual(Array.from(genericMsg.indices.subarray(0, genericMsg.nnz)), expected);
    assert.deepEqual(Array.from(fastMsg.values), expected.map((j) => v[j]));
    assert.equal(fastMsg.bits, k * (32 + 7));
  });
}

test('imp-a ranks by signed importance: a coordinate whose step increases f_i is never preferred to one that decreases it', () => {
  // at x = 0 with v = −∇f_i(0) every single-coordinate step goes uphill (importance < 0), except v_j = 0 (importance 0)
  const x = new Float64Array(d);
  const v = gradientAt(shard, x).map((t) => -t);
  const zeros = v.reduce((acc, t, j) => (t === 0 ? [...acc, j] : acc), [] as number[]);
  assert.ok(zeros.length >= 1, 'mushrooms has a column with zero gradient at 0 on this shard');
  const comp = importanceASpec.create(options({ k: zeros.length })) as ImportanceACompressor;
  const msg = comp.compress(v, { x, objective: shard, stepSize: 0.5 });
  assert.deepEqual(Array.from(msg.indices), zeros);
  for (let j = 0; j < d; j++) if (v[j] !== 0) assert.ok(comp.weights[j] < 0, `w[${j}] = ${comp.weights[j]}`);
});

test('as η→0, imp-a importance = η v_j ∂_j f_i(x) + O(η²) = η v_j² when v = ∇f_i(x), so imp-a selects the Top-k support of |v| (checked where |v| has no near-tie at the k-th entry)', () => {
  const x = normalVector(d, 0.3, 2);
  const v = gradientAt(shard, x);
  const eta = 1e-6;
  const v2 = v.map((t) => t * t);
  let checked = 0;
  for (const k of [1, 5, 10, 20, 40, 80]) {
    if (boundaryGap(v2, k) < 1e-3) continue;
    checked++;
    const comp = importanceASpec.create(options({ k })) as ImportanceACompressor;
    const msg = comp.compress(v, { x, objective: shard, stepSize: eta });
    assert.deepEqual(Array.from(msg.indices), referenceTopK(v2, k), `k=${k}`);
    // and the first-order value itself: w_j / η → v_j², to O(η·L)
    for (let j = 0; j < d; j++) assert.ok(Math.abs(comp.weights[j] / eta - v2[j]) <= 1e-4 * Math.max(v2[j], 1e-6), `j=${j}`);
  }
  assert.ok(checked >= 4, 'enough k without a near-tie to make the check meaningful');
});

// ---------- imp-b ----------

for (const c of [
  { label: 'v = ∇f_i(x), η = 2', v: (x: Float64Array) => gradientAt(shard, x), eta: 2 },
  { label: 'a random v, η = 0.5', v: () => normalVector(d, 0.5, 11), eta: 0.5 },
]) {
  test(`imp-b weights stay on the simplex (sum 1 within 1e-12, all ≥ 0) and decrease g: g(w^M) < g(w⁰), ${c.label}`, () => {
    const x = normalVector(d, 0.3, 3);
    const v = c.v(x);
    const comp = importanceBSpec.create(options({ k: 10 })) as ImportanceBCompressor;
    comp.compress(v, { x, objective: shard, stepSize: c.eta });
    assert.equal(comp.lastStepsApplied, 20, 'default M = 20, all applied');
    const w = comp.weights;
    let sum = 0;
    for (let j = 0; j < d; j++) {
      assert.ok(w[j] >= 0 && Number.isFinite(w[j]), `w[${j}] = ${w[j]}`);
      sum += w[j];
    }
    assert.ok(Math.abs(sum - 1) <= 1e-12, `Σw = ${sum}`);
    const g0 = g(shard, x, v, c.eta, new Float64Array(d).fill(1 / d));
    const gM = g(shard, x, v, c.eta, w);
    assert.ok(gM < g0, `g(w^M) = ${gM} not below g(w⁰) = ${g0}`);
  });
}

/** f(y) = ½ Σ a_j (y_j − c_j)²: ∇f(y)_j = a_j (y_j − c_j), so one inner step is computable by hand. */
function quadratic(a: number[], c: number[]): LocalObjective {
  const loss = (y: Float64Array) => a.reduce((s, aj, j) => s + 0.5 * aj * (y[j] - c[j]) ** 2, 0);
  return {
    d: a.length,
    rows: 1,
    loss,
    gradient(y: Float64Array, out: Float64Array) {
      for (let j = 0; j < a.length; j++) out[j] = a[j] * (y[j] - c[j]);
      return loss(y);
    },
    batchGradient(y: Float64Array, _rows: Int32Array, _count: number, out: Float64Array) {
      return this.gradient(y, out);
    },
  };
}

test('imp-b performs the mirror-descent step of spec §3 exactly: w¹ ∝ w⁰·exp(−τ∇g(w⁰)) with τ = τ₀/‖∇g(w⁰)‖_∞ (hand-computed on a quadratic)', () => {
  const a = [1, 2, 0.5, 3], c = [1, -1, 2, 0];
  const f = quadratic(a, c);
  const x = Float64Array.from([0.5, 0.2, -0.3, 1]);
  const v = Float64Array.from([1, -2, 0.5, 3]);
  const eta = 0.1, tau0 = 0.7;
  // by hand: y = x − η w⁰ v, ∇g_j = −η v_j a_j (y_j − c_j)
  const w0 = [0.25, 0.25, 0.25, 0.25];
  const grad0 = w0.map((wj, j) => -eta * v[j] * a[j] * (x[j] - eta * wj * v[j] - c[j]));
  const tau = tau0 / Math.max(...grad0.map(Math.abs));
  const u = w0.map((wj, j) => wj * Math.exp(-tau * grad0[j]));
  const w1 = u.map((t) => t / u.reduce((s, q) => s + q, 0));
  const comp = importanceBSpec.create({ d: 4, floatBits: 32, rng: createRng(0, 'x'), values: { k: 2, inner_steps: 1, inner_step: tau0 } }) as ImportanceBCompressor;
  const msg = comp.compress(v, { x, objective: f, stepSize: eta });
  assert.ok(Math.abs(comp.lastTau - tau) <= 1e-15 * tau, `τ = ${comp.lastTau}, expected ${tau}`);
  for (let j = 0; j < 4; j++) assert.ok(Math.abs(comp.weights[j] - w1[j]) <= 1e-15, `w1[${j}]`);
  assert.deepEqual(Array.from(msg.indices), referenceTopK(w1, 2));
  assert.deepEqual(Array.from(msg.values), referenceTopK(w1, 2).map((j) => v[j]));
  // second step uses the same τ (fixed from w⁰) and the gradient at w¹
  const grad1 = w1.map((wj, j) => -eta * v[j] * a[j] * (x[j] - eta * wj * v[j] - c[j]));
  const u2 = w1.map((wj, j) => wj * Math.exp(-tau * grad1[j]));
  const w2 = u2.map((t) => t / u2.reduce((s, q) => s + q, 0));
  const comp2 = importanceBSpec.create({ d: 4, floatBits: 32, rng: createRng(0, 'x'), values: { k: 2, inner_steps: 2, inner_step: tau0 } }) as ImportanceBCompressor;
  comp2.compress(v, { x, objective: f, stepSize: eta });
  for (let j = 0; j < 4; j++) assert.ok(Math.abs(comp2.weights[j] - w2[j]) <= 1e-15, `w2[${j}]`);
});

test('imp-b stays finite on the simplex when τ₀ is so large that exp(−τ∇g) would overflow (log-domain update)', () => {
  const x = normalVector(d, 0.3, 4);
  const v = gradientAt(shard, x);
  // naive w·exp(τ₀·1) with τ₀ = 1e5 is Infinity, and Infinity/Infinity = NaN
  assert.equal(Math.exp(1e5), Infinity);
  const comp = importanceBSpec.create(options({ k: 5, inner_step: 1e5, inner_steps: 20 })) as ImportanceBCompressor;
  const msg = comp.compress(v, { x, objective: shard, stepSize: 0.5 });
  let sum = 0;
  for (let j = 0; j < d; j++) {
    assert.ok(Number.isFinite(comp.weights[j]) && comp.weights[j] >= 0, `w[${j}] = ${comp.weights[j]}`);
    assert.ok(!Number.isNaN(comp.logWeights[j]), `log w[${j}] is NaN`);
    sum += comp.weights[j];
  }
  assert.ok(Math.abs(sum - 1) <= 1e-12, `Σw = ${sum}`);
  for (const j of msg.indices) assert.ok(j >= 0 && j < d, `index ${j}`);
  assert.equal(new Set(msg.indices).size, 5);
});

test('as η→0, ∇g(w) ≈ −η v⊙∇f_i(x) = −η v² for v = ∇f_i(x), so each mirror step multiplies w_j by exp(τ η v_j²)/Z: imp-b weights are increasing in |v_j| and its support is the Top-k of |v| (checked where |v| has no near-tie at the k-th entry)', () => {
  const x = normalVector(d, 0.3, 2);
  const v = gradientAt(shard, x);
  const v2 = v.map((t) => t * t);
  let checked = 0;
  for (const k of [1, 5, 10, 20, 40, 80]) {
    if (boundaryGap(v2, k) < 1e-3) continue;
    checked++;
    const comp = importanceBSpec.create(options({ k, inner_steps: 50 })) as ImportanceBCompressor;
    const msg = comp.compress(v, { x, objective: shard, stepSize: 1e-8 });
    assert.deepEqual(Array.from(msg.indices), referenceTopK(v2, k), `k=${k}`);
    // monotone: log w_j − log w_l has the sign of v_j² − v_l² whenever they differ clearly
    const lw = comp.logWeights;
    const maxV2 = Math.max(...v2);
    for (let j = 0; j < d; j++) {
      for (let l = 0; l < d; l++) {
        if (v2[j] - v2[l] > 1e-6 * maxV2) assert.ok(lw[j] > lw[l], `j=${j} l=${l}`);
      }
    }
  }
  assert.ok(checked >= 4, `only ${checked} k without a near-tie`);
});

test('imp-b with ∇g(w⁰) = 0 (v = 0) keeps w = w⁰ = 1/d, sets τ = 0 and selects the k smallest indices', () => {
  const x = normalVector(d, 0.3, 5);
  const comp = importanceBSpec.create(options({ k: 3 })) as ImportanceBCompressor;
  const msg = comp.compress(new Float64Array(d), { x, objective: shard, stepSize: 1 });
  assert.equal(comp.lastTau, 0);
  assert.equal(comp.lastStepsApplied, 0);
  for (const wj of comp.weights) assert.equal(wj, 1 / d);
  assert.deepEqual(Array.from(msg.indices), [0, 1, 2]);
  assert.deepEqual(Array.from(msg.values), [0, 0, 0]);
});

// ---------- imp-c ----------

for (const c of [
  { label: 'v = ∇f_i(x), η = 2 (overshooting step)', v: (x: Float64Array) => gradientAt(shard, x), eta: 2 },
  { label: 'a random v, η = 0.5', v: () => normalVector(d, 0.5, 13), eta: 0.5 },
]) {
  test(`imp-c weights stay in the box [0,1] and decrease g: g(w^M) < g(w⁰ = 1), ${c.label}`, () => {
    const x = normalVector(d, 0.3, 3);
    const v = c.v(x);
    const comp = importanceCSpec.create(options({ k: 10 })) as ImportanceCCompressor;
    comp.compress(v, { x, objective: shard, stepSize: c.eta });
    assert.equal(comp.lastStepsApplied, 20);
    const w = comp.weights;
    let moved = 0;
    for (let j = 0; j < d; j++) {
      assert.ok(w[j] >= 0 && w[j] <= 1, `w[${j}] = ${w[j]}`);
      if (w[j] < 1) moved++;
    }
    assert.ok(moved > 0, 'the box constraint is not trivially satisfied at w⁰');
    const g0 = g(shard, x, v, c.eta, new Float64Array(d).fill(1));
    const gM = g(shard, x, v, c.eta, w);
    assert.ok(gM < g0, `g(w^M) = ${gM} not below g(w⁰) = ${g0}`);
  });
}

test('imp-c performs the projected-gradient step of spec §3 exactly: w¹ = clip(1 − τ∇g(1), 0, 1) with τ = τ₀/‖∇g(1)‖_∞ (hand-computed on a quadratic)', () => {
  const a = [1, 2, 0.5, 3], c = [1, -1, 2, 0];
  const f = quadratic(a, c);
  const x = Float64Array.from([0.5, 0.2, -0.3, 1]);
  const v = Float64Array.from([1, -2, 0.5, 3]);
  const eta = 0.4, tau0 = 2;
  const clip = (t: number) => Math.min(1, Math.max(0, t));
  const gradAt = (w: number[]) => w.map((wj, j) => -eta * v[j] * a[j] * (x[j] - eta * wj * v[j] - c[j]));
  const grad0 = gradAt([1, 1, 1, 1]);
  const tau = tau0 / Math.max(...grad0.map(Math.abs));
  const w1 = grad0.map((gj) => clip(1 - tau * gj));
  const grad1 = gradAt(w1);
  const w2 = w1.map((wj, j) => clip(wj - tau * grad1[j]));
  assert.ok(w2.some((t) => t > 0 && t < 1), 'an interior weight, so the step size matters');
  for (const [steps, expected] of [[1, w1], [2, w2]] as const) {
    const comp = importanceCSpec.create({ d: 4, floatBits: 32, rng: createRng(0, 'x'), values: { k: 2, inner_steps: steps, inner_step: tau0 } }) as ImportanceCCompressor;
    comp.compress(v, { x, objective: f, stepSize: eta });
    assert.ok(Math.abs(comp.lastTau - tau) <= 1e-15 * tau, `τ = ${comp.lastTau}, expected ${tau}`);
    for (let j = 0; j < 4; j++) assert.ok(Math.abs(comp.weights[j] - expected[j]) <= 1e-15, `M=${steps} w[${j}]`);
  }
});

test('imp-c breaks ties in w by the larger |v_j| (then the smaller index), and --imp-c-scale sends w_j·v_j', () => {
  // f = ½‖y − c‖², x = 0, η = 1, so y = −w⊙v and ∂g/∂w_j = v_j² w_j + v_j c_j: coordinates 0..3 have
  // ∂g/∂w_j ≤ 0 at w = 1 (they stay at the bound 1), coordinate 4 has its minimiser at w_4 = 0.5
  const f = quadratic([1, 1, 1, 1, 1], [-1, -2, 3, 4, -0.5]);
  const x = new Float64Array(5);
  const v = Float64Array.from([1, 2, -3, -3, 1]);
  const ctx = { x, objective: f, stepSize: 1 };
  const comp = importanceCSpec.create({ d: 5, floatBits: 32, rng: createRng(0, 'x'), values: { k: 2, inner_steps: 50 } }) as ImportanceCCompressor;
  const msg = comp.compress(v, ctx);
  assert.deepEqual(Array.from(comp.weights.subarray(0, 4)), [1, 1, 1, 1]);
  assert.ok(comp.weights[4] < 1, `w[4] = ${comp.weights[4]}`);
  // four ties at 1: |v| = 1, 2, 3, 3 → the two with |v| = 3, i.e. indices 2 and 3
  assert.deepEqual(Array.from(msg.indices), [2, 3]);
  assert.deepEqual(Array.from(msg.values), [-3, -3]);
  const comp3 = importanceCSpec.create({ d: 5, floatBits: 32, rng: createRng(0, 'x'), values: { k: 3, inner_steps: 50 } }) as ImportanceCCompressor;
  assert.deepEqual(Array.from(comp3.compress(v, ctx).indices), [1, 2, 3]);
  // k = 5 with scaling: every value is w_j·v_j
  const scaled = importanceCSpec.create({ d: 5, floatBits: 32, rng: createRng(0, 'x'), values: { k: 5, inner_steps: 50, imp_c_scale: true } }) as ImportanceCCompressor;
  const sm = scaled.compress(v, ctx);
  assert.deepEqual(Array.from(sm.indices), [0, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(sm.values), Array.from(v, (vj, j) => scaled.weights[j] * vj));
  assert.ok(Math.abs(sm.values[4] - 0.5) < 1e-6, 'w_4 converged to its minimiser 0.5');
});

test('as η→0, ∇g(1) ≈ −η v⊙∇f_i(x) = −η v² ≤ 0 for v = ∇f_i(x), so the projected step from w⁰ = 1 is clipped back to 1: every imp-c weight stays exactly 1, and the tie rule (larger |v_j|, then smaller index) makes the support exactly the Top-k of |v| with topk\'s tie rule', () => {
  const x = normalVector(d, 0.3, 2);
  const v = gradientAt(shard, x);
  for (const k of [1, 5, 10, 20, 40, 80, d]) {
    const comp = importanceCSpec.create(options({ k, inner_steps: 50 })) as ImportanceCCompressor;
    const msg = comp.compress(v, { x, objective: shard, stepSize: 1e-8 });
    for (let j = 0; j < d; j++) assert.equal(comp.weights[j], 1, `w[${j}]`);
    assert.deepEqual(Array.from(msg.indices), referenceTopK(v.map(Math.abs), k), `k=${k}`);
  }
});

test('imp-c with ∇g(w⁰) = 0 (v = 0) keeps every weight at 1 with τ = 0', () => {
  const comp = importanceCSpec.create(options({ k: 4 })) as ImportanceCCompressor;
  const msg = comp.compress(new Float64Array(d), { x: normalVector(d, 0.3, 6), objective: shard, stepSize: 1 });
  assert.equal(comp.lastTau, 0);
  for (const wj of comp.weights) assert.equal(wj, 1);
  assert.deepEqual(Array.from(msg.indices), [0, 1, 2, 3]);
});

// ---------- common contract ----------

const specs: [CompressorSpec, string[]][] = [
  [importanceASpec, ['k']],
  [importanceBSpec, ['k', 'inner_steps', 'inner_step']],
  [importanceCSpec, ['k', 'inner_steps', 'inner_step', 'imp_c_scale']],
];

test('the importance compressors declare k, their inner-solver options, deterministic, objective-dependent, topk bits and no contraction constant', () => {
  for (const [spec, params] of specs) {
    assert.deepEqual(spec.options.map((o) => o.name), params, spec.name);
    assert.equal(spec.options.find((o) => o.name === 'k')?.required, true);
    assert.equal(spec.needsObjective, true);
    assert.equal(spec.randomized, false);
    assert.equal(spec.bitsFormula, 'k·(F + I)');
    assert.equal(spec.contractionAlpha, undefined);
    assert.equal(spec.unbiasedZeta, undefined);
  }
  assert.deepEqual(specs.map(([s]) => s.name), ['imp-a', 'imp-b', 'imp-c']);
});

test('each importance compressor reuses one preallocated message of k ascending pairs costing k·(F + ⌈log2 d⌉) bits', () => {
  const x = normalVector(d, 0.3, 8);
  const v = gradientAt(shard, x);
  for (const [spec] of specs) {
    const comp = spec.create(options({ k: 9 }, 16));
    const first = comp.compress(v, { x, objective: shard, stepSize: 0.5 });
    assert.equal(first.format, 'sparse');
    assert.equal(first.nnz, 9);
    assert.equal(first.bits, 9 * (16 + 7)); // ⌈log2 112⌉ = 7
    for (let t = 1; t < 9; t++) assert.ok(first.indices[t - 1] < first.indices[t], `${spec.name}: indices ascending`);
    const second = comp.compress(normalVector(d, 1, 9), { x, objective: shard, stepSize: 0.5 });
    assert.equal(second, first, `${spec.name} returns the same message object`);
  }
  // index bits at powers of two: d = 128 → 7, d = 129 → 8
  assert.equal(importanceASpec.create({ d: 128, floatBits: 32, rng: createRng(0, 'x'), values: { k: 2 } }).compress(new Float64Array(128), { x: new Float64Array(128), objective: quadratic(new Array(128).fill(1), new Array(128).fill(0)), stepSize: 1 }).bits, 2 * 39);
  assert.equal(importanceASpec.create({ d: 129, floatBits: 32, rng: createRng(0, 'x'), values: { k: 2 } }).compress(new Float64Array(129), { x: new Float64Array(129), objective: quadratic(new Array(129).fill(1), new Array(129).fill(0)), stepSize: 1 }).bits, 2 * 40);
});

test('bad --k, --inner-steps and --inner-step values are usage errors naming the option and what it accepts', () => {
  const bad: [CompressorSpec, OptionValues, RegExp][] = [];
  for (const [spec] of specs) {
    bad.push([spec, {}, /--k.*1 ≤ k ≤ d = 112/]);
    for (const k of [0, d + 1, 2.5, NaN]) bad.push([spec, { k }, /--k.*1 ≤ k ≤ d = 112/]);
  }
  for (const spec of [importanceBSpec, importanceCSpec]) {
    for (const innerSteps of [0, -3, 2.5, NaN]) bad.push([spec, { k: 3, inner_steps: innerSteps }, /--inner-steps.*integer ≥ 1/]);
    for (const innerStep of [0, -1, NaN, Infinity]) bad.push([spec, { k: 3, inner_step: innerStep }, /--inner-step:.*> 0/]);
  }
  for (const [spec, extra, message] of bad) {
    assert.throws(() => spec.create(options(extra)), (e: unknown) => e instanceof UsageError && message.test(e.message), `${spec.name} ${JSON.stringify(extra)}`);
  }
  // the boundary values are accepted
  assert.doesNotThrow(() => importanceBSpec.create(options({ k: d, inner_steps: 1, inner_step: 1e-9 })));
  assert.doesNotThrow(() => importanceCSpec.create(options({ k: 1 })));
});
