/**
 * The contract every registered problem keeps (spec §2, src/problems/types.ts), over the whole
 * PROBLEMS registry: a problem added later is covered without editing this file. Each problem runs
 * with its declared defaults and with the shape variants below for the options it declares, on a tiny
 * sparse input (mixed signs, non-binary values, empty rows and an unused column).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/core/rng.js';
import type { OptionValue } from '../src/core/options.js';
import type { LabeledData } from '../src/data/types.js';
import { PROBLEMS } from '../src/problems/registry.js';
import { initialPoint } from '../src/problems/initial-point.js';
import type { LocalObjective, Problem, ProblemSpec } from '../src/problems/types.js';
import { contiguousShards, denseData } from './problems-fixtures.js';
import { firstBitDifference } from './methods-fixtures.js';

/** Extra shapes per declared option name (a problem without the option runs its defaults only). */
const VARIANTS: Readonly<Record<string, readonly OptionValue[]>> = {
  hidden: [[3], [4, 3]],
  l2: [0.05],
};

const ROWS = 12;
const COLS = 7;
const WORKERS = 2;

/** 12 rows × 7 columns, ~40% non-zero, column 5 never used, rows 3 and 8 empty. */
function tinySparse(): LabeledData {
  const rng = createRng(1, 'test-problem-contract');
  const rows = Array.from({ length: ROWS }, (_, r) =>
    Array.from({ length: COLS }, (_, j) => (r === 3 || r === 8 || j === 5 || rng.float() > 0.4 ? 0 : rng.normal())));
  const labels = Array.from({ length: ROWS }, (_, r) => (r % 3 === 0 ? 1 : -1));
  return denseData(rows, labels, COLS);
}

const data = tinySparse();

interface Shape {
  readonly label: string;
  readonly values: Record<string, OptionValue>;
}

function shapes(spec: ProblemSpec): Shape[] {
  const defaults: Record<string, OptionValue> = {};
  for (const decl of spec.options) if (decl.default !== undefined) defaults[decl.name] = decl.default;
  const out: Shape[] = [{ label: 'defaults', values: defaults }];
  for (const decl of spec.options) {
    for (const variant of VARIANTS[decl.name] ?? []) {
      out.push({ label: `${decl.name}=${String(variant)}`, values: { ...defaults, [decl.name]: variant } });
    }
  }
  return out;
}

const CASES: { spec: ProblemSpec; shape: Shape; problem: Problem }[] = [];
for (const spec of PROBLEMS.values()) {
  for (const shape of shapes(spec)) {
    CASES.push({ spec, shape, problem: spec.create(data, { shards: contiguousShards(ROWS, WORKERS), values: shape.values }) });
  }
}

function randomPoint(d: number, seed: number): Float64Array {
  const rng = createRng(seed, 'test-problem-contract-x');
  return Float64Array.from({ length: d }, () => 0.7 * rng.normal());
}

function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
}

test('the registry has every problem the spec defines, and the suite covers all of them', () => {
  for (const name of ['logreg', 'logreg-nonconvex', 'mlp']) assert.ok(PROBLEMS.has(name), name);
  assert.equal(new Set(CASES.map((c) => c.spec.name)).size, PROBLEMS.size);
});

test('d is the length of x⁰, of every worker and of the gradient; the initialisation is seeded, complete and deterministic', () => {
  for (const { spec, shape, problem } of CASES) {
    const label = `${spec.name} ${shape.label}`;
    assert.ok(Number.isInteger(problem.d) && problem.d >= 1, label);
    for (const w of problem.workers) assert.equal(w.d, problem.d, `${label}: worker d`);
    assert.equal(problem.workers.length, WORKERS);
    assert.equal(problem.totalRows, ROWS);
    assert.equal(spec.seededInitialization === true, typeof problem.initialize === 'function', `${label}: seededInitialization ⇔ initialize`);
    const x0 = initialPoint(problem, 3);
    assert.equal(x0.length, problem.d, label);
    assert.ok(Number.isNaN(firstBitDifference(x0, initialPoint(problem, 3))), `${label}: same seed, same bits`);
    if (problem.initialize) {
      const filled = new Float64Array(problem.d).fill(Number.NaN);
      problem.initialize(createRng(3, 'init'), filled);
      assert.ok(filled.every(Number.isFinite), `${label}: initialize writes every entry`);
      assert.ok(Number.isNaN(firstBitDifference(filled, x0)), `${label}: initialPoint draws from (seed, "init")`);
      assert.ok(!Number.isNaN(firstBitDifference(x0, initialPoint(problem, 4))), `${label}: another seed, another point`);
      assert.ok(maxAbs(x0) > 0, `${label}: not all zeros`);
    } else {
      assert.equal(maxAbs(x0), 0, `${label}: no initialisation → zeros`);
    }
    const g = new Float64Array(problem.d);
    const f = problem.gradient(x0, g);
    assert.ok(Number.isFinite(f) && g.every(Number.isFinite), `${label}: finite at x⁰`);
  }
});

/** Central differences of f at x along every coordinate. */
function centralDifferences(f: (x: Float64Array) => number, x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  const t = Float64Array.from(x);
  for (let j = 0; j < x.length; j++) {
    const h = 1e-6 * Math.max(1, Math.abs(x[j]));
    t[j] = x[j] + h;
    const up = f(t);
    t[j] = x[j] - h;
    const down = f(t);
    t[j] = x[j];
    out[j] = (up - down) / (2 * h);
  }
  return out;
}

test('every worker gradient equals central finite differences of its loss at a random point; f and ∇f are the workers’ means', () => {
  for (const { spec, shape, problem } of CASES) {
    for (const seed of [0, 1]) {
      const label = `${spec.name} ${shape.label} seed ${seed}`;
      const x = randomPoint(problem.d, seed);
      const mean = new Float64Array(problem.d);
      let meanLoss = 0;
      problem.workers.forEach((w, i) => {
        const g = new Float64Array(problem.d);
        const f = w.gradient(x, g);
        assert.ok(Math.abs(f - w.loss(x)) <= 1e-14 * Math.abs(f), `${label} worker ${i}: gradient's loss = loss`);
        const fd = centralDifferences((t) => w.loss(t), x);
        const scale = Math.max(maxAbs(g), 1e-3);
        for (let j = 0; j < problem.d; j++) {
          assert.ok(Math.abs(g[j] - fd[j]) <= 1e-6 * scale, `${label} worker ${i}: ∂_${j} ${g[j]} vs finite differences ${fd[j]}`);
        }
        assert.ok(maxAbs(g) > 1e-6, `${label} worker ${i}: a non-trivial gradient`);
        if (w.gradientOnly) {
          const only = new Float64Array(problem.d);
          w.gradientOnly(x, only);
          assert.ok(Number.isNaN(firstBitDifference(only, g)), `${label} worker ${i}: gradientOnly = gradient bit for bit`);
        }
        for (let j = 0; j < problem.d; j++) mean[j] += g[j] / WORKERS;
        meanLoss += f / WORKERS;
      });
      const g = new Float64Array(problem.d);
      const f = problem.gradient(x, g);
      assert.ok(Math.abs(f - meanLoss) <= 1e-14 * Math.abs(f) && Math.abs(problem.loss(x) - f) <= 1e-14 * Math.abs(f), `${label}: f = (1/n) Σ f_i`);
      for (let j = 0; j < problem.d; j++) assert.ok(Math.abs(g[j] - mean[j]) <= 1e-15 * maxAbs(mean), `${label}: ∇f = (1/n) Σ ∇f_i at ${j}`);
    }
  }
});

/** Every b-subset of {0..n−1}, ascending. */
function* subsets(n: number, b: number, from = 0, prefix: number[] = []): Generator<number[]> {
  if (prefix.length === b) {
    yield prefix;
    return;
  }
  for (let r = from; r < n; r++) yield* subsets(n, b, r + 1, [...prefix, r]);
}

test('the minibatch gradient is unbiased: its average over all batches of a size is the full gradient (and so is the loss)', () => {
  for (const { spec, shape, problem } of CASES) {
    const x = randomPoint(problem.d, 5);
    problem.workers.forEach((w: LocalObjective, i) => {
      const full = new Float64Array(problem.d);
      const f = w.gradient(x, full);
      for (const b of [1, 2, w.rows]) {
        const label = `${spec.name} ${shape.label} worker ${i} b=${b}`;
        const avg = new Float64Array(problem.d);
        const g = new Float64Array(problem.d);
        let count = 0;
        let lossAvg = 0;
        for (const rows of subsets(w.rows, b)) {
          lossAvg += w.batchGradient(x, Int32Array.from(rows), b, g);
          for (let j = 0; j < problem.d; j++) avg[j] += g[j];
          count++;
        }
        for (let j = 0; j < problem.d; j++) avg[j] /= count;
        lossAvg /= count;
        const scale = maxAbs(full);
        for (let j = 0; j < problem.d; j++) assert.ok(Math.abs(avg[j] - full[j]) <= 1e-13 * scale, `${label}: E ∂_${j} ${avg[j]} vs ${full[j]}`);
        assert.ok(Math.abs(lossAvg - f) <= 1e-13 * Math.abs(f), `${label}: E loss ${lossAvg} vs ${f}`);
      }
    });
  }
});

test('coordinateDecrease, where a problem has it, equals d loss evaluations f_i(x) − f_i(x − η v_j e_j)', () => {
  let covered = 0;
  for (const { spec, shape, problem } of CASES) {
    const x = randomPoint(problem.d, 6);
    problem.workers.forEach((w, i) => {
      if (!w.coordinateDecrease) return;
      covered++;
      const v = new Float64Array(problem.d);
      w.gradient(x, v);
      for (const eta of [0.5, 20]) {
        const fast = new Float64Array(problem.d);
        w.coordinateDecrease!(x, v, eta, fast);
        const f0 = w.loss(x);
        const t = Float64Array.from(x);
        let scale = 0;
        const brute = new Float64Array(problem.d);
        for (let j = 0; j < problem.d; j++) {
          t[j] = x[j] - eta * v[j];
          brute[j] = f0 - w.loss(t);
          t[j] = x[j];
          scale = Math.max(scale, Math.abs(brute[j]));
        }
        for (let j = 0; j < problem.d; j++) {
          assert.ok(Math.abs(fast[j] - brute[j]) <= 1e-11 * scale, `${spec.name} ${shape.label} worker ${i} η=${eta}: w_${j} ${fast[j]} vs ${brute[j]}`);
        }
      }
    });
  }
  assert.ok(covered > 0);
});

test('accuracy is the share of correctly signed rows: in [0, 1], the mean of single-row accuracies, the same on the training rows given as data', () => {
  for (const { spec, shape, problem } of CASES) {
    const label = `${spec.name} ${shape.label}`;
    const x = randomPoint(problem.d, 7);
    const acc = problem.accuracy(x);
    assert.ok(acc >= 0 && acc <= 1, label);
    assert.equal(problem.accuracy(x, data), acc, `${label}: training rows as a test set`);
    let correct = 0;
    for (let r = 0; r < ROWS; r++) {
      const one = denseData([[...Array.from({ length: COLS }, (_, j) => valueAt(data, r, j))]], [data.b[r]], COLS);
      const a = problem.accuracy(x, one);
      assert.ok(a === 0 || a === 1, `${label}: one row is right or wrong`);
      correct += a;
    }
    assert.equal(correct / ROWS, acc, label);
    // narrower data is read as zeros in the missing columns; wider data is an error
    assert.ok(Number.isFinite(problem.accuracy(x, denseData([[1, 0]], [1], 2))), `${label}: narrower data`);
    assert.throws(() => problem.accuracy(x, denseData([[1]], [1], COLS + 1)), new RegExp(`${COLS + 1} features`), `${label}: wider data`);
  }
});

function valueAt(d: LabeledData, r: number, j: number): number {
  for (let k = d.X.rowPtr[r]; k < d.X.rowPtr[r + 1]; k++) if (d.X.colIdx[k] === j) return d.X.values[k];
  return 0;
}

test('smoothness constants, where a problem has them: L_i > 0 per worker and L ≤ L̃ (λ_max of a mean ≤ the mean of λ_max)', () => {
  let covered = 0;
  for (const { spec, shape, problem } of CASES) {
    assert.equal(problem.convex, spec.convex, `${spec.name} ${shape.label}`);
    const s = problem.smoothness();
    if (!s) continue;
    covered++;
    assert.equal(s.Li.length, WORKERS);
    assert.ok(s.L > 0 && s.Li.every((l) => l > 0), `${spec.name} ${shape.label}`);
    assert.ok(s.L <= s.Ltilde * (1 + 1e-9), `${spec.name} ${shape.label}: L ${s.L} vs L̃ ${s.Ltilde}`);
  }
  assert.ok(covered > 0);
});
