/**
 * The gpu mlp (one hidden layer): the accuracy contract and the --hidden refusal on fake kernels
 * (no gpu.js), then the real kernels in every mode available here against the float64 mlp on
 * mushrooms (hidden 32, n = 4): the class that ran and the float32 error. webasm and cpu always run
 * when gpu.js is installed; WebGPU when DCOMP_EXPECT_WEBGPU is set (CI, Mesa llvmpipe). Without the
 * optional dependency (npm ci --omit=optional) the backend's clear refusal is asserted instead.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { maxRelativeError } from '../src/backends/accuracy.js';
import { GpuBackend, type GpuMlpKernels } from '../src/backends/gpujs/index.js';
import type { BackendLabel, GpuMode, MlpKernels } from '../src/backends/types.js';
import { prepareGpuRun } from '../src/bench/gpu-run.js';
import { prepareGpuEnvironment } from '../src/cli/gpu.js';
import { DcompError, UsageError } from '../src/core/errors.js';
import { createRng } from '../src/core/rng.js';
import { mlpSpec, type MlpProblem } from '../src/problems/mlp.js';
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

test('--backend gpu refuses an mlp with more than one hidden layer with exit 2 naming --hidden', async () => {
  const deep = mushroomsMlp([16, 8]);
  await assert.rejects(
    prepareGpuRun(deep, initialPoint(deep), { mode: 'webasm', allowSoftware: false }),
    (err: unknown) => err instanceof UsageError && /^--hidden 16,8: .*one hidden layer only/.test((err as Error).message),
  );
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
  for (const mode of modes) defineMlpModeSuite(mode);
}

function defineMlpModeSuite(mode: Exclude<GpuMode, 'auto'>): void {
  describe(`gpu mlp kernels, mode ${mode}, mushrooms 112 → 32 → 1 (n = 4)`, { concurrency: false }, () => {
    const reference = mushroomsMlp([32], 4, 1e-3);
    const d = reference.d;
    const x0 = initialPoint(reference);
    let backend: GpuBackend;
    let kernels: GpuMlpKernels;
    let problem: GpuMlpProblem;

    before(async () => {
      backend = await GpuBackend.open(mode);
      kernels = backend.mlpKernels(
        reference.workers.map((w) => ({ A: w.A, b: w.b })),
        { inputs: reference.layout.sizes[0], hidden: 32, params: d },
      );
      problem = new GpuMlpProblem(reference, kernels);
    });
    after(() => backend?.dispose());

    test('every kernel ran as the mode class, and the rows say so', () => {
      assert.equal(problem.label.backend, `gpujs:${CLASS_OF[mode]}`);
      assert.equal(problem.label.precision, 'float32');
      assert.equal(kernels.built.kernels.length, 3);
      for (const line of kernels.built.kernels) assert.match(line, new RegExp(`: ${CLASS_OF[mode]}$`));
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
