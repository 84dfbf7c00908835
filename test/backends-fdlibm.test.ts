/**
 * The mlp kernel's exp and log1p (src/backends/assembly/fdlibm.ts) against V8's Math.exp and
 * Math.log1p, bit for bit: the kernel's results equal the JS reference loop's only if they do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/core/rng.js';
import { mlpKernelMath } from '../src/backends/mlp-wasm.js';

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

function mismatches(f: (x: number) => number, g: (x: number) => number, inputs: Iterable<number>): string[] {
  const bad: string[] = [];
  for (const x of inputs) {
    const a = f(x);
    const b = g(x);
    if (!Object.is(a, b) && bad.length < 5) bad.push(`x = ${x}: ${a} vs ${b}`);
  }
  return bad;
}

function* randomInputs(seed: string, count: number, draw: (rng: ReturnType<typeof createRng>) => number): Generator<number> {
  const rng = createRng(7, 'fdlibm', seed);
  for (let i = 0; i < count; i++) yield draw(rng);
}

/** Any double: random sign, exponent and mantissa bits. */
function anyDouble(rng: ReturnType<typeof createRng>): number {
  words[0] = rng.int(2 ** 32) >>> 0;
  words[1] = rng.int(2 ** 32) >>> 0;
  return bits[0];
}

const math = mlpKernelMath();

test('the kernel exp is V8\'s Math.exp bit for bit: the thresholds, special values, the kernels\' range y ≤ 0 and any double', () => {
  assert.ok(math, 'the mlp kernels are built by npm test');
  const { exp } = math;
  const ln2 = Math.LN2;
  const special = [0, -0, 1, -1, 0.5, -0.5, ln2 / 2, -ln2 / 2, 1.5 * ln2, -1.5 * ln2, 709.782712893384, 709.79, 710, -745.1332191019411, -745.14, -708, -708.4, -709.5, -720,
    -740, -1074 * ln2, Infinity, -Infinity, NaN, 2 ** -28, -(2 ** -28), 2 ** -29, 1e-300, -1e-300, 5e-324, -5e-324];
  assert.deepEqual(mismatches(exp, Math.exp, special), []);
  assert.deepEqual(mismatches(exp, Math.exp, randomInputs('exp-kernel-range', 400_000, (r) => -r.float() * 746)), []);
  assert.deepEqual(mismatches(exp, Math.exp, randomInputs('exp-small', 200_000, (r) => (r.float() - 0.5) * 4)), []);
  assert.deepEqual(mismatches(exp, Math.exp, randomInputs('exp-any', 400_000, anyDouble)), []);
});

test('the kernel log1p is V8\'s Math.log1p bit for bit: softplus\'s range (0, 1], tiny and huge arguments, the branch thresholds and any double', () => {
  assert.ok(math, 'the mlp kernels are built by npm test');
  const { log1p } = math;
  const special = [0, -0, 1, -1, -1 - 1e-16, 1 - 2 ** -53, 2 ** -1074, 2 ** -29, 2 ** -30, 2 ** -54, 2 ** -55, 0.41421356237309503, 0.414213562373095, -0.2928932188134524,
    -0.29289321881345254, 2 ** 53, 2 ** 54, 1e300, Infinity, -Infinity, NaN, Math.SQRT2 - 1, 1e-20, -1e-20];
  assert.deepEqual(mismatches(log1p, Math.log1p, special), []);
  assert.deepEqual(mismatches(log1p, Math.log1p, randomInputs('log1p-softplus', 400_000, (r) => r.float())), []);
  assert.deepEqual(mismatches(log1p, Math.log1p, randomInputs('log1p-exp', 200_000, (r) => Math.exp(-r.float() * 40))), []);
  assert.deepEqual(mismatches(log1p, Math.log1p, randomInputs('log1p-near-one', 200_000, (r) => 1 - r.float() * 1e-6)), []);
  assert.deepEqual(mismatches(log1p, Math.log1p, randomInputs('log1p-any', 400_000, anyDouble)), []);
});

test('the two-lane log1p of the mlp loss is V8\'s Math.log1p bit for bit on every lane: (0, 1] densely, both paths\' boundary, tiny arguments, and the lanes it hands to the scalar', () => {
  assert.ok(math, 'the mlp kernels are built by npm test');
  const { log1pTwoLane } = math;
  // √2 − 1 splits the two paths (by the high word 0x3FDA827A); 2^-29 and 2^-54 bound the tiny ones; above
  // 0.999, below 0, −0 and NaN go to the scalar function.
  const boundary = [0.41421353816986084, 0.4142135381698609, 0.41421356237309503, 0.414213562373095, 0.4142135, 0.4142136];
  const special = [0, -0, 1, 1 - 2 ** -53, 0.999, 0.9990000000000001, 0.998999, 2 ** -1074, 2 ** -54, 2 ** -55, 2 ** -29, 2 ** -30, 1.0000000000000002 * 2 ** -29,
    -1e-300, -0.5, 2, Infinity, NaN, ...boundary];
  assert.deepEqual(mismatches(log1pTwoLane, Math.log1p, special), []);
  assert.deepEqual(mismatches(log1pTwoLane, Math.log1p, randomInputs('log1p2-unit', 600_000, (r) => r.float())), []);
  assert.deepEqual(mismatches(log1pTwoLane, Math.log1p, randomInputs('log1p2-exp', 300_000, (r) => Math.exp(-r.float() * 60))), []);
  assert.deepEqual(mismatches(log1pTwoLane, Math.log1p, randomInputs('log1p2-boundary', 200_000, (r) => 0.41421356237309503 * (1 + (r.float() - 0.5) * 1e-6))), []);
  assert.deepEqual(mismatches(log1pTwoLane, Math.log1p, randomInputs('log1p2-any', 200_000, anyDouble)), []);
});
