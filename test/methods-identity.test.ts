import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gdSpec } from '../src/methods/gd.js';
import { cgdSpec } from '../src/methods/cgd.js';
import { efSpec } from '../src/methods/ef.js';
import { ef21Spec } from '../src/methods/ef21.js';
import { firstBitDifference, logregProblem, makeEnv, randomQuadratic, run } from './methods-fixtures.js';

const ITERS = 30;

test('cgd, ef and ef21 with identity reproduce gd to the last bit on mushrooms (n = 20, contiguous split)', async () => {
  const problem = await logregProblem('mushrooms', 20, 'contiguous');
  const L = problem.smoothness()!.L;
  const gamma = 1 / L;
  // a non-zero start so that every coordinate moves from the first step
  const x0 = Float64Array.from({ length: problem.d }, (_, j) => Math.sin(3 * j + 1));
  const reference = run(gdSpec, makeEnv(problem, { stepSize: gamma }), x0, ITERS).xs;
  for (const spec of [cgdSpec, efSpec, ef21Spec]) {
    const xs = run(spec, makeEnv(problem, { compressor: 'identity', stepSize: gamma }), x0, ITERS).xs;
    for (let t = 0; t <= ITERS; t++) {
      const j = firstBitDifference(xs[t], reference[t]);
      assert.ok(Number.isNaN(j), `${spec.name}: x^${t} differs from gd at coordinate ${j}: ${xs[t][j]} vs ${reference[t][j]}`);
    }
  }
  // the runs did move (a vacuous comparison of constant iterates would prove nothing)
  assert.notDeepEqual(reference[ITERS], reference[0]);
});

test('gd with γ = 1/L decreases f monotonically on mushrooms', async () => {
  const problem = await logregProblem('mushrooms', 20, 'contiguous');
  const gamma = 1 / problem.smoothness()!.L;
  const { xs } = run(gdSpec, makeEnv(problem, { stepSize: gamma }), new Float64Array(problem.d), 60);
  let previous = problem.loss(xs[0]);
  assert.ok(Math.abs(previous - Math.log(2)) < 1e-12, 'f(0) = log 2');
  for (let t = 1; t < xs.length; t++) {
    const f = problem.loss(xs[t]);
    assert.ok(f < previous, `f(x^${t}) = ${f} is not below f(x^${t - 1}) = ${previous}`);
    previous = f;
  }
  assert.ok(previous < 0.3, `after 60 steps f = ${previous} should be well below log 2`);
});

test('cgd, ef and ef21 with identity reproduce gd to the last bit when gradients change sign every step (n = 7 quadratic)', () => {
  // γ·a_ij ∈ (0.9, 1.9): each coordinate overshoots its centre, so ∇f_i flips sign and g_i + (∇f_i − g_i)
  // would not round back to ∇f_i; the methods must still agree with gd exactly.
  const problem = randomQuadratic(7, 64, 3);
  const gamma = 1.2;
  const x0 = Float64Array.from({ length: problem.d }, (_, j) => Math.cos(j));
  const reference = run(gdSpec, makeEnv(problem, { stepSize: gamma }), x0, ITERS).xs;
  for (const spec of [cgdSpec, efSpec, ef21Spec]) {
    const xs = run(spec, makeEnv(problem, { compressor: 'identity', stepSize: gamma }), x0, ITERS).xs;
    for (let t = 0; t <= ITERS; t++) {
      const j = firstBitDifference(xs[t], reference[t]);
      assert.ok(Number.isNaN(j), `${spec.name}: x^${t} differs from gd at coordinate ${j}: ${xs[t][j]} vs ${reference[t][j]}`);
    }
  }
});
