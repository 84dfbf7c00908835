import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compressorSpec } from '../src/compressors/registry.js';
import { parseStep, resolveStepSize, ef21TheoryStep } from '../src/methods/step.js';
import { METHODS, methodSpec } from '../src/methods/registry.js';
import { ef21Spec, type Ef21State } from '../src/methods/ef21.js';
import type { Smoothness } from '../src/problems/types.js';
import { QuadraticObjective, makeEnv, quadraticProblem, logregProblem } from './methods-fixtures.js';

const smooth: Smoothness = { L: 2, Li: Float64Array.of(1, 3), Ltilde: 3 };

function theory(method: string, compressor: string, d: number, k?: number, text = 'theory'): number {
  return resolveStepSize(text, methodSpec(method), () => ({ smoothness: smooth, compressor: compressorSpec(compressor), d, k }), compressor);
}

test('--step accepts a positive number, theory and theory*M, and names --step with what it accepts otherwise', () => {
  assert.deepEqual(parseStep('0.5'), { kind: 'fixed', value: 0.5 });
  assert.deepEqual(parseStep('1e-3'), { kind: 'fixed', value: 1e-3 });
  assert.deepEqual(parseStep('theory'), { kind: 'theory', multiplier: 1 });
  assert.deepEqual(parseStep('theory*16'), { kind: 'theory', multiplier: 16 });
  assert.deepEqual(parseStep('theory*0.25'), { kind: 'theory', multiplier: 0.25 });
  for (const bad of ['', 'abc', '0', '-1', 'Infinity', 'NaN', '0x10', 'theory*', 'theory*0', 'theory*-2', 'theory*x', 'theory2', '1,5']) {
    assert.throws(() => parseStep(bad), (err: Error) => err.name === 'UsageError' && err.message.startsWith('--step:') && err.message.includes('theory*M'), bad);
  }
});

test('theory steps follow spec §4 on hand-computable constants (L = 2, L̃ = 3)', () => {
  assert.equal(theory('gd', 'identity', 10), 0.5);
  for (const c of ['identity', 'topk', 'brandk']) assert.equal(theory('cgd', c, 10, 2), 0.5, `cgd+${c}`);
  assert.equal(theory('cgd', 'adaptive', 10, 1), 0.5);
  assert.equal(theory('cgd', 'randk', 10, 2), 1 / (2 * 5), 'randk: 1/(L·d/k)');
  assert.equal(theory('topk-ssgd', 'topk', 10, 2), 0.5);
  assert.equal(theory('gtopk', 'topk', 10, 2), 0.5);
  // ef21 + topk with α = k/d = 3/4: θ = 1 − 1/2 = 1/2, β = (1/4)/(1/2) = 1/2, β/θ = 1 → γ = 1/(L + L̃) = 1/5
  assert.ok(Math.abs(theory('ef21', 'topk', 4, 3) - 0.2) < 1e-15);
  // α = 1 (identity, or k = d): β = 0 → 1/L
  assert.equal(theory('ef21', 'identity', 4), 0.5);
  assert.equal(theory('ef21', 'topk', 4, 4), 0.5);
  // α = 1/100: θ = 1 − √0.99, β = 0.99/θ; the closed form written out once more
  const theta = 1 - Math.sqrt(0.99);
  assert.ok(Math.abs(theory('ef21', 'topk', 100, 1) - 1 / (2 + 3 * Math.sqrt(0.99 / theta / theta))) < 1e-15);
  assert.equal(theory('gd', 'identity', 10, undefined, 'theory*4'), 2);
  assert.equal(theory('ef21', 'hosvd', 10, undefined, '0.125'), 0.125, 'an explicit number is used as is');
});

test('theory is an error naming --step where spec §4 defines none (ef; importance compressors and hosvd)', () => {
  assert.throws(() => theory('ef21', 'hosvd', 10), {
    name: 'UsageError',
    message: '--step: no theory step for ef21 with hosvd (its contraction constant is not known a priori); pass a number',
  });
  for (const c of ['imp-a', 'imp-b', 'imp-c', 'hosvd']) {
    assert.throws(() => theory('cgd', c, 10, 2), (err: Error) => err.message === `--step: no theory step for cgd with ${c} (its contraction constant is not known a priori); pass a number`);
  }
  assert.throws(() => theory('ef', 'topk', 10, 2), /^UsageError: --step: no theory step for ef/);
  assert.deepEqual([...METHODS.keys()], ['gd', 'cgd', 'ef', 'ef21', 'topk-ssgd', 'gtopk']);
});

test('the theory step of gd uses the problem\'s own L on mushrooms (γ·L = 1)', async () => {
  const problem = await logregProblem('mushrooms', 4, 'contiguous');
  const s = problem.smoothness()!;
  const gamma = resolveStepSize('theory', methodSpec('gd'), () => ({ smoothness: s, compressor: compressorSpec('identity'), d: problem.d, k: undefined }));
  assert.equal(gamma, 1 / s.L);
  assert.ok(ef21TheoryStep(s.L, s.Ltilde, 10 / problem.d) < gamma);
});

test('ef21 on a hand-computed two-worker problem: g_i⁰ = C(∇f_i(x⁰)), then three steps with top-1', () => {
  // ∇f_1(x) = (x₁ − 2, 2(x₂ − 1)), ∇f_2(x) = (3(x₁ + 1), x₂ − 4), γ = 1/2, x⁰ = 0, C = top-1 (ties → smaller index)
  const problem = quadraticProblem([
    new QuadraticObjective(Float64Array.of(1, 2), Float64Array.of(2, 1)),
    new QuadraticObjective(Float64Array.of(3, 1), Float64Array.of(-1, 4)),
  ]);
  const env = makeEnv(problem, { compressor: 'topk', k: 1, stepSize: 0.5 });
  const method = ef21Spec.create();
  const s = method.init(new Float64Array(2), env) as Ef21State;
  // ∇f_1(0) = (−2, −2) → tie, keeps index 0: g_1⁰ = (−2, 0); ∇f_2(0) = (3, −4) → g_2⁰ = (0, −4)
  assert.deepEqual(s.workerEstimates.map((g) => Array.from(g)), [[-2, 0], [0, -4]]);
  assert.equal(s.bitsUpTotal, 2 * (32 + 1));
  assert.equal(s.bitsDownTotal, 0);
  assert.equal(s.rowsProcessed, 2);
  // g⁰ = (−1, −2) → x¹ = (0.5, 1); ∇f_1 = (−1.5, 0), v_1 = (0.5, 0) → c_1 = (0.5, 0), g_1 = (−1.5, 0);
  // ∇f_2 = (4.5, −3), v_2 = (4.5, 1) → c_2 = (4.5, 0), g_2 = (4.5, −4)
  method.step(s, env);
  assert.deepEqual(Array.from(s.x), [0.5, 1]);
  assert.deepEqual(s.workerEstimates.map((g) => Array.from(g)), [[-1.5, 0], [4.5, -4]]);
  // g¹ = (1.5, −2) → x² = (−0.25, 2); ∇f_1 = (−2.25, 2), v_1 = (−0.75, 2) → c_1 = (0, 2), g_1 = (−1.5, 2);
  // ∇f_2 = (2.25, −2), v_2 = (−2.25, 2) → c_2 = (−2.25, 0), g_2 = (2.25, −4)
  method.step(s, env);
  assert.deepEqual(Array.from(s.x), [-0.25, 2]);
  assert.deepEqual(s.workerEstimates.map((g) => Array.from(g)), [[-1.5, 2], [2.25, -4]]);
  // g² = (0.375, −1) → x³ = (−0.4375, 2.5)
  method.step(s, env);
  assert.deepEqual(Array.from(s.x), [-0.4375, 2.5]);
  assert.equal(s.iteration, 3);
  assert.equal(s.rowsProcessed, 8);
  assert.equal(s.bitsUpTotal, 4 * 2 * 33);
  assert.equal(s.bitsDownTotal, 3 * 2 * 2 * 32);
});
