/**
 * The contract every registered method keeps (spec §4), over METHODS × PROBLEMS: a method or problem
 * added later is covered without editing this file. Methods are assembled the way the runner does it
 * (test/methods-fixtures.ts makeEnv: one compressor per worker on its own stream, the gradient oracle),
 * on a tiny sparse data set with three workers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/core/rng.js';
import type { LabeledData } from '../src/data/types.js';
import { METHODS } from '../src/methods/registry.js';
import { gdSpec } from '../src/methods/gd.js';
import type { MethodSpec, MethodState } from '../src/methods/types.js';
import { PROBLEMS } from '../src/problems/registry.js';
import { initialPoint } from '../src/problems/initial-point.js';
import type { Problem } from '../src/problems/types.js';
import { contiguousShards, denseData } from './problems-fixtures.js';
import { firstBitDifference, makeEnv, run } from './methods-fixtures.js';

const ROWS = 15;
const COLS = 6;
const WORKERS = 3;
const STEP = 0.1;
const STEPS = 6;
/** k for the sparsifying runs: about a third of the smallest d below. */
const K = 5;

function tinySparse(): LabeledData {
  const rng = createRng(2, 'test-method-contract');
  const rows = Array.from({ length: ROWS }, () => Array.from({ length: COLS }, () => (rng.float() < 0.5 ? rng.normal() : 0)));
  return denseData(rows, Array.from({ length: ROWS }, (_, r) => (r % 2 ? 1 : -1)), COLS);
}

const data = tinySparse();
const PROBLEM_CASES: Problem[] = [...PROBLEMS.values()].map((spec) => {
  const values: Record<string, unknown> = {};
  for (const decl of spec.options) if (decl.default !== undefined) values[decl.name] = decl.default;
  return spec.create(data, { shards: contiguousShards(ROWS, WORKERS), values: values as never });
});

/** The compressors a method is run with: identity where it takes any, plus topk; topk only for Top-k methods. */
function compressorsFor(spec: MethodSpec): { compressor: string; k?: number }[] {
  switch (spec.compressorUse) {
    case 'none':
      return [{ compressor: 'identity' }];
    case 'any':
      return [{ compressor: 'identity' }, { compressor: 'topk', k: K }];
    case 'topk':
      return [{ compressor: 'topk', k: K }];
  }
}

/** A start where every coordinate is non-zero (the problem's own initialisation, plus a small offset). */
function start(problem: Problem): Float64Array {
  const x = initialPoint(problem, 0);
  for (let j = 0; j < x.length; j++) x[j] += 0.05 * Math.sin(j + 1);
  return x;
}

function snapshot(s: MethodState) {
  return { iteration: s.iteration, rowsProcessed: s.rowsProcessed, bitsUpTotal: s.bitsUpTotal, bitsDownTotal: s.bitsDownTotal };
}

test('the suite covers every registered method on every registered problem', () => {
  assert.ok(METHODS.size >= 6 && PROBLEMS.size >= 3);
  for (const p of PROBLEM_CASES) assert.ok(p.d >= K, `${p.name}: d ≥ k`);
});

test('init copies x⁰ and starts the counters at zero; a step moves x, counts iteration, rows and bits, and keeps x finite', () => {
  for (const spec of METHODS.values()) {
    for (const problem of PROBLEM_CASES) {
      for (const c of compressorsFor(spec)) {
        const label = `${spec.name}/${c.compressor} on ${problem.name}`;
        const env = makeEnv(problem, { compressor: c.compressor, k: c.k, stepSize: STEP });
        const x0 = start(problem);
        const kept = Float64Array.from(x0);
        const method = spec.create();
        const state = method.init(x0, env);
        assert.equal(state.x.length, problem.d, label);
        assert.notEqual(state.x, x0, `${label}: the state owns its x`);
        assert.equal(state.iteration, 0, label);
        assert.equal(state.bitsDownTotal, 0, label);
        assert.ok(state.bitsUpTotal >= 0 && state.rowsProcessed >= 0, label);
        const before = snapshot(state);
        method.step(state, env);
        assert.ok(Number.isNaN(firstBitDifference(x0, kept)), `${label}: x⁰ untouched`);
        assert.equal(state.iteration, 1, label);
        assert.ok(!Number.isNaN(firstBitDifference(state.x, kept)), `${label}: x moved`);
        assert.ok(state.x.every(Number.isFinite), `${label}: finite`);
        assert.ok(state.rowsProcessed > before.rowsProcessed, `${label}: rows processed`);
        assert.ok(state.bitsUpTotal > before.bitsUpTotal, `${label}: bits sent`);
        assert.ok(state.bitsDownTotal > before.bitsDownTotal, `${label}: bits received`);
      }
    }
  }
});

test('traffic counters (bits sent and received, rows processed) never decrease, step after step, also with minibatches', () => {
  for (const spec of METHODS.values()) {
    for (const problem of PROBLEM_CASES) {
      for (const c of compressorsFor(spec)) {
        for (const batch of [undefined, 2]) {
          const label = `${spec.name}/${c.compressor} on ${problem.name} batch ${batch ?? 'full'}`;
          const env = makeEnv(problem, { compressor: c.compressor, k: c.k, stepSize: STEP, batch });
          const method = spec.create();
          const state = method.init(start(problem), env);
          let previous = snapshot(state);
          for (let t = 1; t <= STEPS; t++) {
            method.step(state, env);
            const now = snapshot(state);
            assert.equal(now.iteration, t, label);
            assert.ok(now.bitsUpTotal >= previous.bitsUpTotal, `${label}: bits sent at ${t}`);
            assert.ok(now.bitsDownTotal >= previous.bitsDownTotal, `${label}: bits received at ${t}`);
            assert.ok(now.rowsProcessed >= previous.rowsProcessed, `${label}: rows at ${t}`);
            const rows = now.rowsProcessed - previous.rowsProcessed;
            assert.ok(rows > 0, `${label}: every step evaluates a gradient`);
            // each oracle call with --batch b processes b rows, not the shard
            if (batch !== undefined) assert.equal(rows % batch, 0, `${label}: ${rows} rows is not a whole number of batches`);
            previous = now;
          }
        }
      }
    }
  }
});

test('with the identity compressor every method that takes any compressor (cgd, ef, ef21) reproduces gd bit for bit, on every problem', () => {
  const takesAny = [...METHODS.values()].filter((m) => m.compressorUse === 'any');
  assert.ok(takesAny.length >= 3);
  for (const problem of PROBLEM_CASES) {
    const x0 = start(problem);
    const reference = run(gdSpec, makeEnv(problem, { stepSize: STEP }), x0, STEPS).xs;
    assert.ok(!Number.isNaN(firstBitDifference(reference[STEPS], reference[0])), `${problem.name}: gd moved`);
    for (const spec of takesAny) {
      const xs = run(spec, makeEnv(problem, { compressor: 'identity', stepSize: STEP }), x0, STEPS).xs;
      for (let t = 0; t <= STEPS; t++) {
        const j = firstBitDifference(xs[t], reference[t]);
        assert.ok(Number.isNaN(j), `${spec.name} on ${problem.name}: x^${t} differs from gd at ${j}: ${xs[t][j]} vs ${reference[t][j]}`);
      }
    }
  }
});
