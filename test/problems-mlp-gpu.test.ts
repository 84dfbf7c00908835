/**
 * The gpu mlp, any depth: the layer offsets against the reference layout, the 2^24 cell limit, the
 * accuracy contract and its ReLU-kink allowance on fake kernels (no gpu.js), then the real kernels in
 * every mode available here against the float64 mlp on mushrooms (hidden 32, 16,8 and 8,6,4; n = 4)
 * and against central finite differences of the float64 loss on a tiny case: the class that ran and
 * the float32 error. webasm and cpu always run when gpu.js is installed; WebGPU when
 * DCOMP_EXPECT_WEBGPU is set (CI, Mesa llvmpipe). Without the optional dependency
 * (npm ci --omit=optional) the backend's clear refusal is asserted instead.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { maxRelativeError } from '../src/backends/accuracy.js';
import { GpuBackend, mlpCellLimit, type GpuMlpKernels } from '../src/backends/gpujs/index.js';
import { mlpLayerOffsets } from '../src/backends/gpujs/mlp-kernels.js';
import type { BackendLabel, GpuMode, MlpKernels } from '../src/backends/types.js';
import { prepareGpuRun } from '../src/bench/gpu-run.js';
import { prepareGpuEnvironment } from '../src/cli/gpu.js';
import { DcompError, UsageError } from '../src/core/errors.js';
import { createRng } from '../src/core/rng.js';
import { mlpLayout, mlpSpec, type MlpProblem } from '../src/problems/mlp.js';
import { checkGpuMlpGradients, GPU_MLP_GRADIENT_TOLERANCE, GpuMlpProblem, mlpCheckBounds } from '../src/problems/mlp-gpu.js';
import { contiguousShards, denseData, readDataset } from './problems-fixtures.js';
import { CLASS_OF } from './gpujs-fixtures.js';
import { firstBitDifference, makeEnv, run } from './methods-fixtures.js';
import { gdSpec } from '../src/methods/gd.js';
import { ef21Spec } from '../src/methods/ef21.js';

prepareGpuEnvironment();

const installed = (() => {
  try {
    createRequire(import.meta.url).resolve('gpu.js');
    return true;
  } catch {
    return false;
  }
})();

const data = readDataset('mushrooms');

function mushroomsMlp(hidden: number[], workers = 4, l2 = 0): MlpProblem {
  return mlpSpec.create(data, { shards: contiguousShards(data.X.rows, workers), values: { hidden, l2 } });
}

function initialPoint(problem: MlpProblem, seed = 0): Float64Array {
  const x = new Float64Array(problem.d);
  problem.initialize(createRng(seed, 'init'), x);
  return x;
}

function softplus(p: number): number {
  return p > 0 ? p + Math.log1p(Math.exp(-p)) : Math.log1p(Math.exp(p));
}

/** float64 kernels from the reference shards (λ = 0, so a shard's gradient is its data term); one row of shard 0 can be dropped. */
class FakeMlpKernels implements MlpKernels {
  readonly label: BackendLabel = { backend: 'gpujs:FakeKernel', device: 'test', precision: 'float32' };
  readonly workers: number;
  readonly d: number;
  readonly rowOffset: Int32Array;
  /** Adds this to parameter 0 of shard 0's gradient (a corrupted device). */
  corruption = 0;
  /** Evaluates at this point instead of x when set (a device whose rounding moved a pre-activation). */
  moved: Float64Array | undefined;

  constructor(private readonly reference: MlpProblem) {
    this.workers = reference.workers.length;
    this.d = reference.d;
    this.rowOffset = new Int32Array(this.workers + 1);
    reference.workers.forEach((w, i) => (this.rowOffset[i + 1] = this.rowOffset[i] + w.rows));
  }

  evaluate(x: Float64Array, out: readonly Float64Array[] | undefined, lossTerms: Float64Array, rowWeights?: Float64Array): void {
    if (rowWeights) throw new Error('not used here');
    x = this.moved ?? x;
    this.reference.workers.forEach((w, i) => {
      if (out) w.gradient(x, out[i]);
      const z = new Float64Array(w.rows);
      w.logits(w.A, x, z);
      for (let r = 0; r < w.rows; r++) lossTerms[this.rowOffset[i] + r] = softplus(-w.b[r] * z[r]);
    });
    if (out) out[0][0] += this.corruption;
  }

  dispose(): void {}
}

test('the mlp accuracy contract passes exact kernels and stops a wrong one with a message naming worker, error and tolerance', () => {
  const reference = mushroomsMlp([32]);
  const kernels = new FakeMlpKernels(reference);
  const problem = new GpuMlpProblem(reference, kernels);
  const x0 = initialPoint(reference);
  const ok = checkGpuMlpGradients(problem, x0);
  assert.equal(ok.maxScaledError, 0);
  // the loss comes from the row terms, summed per shard, as the reference sums it
  assert.ok(Math.abs(problem.loss(x0) - reference.loss(x0)) < 1e-14);
  // an error of a few hundredths of the summed terms' magnitude (a dropped row's share, roughly)
  const bad = new GpuMlpProblem(reference, kernels);
  kernels.corruption = 1e-3 * mlpCheckBounds(reference, reference.workers[0], x0).scale;
  assert.throws(
    () => checkGpuMlpGradients(bad, x0),
    (err: unknown) => err instanceof DcompError && /worker 0 differs .* by 1\.00e-3 .* tolerance 1e-4/.test((err as Error).message),
  );
});

test('a hidden pre-activation at the ReLU kink may fall on either side: the contract allows its terms, and only those', () => {
  // row 0 = features {0, 1}: with W₁[0,0] = 0.5, W₁[0,1] = −0.25, b₁_0 = −0.25 its unit 0 sits exactly at 0
  const tiny = denseData([[1, 1, 0], [1, 0, 1], [0, 1, 1]], [1, -1, 1]);
  const reference = mlpSpec.create(tiny, { shards: [Int32Array.from([0, 1, 2])], values: { hidden: [2], l2: 0 } });
  const x = Float64Array.from({ length: reference.d }, (_, j) => 0.3 * Math.sin(j + 1));
  const { sizes, weightOffset, biasOffset } = reference.layout;
  x[weightOffset[0]] = 0.5;
  x[weightOffset[0] + 1] = -0.25;
  x[biasOffset[0]] = -0.25;
  x[weightOffset[1]] = 0.8; // w₂_0: the kink's terms are not small
  assert.equal(sizes[0], 3);
  const bounds = mlpCheckBounds(reference, reference.workers[0], x);
  assert.equal(bounds.kinks, 1);
  const kernels = new FakeMlpKernels(reference);
  kernels.moved = x.slice();
  kernels.moved[biasOffset[0]] += 1e-12; // the device saw z = +1e-12: row 0's terms of unit 0 are in its gradient
  const problem = new GpuMlpProblem(reference, kernels);
  const g32 = new Float64Array(reference.d);
  const g64 = new Float64Array(reference.d);
  problem.workers[0].gradientOnly(x, g32);
  reference.workers[0].gradient(x, g64);
  assert.ok(maxRelativeError(g32, g64) > 0.05, 'the flip changes the gradient by whole terms');
  assert.ok(checkGpuMlpGradients(problem, x).maxScaledError < 1e-9);
  // an error beyond the allowance, on W₁[0,0] (parameter 0, whose allowance the flip has used up) is caught
  assert.ok(bounds.kinkAllowance[0] > 0);
  kernels.corruption = Math.sign(g32[0] - g64[0]) * 1e-2 * bounds.scale;
  assert.throws(() => checkGpuMlpGradients(new GpuMlpProblem(reference, kernels), x), DcompError);
});

test('the kernels lay x out as the spec (mlpLayout): layer by layer, weights (out × in, row-major) then bias', () => {
  for (const hidden of [[32], [16, 8], [64, 32], [7, 5, 3, 2]]) {
    const ours = mlpLayerOffsets(112, hidden);
    const spec = mlpLayout(112, hidden);
    assert.deepEqual(ours.sizes, spec.sizes);
    assert.deepEqual(ours.weightOffset, spec.weightOffset);
    assert.deepEqual(ours.biasOffset, spec.biasOffset);
    assert.equal(ours.params, spec.d);
  }
  assert.equal(mlpLayerOffsets(112, [32]).params, 3649); // the spec's example
});

test('the 2^24 cell limit: a layer too wide for the rows, or too many parameters per worker, is refused with exit 2 naming --hidden', async () => {
  assert.equal(mlpCellLimit({ inputs: 112, hidden: [64, 32] }, 8124, 20), undefined);
  assert.match(mlpCellLimit({ inputs: 112, hidden: [16, 2100] }, 8124, 4) ?? '', /^hidden layer 2 has 2100 units × 8124 rows = 17060400 cells$/);
  assert.match(mlpCellLimit({ inputs: 300, hidden: [4000] }, 1000, 20) ?? '', /^layer 1 has 1204000 parameters × 20 workers = 24080000 cells$/);
  const wide = mlpSpec.create(readDataset('mushrooms', 400), { shards: contiguousShards(400, 2), values: { hidden: [4, 43000], l2: 0 } });
  await assert.rejects(
    prepareGpuRun(wide, new Float64Array(wide.d), { mode: 'webasm', allowSoftware: false }),
    (err: unknown) => err instanceof UsageError && /^--hidden 4,43000: on --backend gpu hidden layer 2 has 43000 units × 400 rows = 17200000 cells, .*2\^24.*--backend cpu/.test((err as Error).message),
  );
});

test('a deep net: a layer-2 pre-activation at the kink may flip, the allowance covers its terms in every layer below, and only those', () => {
  // 3 inputs → 2 → 2 → 1; row 0's unit 0 of layer 2 sits exactly at 0
  const tiny = denseData([[1, 0.5, 0], [0.25, 1, 1], [1, 0, 1], [0.5, 0.5, 0.5]], [1, -1, 1, -1]);
  const reference = mlpSpec.create(tiny, { shards: [Int32Array.from([0, 1, 2, 3])], values: { hidden: [2, 2], l2: 0 } });
  const { weightOffset, biasOffset } = reference.layout;
  // dyadic values: every sum is exact in any order, so z₂_0 is exactly 0 for the reference too
  const x = Float64Array.from({ length: reference.d }, (_, j) => 0.25 + 0.125 * (j % 4));
  // layer 1 is all positive on row 0 (inputs ≥ 0, weights and biases > 0): set b₂_0 so that z₂_0(row 0) = 0
  let z2 = 0;
  for (let v = 0; v < 2; v++) {
    let z1 = x[biasOffset[0] + v];
    for (const [j, a] of [[0, 1], [1, 0.5]]) z1 += a * x[weightOffset[0] + v * 3 + j];
    z2 += x[weightOffset[1] + v] * z1;
  }
  x[biasOffset[1]] = -z2;
  x[weightOffset[2]] = 0.9; // the output weight of that unit: its δ is not small
  const bounds = mlpCheckBounds(reference, reference.workers[0], x);
  assert.equal(bounds.kinks, 1);
  const kernels = new FakeMlpKernels(reference);
  kernels.moved = x.slice();
  kernels.moved[biasOffset[1]] += 1e-12; // the device saw z₂_0 = +1e-12 on row 0
  const problem = new GpuMlpProblem(reference, kernels);
  const g32 = new Float64Array(reference.d);
  const g64 = new Float64Array(reference.d);
  problem.workers[0].gradientOnly(x, g32);
  reference.workers[0].gradient(x, g64);
  // the flip moves whole terms of layer 2's unit 0 and, through δ, of layer 1
  assert.ok(Math.abs(g32[biasOffset[1]] - g64[biasOffset[1]]) > 0.01 * bounds.scale);
  assert.ok(Math.abs(g32[weightOffset[0]] - g64[weightOffset[0]]) > 0.01 * bounds.scale);
  assert.ok(checkGpuMlpGradients(problem, x).maxScaledError < 1e-9);
  // the allowance is where the flip acts: nothing for the output layer's bias, something for layer 1
  assert.equal(bounds.kinkAllowance[biasOffset[2]], 0);
  assert.ok(bounds.kinkAllowance[biasOffset[0]] > 0);
  // without the flip, an error of 1e-2 of the scale on parameter 0 is caught
  kernels.moved = undefined;
  kernels.corruption = 1e-2 * bounds.scale + bounds.kinkAllowance[0];
  assert.throws(() => checkGpuMlpGradients(new GpuMlpProblem(reference, kernels), x), DcompError);
});

if (!installed) {
  test('without gpu.js (npm ci --omit=optional) an mlp gpu run is refused with exit 2 saying so', async () => {
    const reference = mushroomsMlp([32]);
    await assert.rejects(
      prepareGpuRun(reference, initialPoint(reference), { mode: 'webasm', allowSoftware: false }),
      (err: unknown) => err instanceof UsageError && /gpu\.js is not installed/.test((err as Error).message),
    );
  });
} else {
  const modes: Array<Exclude<GpuMode, 'auto'>> = ['webasm', 'cpu'];
  if (process.env.DCOMP_EXPECT_WEBGPU) modes.push('webgpu');
  for (const mode of modes) {
    for (const hidden of [[32], [16, 8], [8, 6, 4]]) defineMlpModeSuite(mode, hidden);
    defineFiniteDifferenceSuite(mode);
  }
}

function defineMlpModeSuite(mode: Exclude<GpuMode, 'auto'>, hidden: number[]): void {
  describe(`gpu mlp kernels, mode ${mode}, mushrooms 112 → ${hidden.join(' → ')} → 1 (n = 4)`, { concurrency: false }, () => {
    const reference = mushroomsMlp(hidden, 4, 1e-3);
    const d = reference.d;
    const x0 = initialPoint(reference);
    let backend: GpuBackend;
    let kernels: GpuMlpKernels;
    let problem: GpuMlpProblem;

    before(async () => {
      backend = await GpuBackend.open(mode);
      kernels = backend.mlpKernels(
        reference.workers.map((w) => ({ A: w.A, b: w.b })),
        { inputs: reference.layout.sizes[0], hidden, params: d },
      );
      problem = new GpuMlpProblem(reference, kernels);
    });
    after(() => backend?.dispose());

    test('every kernel ran as the mode class, and the rows say so', () => {
      assert.equal(problem.label.backend, `gpujs:${CLASS_OF[mode]}`);
      assert.equal(problem.label.precision, 'float32');
      assert.equal(kernels.built.kernels.length, 3 * hidden.length + 2, kernels.built.kernels.join('; '));
      for (const line of kernels.built.kernels) assert.match(line, new RegExp(`: ${CLASS_OF[mode]}$`));
    });

    test('no kernel output is stale: evaluations at alternating points give the same bits at the same point', () => {
      // each pipelined output is read within the pass that made it (docs/backends.md, "The mlp kernels")
      const x1 = Float64Array.from(x0, (v, j) => v + 1e-3 * Math.cos(j));
      const N = reference.totalRows;
      const first = reference.workers.map(() => new Float64Array(d));
      const other = reference.workers.map(() => new Float64Array(d));
      const again = reference.workers.map(() => new Float64Array(d));
      const t0 = new Float64Array(N);
      const t1 = new Float64Array(N);
      const t2 = new Float64Array(N);
      kernels.evaluate(x0, first, t0);
      kernels.evaluate(x1, other, t1);
      kernels.evaluate(x0, again, t2);
      for (let i = 0; i < 4; i++) {
        assert.ok(Number.isNaN(firstBitDifference(first[i], again[i])), `worker ${i}: x⁰ after x¹ differs`);
        assert.ok(!Number.isNaN(firstBitDifference(first[i], other[i])), `worker ${i}: x¹ gave x⁰'s gradient`);
      }
      assert.ok(Number.isNaN(firstBitDifference(t0, t2)));
    });

    test('float32 gradients at x⁰ and at a trained point are within the contract of the float64 mlp, loss within float32 rounding', () => {
      const check = checkGpuMlpGradients(problem, x0);
      assert.ok(check.maxScaledError > 0, 'float32 cannot agree bit for bit with float64');
      assert.ok(check.maxScaledError < GPU_MLP_GRADIENT_TOLERANCE, `scaled error ${check.maxScaledError}`);
      assert.ok(check.maxRelativeError < 1e-4, `relative error ${check.maxRelativeError}`);
      // a point after 20 float64 gd steps (other ReLU patterns than x⁰)
      const x = x0.slice();
      const g = new Float64Array(d);
      for (let t = 0; t < 20; t++) {
        reference.gradient(x, g);
        for (let j = 0; j < d; j++) x[j] -= 0.5 * g[j];
      }
      const later = checkGpuMlpGradients(problem, x);
      assert.ok(later.maxScaledError < GPU_MLP_GRADIENT_TOLERANCE, `scaled error ${later.maxScaledError} after 20 steps`);
      const g32 = new Float64Array(d);
      const f32 = problem.gradient(x, g32);
      const f64 = reference.gradient(x, g);
      assert.ok(maxRelativeError(g32, g) < 1e-4, `∇f relative error ${maxRelativeError(g32, g)}`);
      assert.ok(Math.abs(f32 - f64) / f64 < 1e-6, `f ${f32} vs ${f64}`);
      assert.ok(Math.abs(problem.workers[2].loss(x) - reference.workers[2].loss(x)) / reference.workers[2].loss(x) < 1e-6);
    });

    test('EF21 with identity reproduces GD on the gpu mlp bit for bit, and both stay within float32 rounding of float64 GD', () => {
      const iters = 8;
      const gd = run(gdSpec, makeEnv(problem, { stepSize: 0.5 }), x0, iters).xs;
      const ef21 = run(ef21Spec, makeEnv(problem, { compressor: 'identity', stepSize: 0.5 }), x0, iters).xs;
      const cpu = run(gdSpec, makeEnv(reference, { stepSize: 0.5 }), x0, iters).xs;
      for (let t = 0; t <= iters; t++) {
        const j = firstBitDifference(ef21[t], gd[t]);
        assert.ok(Number.isNaN(j), `x^${t}: ef21 differs from gd at ${j}`);
        const e = maxRelativeError(gd[t], cpu[t]);
        assert.ok(e < 1e-5, `x^${t}: gpu gd vs cpu gd relative deviation ${e}`);
      }
      assert.ok(maxRelativeError(gd[iters], gd[0]) > 1e-3, 'the iterates moved');
    });

    test('minibatch gradients (row weights, a repeated row counting twice) match the float64 minibatch', () => {
      const rows = Int32Array.from([5, 17, 17, 400, 2030]);
      const g32 = new Float64Array(d);
      const g64 = new Float64Array(d);
      const f32 = problem.workers[1].batchGradient(x0, rows, rows.length, g32);
      const f64 = reference.workers[1].batchGradient(x0, rows, rows.length, g64);
      assert.ok(maxRelativeError(g32, g64) < 1e-4, `relative error ${maxRelativeError(g32, g64)}`);
      assert.ok(Math.abs(f32 - f64) / f64 < 1e-6, `minibatch loss ${f32} vs ${f64}`);
      // the full-gradient cache is not disturbed by a minibatch
      const full = new Float64Array(d);
      problem.workers[1].gradientOnly(x0, full);
      reference.workers[1].gradient(x0, g64);
      assert.ok(maxRelativeError(full, g64) < 1e-4);
    });
  });
}

/** Central differences of the float64 loss against the float32 gradients, 2 and 3 hidden layers, a tiny dense case. */
function defineFiniteDifferenceSuite(mode: Exclude<GpuMode, 'auto'>): void {
  const rows = Array.from({ length: 10 }, (_, r) => Array.from({ length: 5 }, (_, j) => ((r * 7 + j * 3) % 5 === 0 ? 0 : Math.sin(r + 2 * j + 1))));
  const labels = rows.map((_, r) => (r % 3 === 0 ? 1 : -1));
  const tiny = denseData(rows, labels);
  for (const hidden of [[4, 3], [4, 3, 3]]) {
    test(`mode ${mode}, 5 → ${hidden.join(' → ')} → 1: float32 gradients match central differences of the float64 loss`, async () => {
      const reference = mlpSpec.create(tiny, { shards: contiguousShards(10, 2), values: { hidden, l2: 0.01 } });
      const d = reference.d;
      const x = new Float64Array(d);
      reference.initialize(createRng(3, 'init'), x);
      for (let j = 0; j < d; j++) x[j] += 0.05 * Math.cos(5 * j); // non-zero biases
      const backend = await GpuBackend.open(mode);
      try {
        const kernels = backend.mlpKernels(reference.workers.map((w) => ({ A: w.A, b: w.b })), { inputs: 5, hidden, params: d });
        for (const line of kernels.built.kernels) assert.match(line, new RegExp(`: ${CLASS_OF[mode]}$`));
        const problem = new GpuMlpProblem(reference, kernels);
        for (let i = 0; i < 2; i++) {
          assert.equal(mlpCheckBounds(reference, reference.workers[i], x).kinks, 0, 'no pre-activation at a kink');
          const g32 = new Float64Array(d);
          const g64 = new Float64Array(d);
          problem.workers[i].gradientOnly(x, g32);
          reference.workers[i].gradient(x, g64);
          const fd = new Float64Array(d);
          const step = 1e-6;
          const xs = x.slice();
          for (let j = 0; j < d; j++) {
            xs[j] = x[j] + step;
            const up = reference.workers[i].loss(xs);
            xs[j] = x[j] - step;
            const down = reference.workers[i].loss(xs);
            xs[j] = x[j];
            fd[j] = (up - down) / (2 * step);
          }
          assert.ok(maxRelativeError(g64, fd) < 1e-7, `worker ${i}: float64 vs differences ${maxRelativeError(g64, fd)}`);
          const e = maxRelativeError(g32, fd);
          assert.ok(e < 1e-5, `worker ${i}: float32 vs differences ${e}`);
          assert.ok(maxRelativeError(g32, g64) < 1e-5 && maxRelativeError(g32, g64) > 0, 'float32, not float64');
        }
      } finally {
        backend.dispose();
      }
    });
  }
}
