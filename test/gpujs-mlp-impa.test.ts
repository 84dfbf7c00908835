/**
 * imp-a's scores of the one-hidden-layer mlp on gpu.js (mlp-impa-kernels.ts): the scale of the
 * contract and its check on fake kernels (no gpu.js), then the kernels of the webasm and cpu modes
 * (and WebGPU when DCOMP_EXPECT_WEBGPU is set) against the float64 JS reference
 * (MlpShard.referenceCoordinateDecrease) on mushrooms, and a run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { GpuBackend, type GpuMlpImpAKernels } from '../src/backends/gpujs/index.js';
import type { BackendLabel, GpuMode, MlpCoordinateKernels } from '../src/backends/types.js';
import { prepareGpuEnvironment } from '../src/cli/gpu.js';
import { DcompError } from '../src/core/errors.js';
import { createRng } from '../src/core/rng.js';
import { mlpSpec, type MlpProblem } from '../src/problems/mlp.js';
import { GpuMlpProblem } from '../src/problems/mlp-gpu.js';
import { checkGpuMlpScores, GPU_MLP_SCORE_TOLERANCE, mlpScoreScale } from '../src/problems/mlp-gpu-impa.js';
import type { MlpKernels } from '../src/backends/types.js';
import { contiguousShards, readDataset } from './problems-fixtures.js';
import { CLASS_OF } from './gpujs-fixtures.js';
import { dcomp, tempDir } from './bench-cli-helpers.js';

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

function mushroomsMlp(l2: number, workers = 4): MlpProblem {
  return mlpSpec.create(data, { shards: contiguousShards(data.X.rows, workers), values: { hidden: [32], l2 } }) as MlpProblem;
}

function initialPoint(problem: MlpProblem, seed = 0): Float64Array {
  const x = new Float64Array(problem.d);
  problem.initialize(createRng(seed, 'init'), x);
  return x;
}

/** Unused by imp-a: the gradient kernels of GpuMlpProblem, from the reference (λ = 0 not needed here). */
class NoGradients implements MlpKernels {
  readonly label: BackendLabel = { backend: 'gpujs:FakeKernel', device: 'test', precision: 'float32' };
  readonly workers: number;
  readonly d: number;
  readonly rowOffset: Int32Array;
  constructor(reference: MlpProblem) {
    this.workers = reference.workers.length;
    this.d = reference.d;
    this.rowOffset = new Int32Array(this.workers + 1);
  }
  evaluate(): void {
    throw new Error('not used here');
  }
  dispose(): void {}
}

/** float64 row sums from the reference (λ = 0: the scores times N_i), optionally off by `corruption` on the output bias. */
class FakeCoordinateKernels implements MlpCoordinateKernels {
  readonly label: BackendLabel = { backend: 'gpujs:FakeKernel', device: 'test', precision: 'float32' };
  readonly workers: number;
  readonly d: number;
  corruption = 0;
  constructor(private readonly reference: MlpProblem) {
    this.workers = reference.workers.length;
    this.d = reference.d;
  }
  coordinateDecreaseSums(worker: number, x: Float64Array, v: Float64Array, eta: number, out: Float64Array): void {
    const w = this.reference.workers[worker];
    w.referenceCoordinateDecrease(x, v, eta, out);
    for (let j = 0; j < this.d; j++) out[j] *= w.rows;
    if (worker === 0) out[this.d - 1] += this.corruption * w.rows;
  }
  dispose(): void {}
}

test('the imp-a score scale bounds every score, and the check passes exact kernels and stops a wrong one naming worker, error and tolerance', () => {
  const reference = mushroomsMlp(0);
  const x0 = initialPoint(reference);
  const v = new Float64Array(reference.d);
  const w = new Float64Array(reference.d);
  reference.workers[1].gradient(x0, v);
  reference.workers[1].referenceCoordinateDecrease(x0, v, 0.5, w);
  const scale = mlpScoreScale(reference, reference.workers[1], x0, v, 0.5);
  let largest = 0;
  for (const s of w) largest = Math.max(largest, Math.abs(s));
  assert.ok(largest > 0 && scale >= largest * (1 - 1e-12), `scale ${scale} vs largest score ${largest}`);
  const problem = new GpuMlpProblem(reference, new NoGradients(reference));
  const fake = new FakeCoordinateKernels(reference);
  problem.coordinateKernels = fake;
  assert.ok(checkGpuMlpScores(problem, x0, 0.5).maxScaledError < 1e-12);
  reference.workers[0].gradient(x0, v);
  fake.corruption = 1e-3 * mlpScoreScale(reference, reference.workers[0], x0, v, 0.5);
  assert.throws(
    () => checkGpuMlpScores(problem, x0, 0.5),
    (err: unknown) => err instanceof DcompError && /imp-a scores of worker 0 differ .* by 1\.00e-3 .* tolerance 1e-4/.test((err as Error).message),
  );
});

function defineImpASuite(mode: Exclude<GpuMode, 'auto'>): void {
  describe(`gpu mlp imp-a scores, mode ${mode}, mushrooms 112 → 32 → 1 (n = 4)`, { concurrency: false }, () => {
    const reference = mushroomsMlp(1e-3);
    const d = reference.d;
    const x0 = initialPoint(reference);
    let backend: GpuBackend;
    let impA: GpuMlpImpAKernels;
    let problem: GpuMlpProblem;

    before(async () => {
      backend = await GpuBackend.open(mode);
      const shards = reference.workers.map((w) => ({ A: w.A, b: w.b }));
      const shape = { inputs: reference.layout.sizes[0], hidden: 32, params: d };
      problem = new GpuMlpProblem(reference, backend.mlpKernels(shards, { ...shape, hidden: [32] }));
      impA = backend.mlpImpAKernels(shards, shape);
      problem.coordinateKernels = impA;
    });
    after(() => backend?.dispose());

    test('every kernel ran as the mode class', () => {
      assert.equal(impA.label.backend, `gpujs:${CLASS_OF[mode]}`);
      assert.equal(impA.built.kernels.length, 3);
      for (const line of impA.built.kernels) assert.match(line, new RegExp(`: ${CLASS_OF[mode]}$`));
    });

    test('scores match the float64 reference within the tolerance at x⁰ and a trained point, small and large moves; v_j = 0 scores exactly 0', () => {
      const trained = x0.slice();
      const g = new Float64Array(d);
      for (let t = 0; t < 20; t++) {
        reference.gradient(trained, g);
        for (let j = 0; j < d; j++) trained[j] -= 0.5 * g[j];
      }
      const got = new Float64Array(d);
      const want = new Float64Array(d);
      const v = new Float64Array(d);
      let worst = 0;
      for (const x of [x0, trained]) {
        for (const worker of [0, 3]) {
          for (const eta of [0.5, 300]) {
            reference.workers[worker].gradient(x, v);
            for (let j = 0; j < d; j += 7) v[j] = 0;
            problem.workers[worker].coordinateDecrease(x, v, eta, got);
            reference.workers[worker].referenceCoordinateDecrease(x, v, eta, want);
            for (let j = 0; j < d; j += 7) assert.equal(got[j], 0, 'v_j = 0 scores exactly 0');
            let diff = 0;
            for (let j = 0; j < d; j++) diff = Math.max(diff, Math.abs(got[j] - want[j]));
            const e = diff / mlpScoreScale(reference, reference.workers[worker], x, v, eta);
            assert.ok(e < GPU_MLP_SCORE_TOLERANCE, `worker ${worker} η ${eta}: scaled error ${e}`);
            worst = Math.max(worst, e);
          }
        }
      }
      assert.ok(worst > 0, 'float32 cannot agree bit for bit with float64');
    });

    test('the run-time check passes at x⁰', () => {
      const c = checkGpuMlpScores(problem, x0, 0.5);
      assert.ok(c.maxScaledError > 0 && c.maxScaledError < GPU_MLP_SCORE_TOLERANCE, `scaled error ${c.maxScaledError}`);
    });
  });
}

if (installed) {
  const modes: Array<Exclude<GpuMode, 'auto'>> = ['webasm', 'cpu'];
  if (process.env.DCOMP_EXPECT_WEBGPU) modes.push('webgpu');
  for (const mode of modes) defineImpASuite(mode);

  test('dcomp run --problem mlp --compressor imp-a --backend gpu --gpu-mode webasm computes the scores on the device, checked, and follows the cpu run', () => {
    const cache = tempDir('dcomp-mlp-impa-');
    const args = ['run', '--dataset', 'mushrooms', '--problem', 'mlp', '--method', 'cgd', '--compressor', 'imp-a', '--k', '100', '--workers', '4',
      '--iters', '6', '--log-every', '3', '--step', '0.5', '--x0', 'init'];
    const gpu = dcomp([...args, '--backend', 'gpu', '--gpu-mode', 'webasm', '--allow-software-gpu'], cache);
    assert.equal(gpu.status, 0, gpu.stderr);
    assert.match(gpu.stderr, /gpu backend: imp-a scores on the device, at x⁰ \(v = ∇f_i, η = 0\.5\) within \S+ of float64 relative to the summed terms \(tolerance 1e-4\)/);
    const cpu = dcomp(args, cache);
    assert.equal(cpu.status, 0, cpu.stderr);
    assert.doesNotMatch(cpu.stderr, /imp-a scores on the device/);
    const column = (csv: string, name: string) => {
      const [header, ...lines] = csv.trimEnd().split('\n');
      const at = header.split(',').indexOf(name);
      return lines.map((l) => l.split(',')[at]);
    };
    assert.deepEqual(column(gpu.stdout, 'backend'), ['gpujs:WebAssemblyKernel', 'gpujs:WebAssemblyKernel', 'gpujs:WebAssemblyKernel']);
    const lg = column(gpu.stdout, 'loss').map(Number);
    const lc = column(cpu.stdout, 'loss').map(Number);
    assert.equal(lg[0], lc[0]);
    for (let t = 1; t < lc.length; t++) assert.ok(Math.abs(lg[t] - lc[t]) / lc[t] < 1e-5, `row ${t}: loss ${lg[t]} vs cpu ${lc[t]}`);
    // the same k coordinates each step → the same bits
    assert.deepEqual(column(gpu.stdout, 'bits_up_total'), column(cpu.stdout, 'bits_up_total'));
  });
}
