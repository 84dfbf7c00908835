import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import { createRng } from '../src/core/rng.js';
import { UsageError } from '../src/core/errors.js';
import type { LocalObjective } from '../src/problems/types.js';
import type { CompressContext, Compressor, CompressorSpec, WireMessage } from '../src/compressors/types.js';
import { TopKSelector, sortIndicesAscending } from '../src/compressors/select.js';
import { addScaledInto, decodeInto, denseBits, indexBits, sparseBits } from '../src/compressors/wire.js';
import { identitySpec } from '../src/compressors/identity.js';
import { topkSpec } from '../src/compressors/topk.js';
import { randkSpec } from '../src/compressors/randk.js';
import { brandkSpec } from '../src/compressors/brandk.js';
import { adaptiveSpec } from '../src/compressors/adaptive.js';

// The basic compressors ignore the context; a stub keeps the calls well-typed.
const noObjective: LocalObjective = {
  d: 0,
  rows: 0,
  loss: () => 0,
  gradient: () => 0,
  batchGradient: () => 0,
};
const ctx: CompressContext = { x: new Float64Array(0), objective: noObjective, stepSize: 1 };

function make(spec: CompressorSpec, d: number, k?: number, seed = 0, floatBits = 32): Compressor {
  return spec.create({ d, floatBits, rng: createRng(seed, 'test', spec.name), values: { k: k } });
}

function dense(msg: WireMessage, d: number): number[] {
  const out = new Float64Array(d);
  decodeInto(msg, out);
  return Array.from(out);
}

// ---------------------------------------------------------------- selection

/** The spec's order by brute force: sort all indices, take k, list them ascending. */
function bruteTopK(keys: readonly number[], k: number, byAbs: boolean, secondary?: readonly number[]): number[] {
  const rank = (v: number) => (Number.isNaN(v) ? -Infinity : v);
  const key = (i: number) => rank(byAbs ? Math.abs(keys[i]) : keys[i]);
  const sec = (i: number) => rank(Math.abs(secondary![i]));
  const order = keys.map((_, i) => i).sort((a, b) => {
    if (key(a) !== key(b)) return key(a) > key(b) ? -1 : 1;
    if (secondary && sec(a) !== sec(b)) return sec(a) > sec(b) ? -1 : 1;
    return a - b;
  });
  return order.slice(0, Math.max(0, Math.min(k, keys.length))).sort((a, b) => a - b);
}

function runSelector(selector: TopKSelector, keys: readonly number[], k: number, byAbs: boolean, secondary?: readonly number[]): number[] {
  const out = new Int32Array(Math.max(0, Math.min(k, keys.length)));
  selector.select(Float64Array.from(keys), keys.length, k, out, byAbs, secondary ? Float64Array.from(secondary) : undefined);
  return Array.from(out);
}

test('top-k keeps the largest magnitude and breaks ties by the smaller index: [1, -3, 3, 2] with k = 1 keeps index 1', () => {
  const c = make(topkSpec, 4, 1);
  const msg = c.compress(Float64Array.of(1, -3, 3, 2), ctx);
  assert.equal(msg.format, 'sparse');
  assert.equal(msg.nnz, 1);
  assert.deepEqual([msg.indices[0], msg.values[0]], [1, -3]);
  assert.deepEqual(dense(make(topkSpec, 4, 2).compress(Float64Array.of(1, -3, 3, 2), ctx), 4), [0, -3, 3, 0]);
  assert.deepEqual(dense(make(topkSpec, 4, 3).compress(Float64Array.of(1, -3, 3, 2), ctx), 4), [0, -3, 3, 2]);
  // all equal magnitudes: the smallest indices win
  assert.deepEqual(dense(make(topkSpec, 5, 2).compress(Float64Array.of(-1, 1, -1, 1, -1), ctx), 5), [-1, 1, 0, 0, 0]);
});

test('top-k with k = d returns x itself', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 30 }), (x) => {
      const v = Float64Array.from(x);
      assert.deepEqual(dense(make(topkSpec, x.length, x.length).compress(v, ctx), x.length), Array.from(v));
    }),
    { numRuns: 100, seed: 11 },
  );
});

test('TopKSelector agrees with a brute-force sort on small arrays full of ties, NaN, ±0 and ±∞, with and without a secondary key', () => {
  const value = fc.constantFrom(0, -0, 1, -1, 2, -2, 0.5, Infinity, -Infinity, Number.NaN);
  const selector = new TopKSelector(64);
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 64 }).chain((n) =>
        fc.record({
          keys: fc.array(fc.oneof(value, fc.double()), { minLength: n, maxLength: n }),
          secondary: fc.option(fc.array(value, { minLength: n, maxLength: n }), { nil: undefined }),
          k: fc.integer({ min: 0, max: n + 1 }),
          byAbs: fc.boolean(),
        }),
      ),
      ({ keys, secondary, k, byAbs }) => {
        assert.deepEqual(runSelector(selector, keys, k, byAbs, secondary), bruteTopK(keys, k, byAbs, secondary));
      },
    ),
    { numRuns: 2000, seed: 12 },
  );
});

test('TopKSelector agrees with a brute-force sort on large arrays (sampling rounds), including heavy ties and many NaN', () => {
  const n = 30000;
  const selector = new TopKSelector(n);
  const rng = createRng(5, 'select-large');
  const cases: Array<[string, () => number]> = [
    ['gaussian', () => rng.normal()],
    ['few distinct values', () => rng.int(5) - 2],
    ['mostly NaN', () => (rng.float() < 0.8 ? Number.NaN : rng.normal())],
    ['mostly zero', () => (rng.float() < 0.95 ? 0 : rng.normal())],
  ];
  for (const [label, draw] of cases) {
    const keys = Array.from({ length: n }, draw);
    const secondary = Array.from({ length: n }, () => rng.int(3));
    for (const k of [1, 7, 300, 15000, 29999]) {
      for (const byAbs of [true, false]) {
        assert.deepEqual(runSelector(selector, keys, k, byAbs), bruteTopK(keys, k, byAbs), `${label} k=${k} byAbs=${byAbs}`);
      }
      assert.deepEqual(runSelector(selector, keys, k, true, secondary), bruteTopK(keys, k, true, secondary), `${label} k=${k} secondary`);
    }
  }
});

test('TopKSelector defeats ordered and organ-pipe inputs (no quadratic blow-up) and stays correct', () => {
  const n = 200000;
  const selector = new TopKSelector(n);
  const out = new Int32Array(n);
  const inputs: Array<[string, Float64Array]> = [
    ['ascending', Float64Array.from({ length: n }, (_, i) => i)],
    ['descending', Float64Array.from({ length: n }, (_, i) => n - i)],
    ['organ pipe', Float64Array.from({ length: n }, (_, i) => Math.min(i, n - i))],
    ['all equal', new Float64Array(n).fill(3)],
  ];
  for (const [label, keys] of inputs) {
    const k = n / 4;
    const started = performance.now();
    selector.select(keys, n, k, out);
    const ms = performance.now() - started;
    assert.deepEqual(Array.from(out.subarray(0, k)), bruteTopK(Array.from(keys), k, true), label);
    assert.ok(ms < 2000, `${label}: ${ms} ms for n = ${n}`);
  }
});

test('TopKSelector reused across calls of different lengths keeps no state from earlier calls', () => {
  const selector = new TopKSelector(20000);
  const rng = createRng(9, 'select-reuse');
  for (const n of [20000, 5, 12000, 1, 9000, 20000]) {
    const keys = Array.from({ length: n }, () => rng.int(50) - 25);
    const k = 1 + rng.int(n);
    assert.deepEqual(runSelector(selector, keys, k, true), bruteTopK(keys, k, true), `n=${n} k=${k}`);
  }
});

test('sortIndicesAscending sorts in place like Array.prototype.sort', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 200 }), (xs) => {
      const a = Int32Array.from(xs);
      sortIndicesAscending(a, a.length);
      assert.deepEqual(Array.from(a), [...xs].sort((p, q) => p - q));
    }),
    { numRuns: 300, seed: 13 },
  );
});

// ---------------------------------------------------------------- wire helpers

test('indexBits is ⌈log2 d⌉, with 0 bits for d = 1', () => {
  const table: Array<[number, number]> = [[1, 0], [2, 1], [3, 2], [4, 2], [5, 3], [112, 7], [1024, 10], [1025, 11], [1e6, 20], [2 ** 30, 30], [2 ** 30 + 1, 31]];
  for (const [d, bits] of table) assert.equal(indexBits(d), bits, `d=${d}`);
  assert.equal(sparseBits(10, 1000, 32), 10 * (32 + 10));
  assert.equal(sparseBits(3, 1, 64), 3 * 64);
  assert.equal(denseBits(112, 32), 3584);
});

test('decodeInto zeroes the output before writing a sparse message, and addScaledInto adds scale·C(x)', () => {
  const sparse: WireMessage = { format: 'sparse', nnz: 2, indices: Int32Array.of(4, 1, 0), values: Float64Array.of(2, -3, 99), bits: 0 };
  const out = new Float64Array(5).fill(7);
  decodeInto(sparse, out);
  assert.deepEqual(Array.from(out), [0, -3, 0, 0, 2]);
  addScaledInto(sparse, out, 0.5);
  assert.deepEqual(Array.from(out), [0, -4.5, 0, 0, 3]);
  const denseMsg: WireMessage = { format: 'dense', nnz: 3, indices: new Int32Array(0), values: Float64Array.of(1, 2, 3), bits: 0 };
  const acc = Float64Array.of(1, 1, 1);
  addScaledInto(denseMsg, acc, -2);
  assert.deepEqual(Array.from(acc), [-1, -3, -5]);
  decodeInto(denseMsg, acc);
  assert.deepEqual(Array.from(acc), [1, 2, 3]);
});

// ---------------------------------------------------------------- identity and validation

test('identity sends a dense copy of x (not an alias) at d·F bits', () => {
  const c = make(identitySpec, 4, undefined, 0, 64);
  const v = Float64Array.of(1, -2, 0, 3.5);
  const msg = c.compress(v, ctx);
  v[0] = 100;
  assert.equal(msg.format, 'dense');
  assert.equal(msg.bits, 4 * 64);
  assert.deepEqual(dense(msg, 4), [1, -2, 0, 3.5]);
});

test('each sparsifier rejects k outside [1, d] naming --k and the accepted range', () => {
  for (const spec of [topkSpec, randkSpec, brandkSpec, adaptiveSpec]) {
    for (const k of [undefined, 0, 11, 1.5, Number.NaN]) {
      assert.throws(
        () => make(spec, 10, k),
        (err: unknown) => err instanceof UsageError && err.exitCode === 2 && err.message.includes('--k') && err.message.includes('1 ≤ k ≤ d = 10'),
        `${spec.name} k=${k}`,
      );
    }
    assert.doesNotThrow(() => make(spec, 10, 10));
  }
});

test('known class constants follow seed 000 Lemmas 5–8', () => {
  const d = 10;
  const k = 2;
  assert.deepEqual(randkSpec.knownClasses!(d, k), { U: { zeta: 5 } });
  assert.equal(randkSpec.unbiasedZeta!(d, k), 5);
  const sparsifierClasses = { B1: { alpha: 0.2, beta: 1 }, B2: { gamma: 0.2, beta: 1 }, B3: { delta: 5 } };
  assert.deepEqual(brandkSpec.knownClasses!(d, k), sparsifierClasses);
  assert.deepEqual(topkSpec.knownClasses!(d, k), sparsifierClasses);
  assert.equal(topkSpec.contractionAlpha!(d, k), 0.2);
  assert.equal(brandkSpec.contractionAlpha!(d, k), 0.2);
  assert.deepEqual(adaptiveSpec.knownClasses!(d, 1), { B1: { alpha: 0.1, beta: 1 }, B2: { gamma: 0.1, beta: 1 }, B3: { delta: 10 } });
  assert.deepEqual(adaptiveSpec.knownClasses!(d, 2), {});
  assert.equal(identitySpec.contractionAlpha!(d, d), 1);
});

// ---------------------------------------------------------------- statistics (seeded, tolerances from the variance)

/** Sums of the dense C(x) and of its square over `samples` draws. */
function moments(c: Compressor, x: Float64Array, samples: number): { mean: Float64Array; meanSq: Float64Array; included: Float64Array } {
  const d = x.length;
  const sum = new Float64Array(d);
  const sumSq = new Float64Array(d);
  const included = new Float64Array(d);
  const out = new Float64Array(d);
  for (let s = 0; s < samples; s++) {
    const msg = c.compress(x, ctx);
    decodeInto(msg, out);
    for (let i = 0; i < d; i++) {
      sum[i] += out[i];
      sumSq[i] += out[i] * out[i];
    }
    for (let t = 0; t < msg.nnz; t++) included[msg.indices[t]]++;
  }
  return { mean: sum.map((v) => v / samples), meanSq: sumSq.map((v) => v / samples), included: included.map((v) => v / samples) };
}

const X = Float64Array.of(3, -1, 0, 0.5, -4, 2, 0, 1.25, -0.75, 6);
const SAMPLES = 40000;

test('rand-k is unbiased: each coordinate of the mean of C(x) is within 5 standard errors of x (Var = x_i²(d/k − 1))', () => {
  const d = X.length;
  const k = 3;
  const { mean } = moments(make(randkSpec, d, k, 21), X, SAMPLES);
  for (let i = 0; i < d; i++) {
    const se = Math.sqrt((X[i] * X[i] * (d / k - 1)) / SAMPLES);
    assert.ok(Math.abs(mean[i] - X[i]) <= 5 * se, `i=${i}: mean ${mean[i]} vs ${X[i]} (5 SE = ${5 * se})`);
  }
});

test('rand-k keeps each coordinate with frequency k/d and E‖C(x)‖² = (d/k)‖x‖², within 5 standard errors', () => {
  const d = X.length;
  const k = 4;
  const c = make(randkSpec, d, k, 22);
  const p = k / d;
  const out = new Float64Array(d);
  const counts = new Float64Array(d);
  let sumNorm = 0;
  let sumNormSq = 0;
  for (let s = 0; s < SAMPLES; s++) {
    const msg = c.compress(X, ctx);
    for (let t = 0; t < msg.nnz; t++) counts[msg.indices[t]]++;
    decodeInto(msg, out);
    let norm = 0;
    for (let i = 0; i < d; i++) norm += out[i] * out[i];
    sumNorm += norm;
    sumNormSq += norm * norm;
  }
  for (let i = 0; i < d; i++) {
    const se = Math.sqrt((p * (1 - p)) / SAMPLES);
    assert.ok(Math.abs(counts[i] / SAMPLES - p) <= 5 * se, `i=${i}: frequency ${counts[i] / SAMPLES}`);
  }
  const meanNorm = sumNorm / SAMPLES;
  const se = Math.sqrt((sumNormSq / SAMPLES - meanNorm * meanNorm) / SAMPLES);
  const xNorm = X.reduce((acc, v) => acc + v * v, 0);
  assert.ok(Math.abs(meanNorm - (d / k) * xNorm) <= 5 * se, `E‖C‖² ≈ ${meanNorm} vs ${(d / k) * xNorm}`);
});

test('biased rand-k has E C(x) = (k/d) x: each coordinate within 5 standard errors (Var = x_i²·p(1 − p), p = k/d)', () => {
  const d = X.length;
  const k = 3;
  const p = k / d;
  const { mean } = moments(make(brandkSpec, d, k, 23), X, SAMPLES);
  for (let i = 0; i < d; i++) {
    const se = Math.sqrt((X[i] * X[i] * p * (1 - p)) / SAMPLES);
    assert.ok(Math.abs(mean[i] - p * X[i]) <= 5 * se, `i=${i}: mean ${mean[i]} vs ${p * X[i]}`);
  }
});

test('rand-k and biased rand-k send k ascending distinct indices and x_i (scaled by d/k for rand-k) as values', () => {
  const d = X.length;
  for (const [spec, scale] of [[randkSpec, d / 3], [brandkSpec, 1]] as const) {
    const c = make(spec, d, 3, 4);
    for (let s = 0; s < 100; s++) {
      const msg = c.compress(X, ctx);
      assert.equal(msg.nnz, 3);
      for (let t = 0; t < 3; t++) {
        if (t > 0) assert.ok(msg.indices[t] > msg.indices[t - 1]);
        assert.equal(msg.values[t], scale * X[msg.indices[t]]);
      }
    }
  }
});

test('adaptive (k = 1) picks i with probability |x_i| / ‖x‖₁, within 5 standard errors', () => {
  const d = X.length;
  const l1 = X.reduce((acc, v) => acc + Math.abs(v), 0);
  const { included } = moments(make(adaptiveSpec, d, 1, 24), X, SAMPLES);
  for (let i = 0; i < d; i++) {
    const p = Math.abs(X[i]) / l1;
    const se = Math.sqrt((p * (1 - p)) / SAMPLES);
    assert.ok(Math.abs(included[i] - p) <= 5 * se, `i=${i}: ${included[i]} vs ${p}`);
  }
});

test('adaptive (k = 2) draws without replacement: inclusion probabilities match the exact two-draw formula within 5 standard errors', () => {
  const x = Float64Array.of(5, -1, 2, 0.5, 0, 3);
  const w = Array.from(x, Math.abs);
  const total = w.reduce((a, b) => a + b, 0);
  // P(i ∈ S) = p_i + Σ_{j≠i} p_j · w_i / (W − w_j)
  const exact = w.map((wi, i) => wi / total + w.reduce((acc, wj, j) => (j === i ? acc : acc + (wj / total) * (wi / (total - wj))), 0));
  const { included } = moments(make(adaptiveSpec, x.length, 2, 25), x, SAMPLES);
  for (let i = 0; i < x.length; i++) {
    const se = Math.sqrt((exact[i] * (1 - exact[i])) / SAMPLES);
    assert.ok(Math.abs(included[i] - exact[i]) <= 5 * se, `i=${i}: ${included[i]} vs ${exact[i]}`);
  }
});

test('adaptive takes every non-zero coordinate before any zero one, then draws uniformly among the remaining zeros', () => {
  const x = Float64Array.of(0, 0, 5, 0, 0, 0, -2, 0);
  const c = make(adaptiveSpec, x.length, 4, 26);
  const zeroCounts = new Float64Array(x.length);
  const samples = 20000;
  for (let s = 0; s < samples; s++) {
    const msg = c.compress(x, ctx);
    const support = Array.from(msg.indices.subarray(0, msg.nnz));
    assert.ok(support.includes(2) && support.includes(6), `support ${support}`);
    for (const i of support) if (i !== 2 && i !== 6) zeroCounts[i]++;
  }
  const p = 2 / 6;
  const se = Math.sqrt((p * (1 - p)) / samples);
  for (const i of [0, 1, 3, 4, 5, 7]) {
    assert.ok(Math.abs(zeroCounts[i] / samples - p) <= 5 * se, `zero coordinate ${i}: ${zeroCounts[i] / samples}`);
  }
});

test('adaptive handles non-finite input: an infinite entry is drawn first, a NaN entry weighs nothing', () => {
  const c = make(adaptiveSpec, 5, 1, 27);
  for (let s = 0; s < 200; s++) {
    assert.equal(c.compress(Float64Array.of(1, -Infinity, 2, 3, 4), ctx).indices[0], 1);
    assert.notEqual(c.compress(Float64Array.of(1, Number.NaN, 2, 3, 4), ctx).indices[0], 1);
  }
  // finite weights whose sum overflows still give the right probabilities (scaled by a power of two)
  const big = Float64Array.of(Number.MAX_VALUE, Number.MAX_VALUE / 2, 0);
  const { included } = moments(make(adaptiveSpec, 3, 1, 28), big, 30000);
  const se = Math.sqrt(((2 / 3) * (1 / 3)) / 30000);
  assert.ok(Math.abs(included[0] - 2 / 3) <= 5 * se, `P(0) = ${included[0]}`);
  assert.equal(included[2], 0);
});

test('randomized compressors give the same draws for the same seed and different ones for another seed', () => {
  for (const spec of [randkSpec, brandkSpec, adaptiveSpec]) {
    const draws = (seed: number) => {
      const c = make(spec, X.length, 3, seed);
      return Array.from({ length: 20 }, () => Array.from(c.compress(X, ctx).indices));
    };
    assert.deepEqual(draws(1), draws(1), spec.name);
    assert.notDeepEqual(draws(1), draws(2), spec.name);
  }
});
