/** The per-mode test suite of the gpu.js backend (used by backends-gpujs*.test.ts). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { maxRelativeError } from '../src/backends/accuracy.js';
import { GpuBackend, type GpuLogregKernels } from '../src/backends/gpujs/index.js';
import type { GpuMode } from '../src/backends/types.js';
import { GpuTopKCompressor } from '../src/compressors/topk-gpu.js';
import { gdSpec } from '../src/methods/gd.js';
import { ef21Spec } from '../src/methods/ef21.js';
import { logregSpec, type LogregProblem } from '../src/problems/logreg.js';
import { checkGpuGradients, GPU_GRADIENT_TOLERANCE, GpuLogregProblem, logregShardData } from '../src/problems/logreg-gpu.js';
import { contiguousShards, readDataset } from './problems-fixtures.js';
import { firstBitDifference, makeEnv, run } from './methods-fixtures.js';

export const CLASS_OF: Readonly<Record<Exclude<GpuMode, 'auto'>, string>> = {
  webgpu: 'WebGPUKernel',
  gl: 'HeadlessGLKernel',
  webasm: 'WebAssemblyKernel',
  cpu: 'CPUKernel',
};

/** Every kernel of one mode against the float64 reference on mushrooms (n = 4). */
export function defineModeSuite(mode: Exclude<GpuMode, 'auto'>): void {
  describe(`gpu mode ${mode} on mushrooms (n = 4)`, { concurrency: false }, () => {
    const data = readDataset('mushrooms');
    const reference = logregSpec.create(data, { shards: contiguousShards(data.X.rows, 4) }) as LogregProblem;
    const d = reference.d;
    let backend: GpuBackend;
    let kernels: GpuLogregKernels;
    const x = Float64Array.from({ length: d }, (_, j) => 0.4 * Math.sin(3 * j + 1));

    before(async () => {
      backend = await GpuBackend.open(mode);
      kernels = backend.logregKernels(logregShardData(reference));
    });
    after(() => backend?.dispose());

    test('labels say which class ran, and every kernel ran as it', () => {
      assert.equal(backend.label.backend, `gpujs:${CLASS_OF[mode]}`);
      assert.equal(backend.label.precision, 'float32');
      assert.ok(kernels.built.kernels.length >= 6);
      for (const line of kernels.built.kernels) assert.match(line, new RegExp(`: ${CLASS_OF[mode]}$`));
      if (mode === 'webasm' || mode === 'cpu') assert.equal(backend.selected.software, false);
    });

    test('gradients of all shards in one dispatch match float64 within the tolerance; one-shard dispatch gives the same bits', () => {
      const outs = reference.workers.map(() => new Float64Array(d));
      kernels.gradients(x, outs);
      const one = new Float64Array(d);
      for (let i = 0; i < 4; i++) {
        const ref = new Float64Array(d);
        reference.workers[i].writeRegulariserGradient(x, ref);
        const full = new Float64Array(d);
        reference.workers[i].gradient(x, full);
        for (let j = 0; j < d; j++) ref[j] = full[j] - ref[j]; // the data term alone
        const e = maxRelativeError(outs[i], ref);
        assert.ok(e < GPU_GRADIENT_TOLERANCE && e > 0, `worker ${i}: relative error ${e}`);
        kernels.shardGradient(i, x, one);
        assert.ok(Number.isNaN(firstBitDifference(one, outs[i])), `worker ${i}: one-shard and all-shard results differ`);
      }
    });

    test('minibatch gradient and loss match the float64 minibatch (a repeated row counts twice)', () => {
      const rows = Int32Array.from([5, 17, 5, 300, 1000, 2030]);
      const ref = new Float64Array(d);
      const refLoss = reference.workers[2].referenceBatchGradient(x, rows, rows.length, ref);
      const problem = new GpuLogregProblem(reference, kernels);
      const got = new Float64Array(d);
      const loss = problem.workers[2].batchGradient(x, rows, rows.length, got);
      assert.ok(maxRelativeError(got, ref) < GPU_GRADIENT_TOLERANCE, `batch gradient error ${maxRelativeError(got, ref)}`);
      assert.ok(Math.abs(loss - refLoss) / refLoss < 1e-5, `batch loss ${loss} vs ${refLoss}`);
    });

    test('loss and imp-a scores match float64', () => {
      const problem = new GpuLogregProblem(reference, kernels);
      const f32 = problem.loss(x);
      const f64 = reference.loss(x);
      assert.ok(Math.abs(f32 - f64) / f64 < 1e-6, `loss ${f32} vs ${f64}`);
      const v = Float64Array.from({ length: d }, (_, j) => (j % 7 === 0 ? 0 : Math.cos(j)));
      const eta = 0.8;
      const got = new Float64Array(d);
      const ref = new Float64Array(d);
      problem.workers[1].coordinateDecrease(x, v, eta, got);
      reference.workers[1].referenceCoordinateDecrease(x, v, eta, ref);
      for (let j = 0; j < d; j += 7) assert.equal(got[j], 0, 'v_j = 0 scores exactly 0');
      const e = maxRelativeError(got, ref);
      assert.ok(e < 1e-4, `imp-a scores: relative error ${e}`);
    });

    test('top-k threshold is the k-th largest float32 |v_j|; the compressor keeps the same set as topk on these keys', () => {
      const topk = backend.topKKernels(d);
      const v = Float64Array.from({ length: d }, (_, j) => Math.sin(7 * j) * (j % 5 === 0 ? 1 : 0.5));
      for (const k of [1, 5, 10, d]) {
        const sorted = Array.from(v, (a) => Math.fround(Math.abs(a))).sort((a, b) => b - a);
        const { threshold, greater } = topk.threshold(v, d, k);
        assert.equal(threshold, sorted[k - 1], `k = ${k}`);
        assert.equal(greater, sorted.filter((a) => a > sorted[k - 1]).length);
        const msg = new GpuTopKCompressor(d, k, 32, topk).compress(v);
        const kept = new Set(Array.from(msg.indices.subarray(0, k)));
        assert.equal(kept.size, k);
        for (let j = 0; j < d; j++) if (Math.fround(Math.abs(v[j])) > threshold) assert.ok(kept.has(j), `k = ${k}: ${j} above T not kept`);
      }
      // ties at the threshold: smaller index first
      const flat = new Float64Array(d).fill(1);
      const msg = new GpuTopKCompressor(d, 3, 32, topk).compress(flat);
      assert.deepEqual(Array.from(msg.indices.subarray(0, 3)), [0, 1, 2]);
    });

    test('the accuracy contract passes at x⁰ = 0 and at x, and fails with a clear message below the error', () => {
      const problem = new GpuLogregProblem(reference, kernels);
      const zero = checkGpuGradients(problem, new Float64Array(d));
      assert.ok(zero.maxScaledError < GPU_GRADIENT_TOLERANCE);
      const at = checkGpuGradients(problem, x);
      assert.ok(at.maxScaledError > 0 && at.maxScaledError < GPU_GRADIENT_TOLERANCE);
      // the terms' magnitude is at least the result's, so the scaled error is the smaller one
      assert.ok(at.maxScaledError <= at.maxRelativeError);
      // a tolerance below the float32 error must trip: the check is not vacuous
      assert.throws(() => checkGpuGradients(problem, x, at.maxScaledError / 2), /differs from the float64 one by .* beyond the tolerance/);
    });

    test('EF21 with identity reproduces GD on the gpu problem, and both stay within float32 rounding of float64 GD', () => {
      const problem = new GpuLogregProblem(reference, kernels);
      const gamma = 1 / problem.smoothness().L;
      const iters = 15;
      const gd = run(gdSpec, makeEnv(problem, { stepSize: gamma }), x, iters).xs;
      const ef21 = run(ef21Spec, makeEnv(problem, { compressor: 'identity', stepSize: gamma }), x, iters).xs;
      const cpu = run(gdSpec, makeEnv(reference, { stepSize: gamma }), x, iters).xs;
      for (let t = 0; t <= iters; t++) {
        const j = firstBitDifference(ef21[t], gd[t]);
        assert.ok(Number.isNaN(j), `x^${t}: ef21 differs from gd at ${j}`);
        // float32 gradients, float64 iterates: the deviation stays at the gradients' relative error
        const e = maxRelativeError(gd[t], cpu[t]);
        assert.ok(e < 1e-5, `x^${t}: gpu gd vs cpu gd relative deviation ${e}`);
      }
      assert.notDeepEqual(gd[iters], gd[0]);
    });
  });
}
