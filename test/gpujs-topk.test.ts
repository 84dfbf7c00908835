/**
 * The gpu Top-k threshold (radix search over the float32 key bits, topk-kernels.ts): the search on
 * the host against a sort, then the kernels of every gpu.js mode that runs here (webasm and cpu
 * always) against the exact k-th largest float32 key on vectors with ties, NaN, ±∞, ±0, subnormals
 * and all-equal entries, k = 1 … d (WebGPU too when DCOMP_EXPECT_WEBGPU is set); and the compressor's
 * message against the float64 topk.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { GpuBackend, type GpuTopKKernels } from '../src/backends/gpujs/index.js';
import { KeySplitter, radixThreshold, float32FromBits, TOPK_CANDIDATES } from '../src/backends/gpujs/topk-kernels.js';
import { prepareGpuEnvironment } from '../src/cli/gpu.js';
import { GpuTopKCompressor } from '../src/compressors/topk-gpu.js';
import { topkSpec } from '../src/compressors/topk.js';
import { createRng } from '../src/core/rng.js';
import type { CompressContext } from '../src/compressors/types.js';
import { CLASS_OF } from './gpujs-fixtures.js';

prepareGpuEnvironment();

const installed = (() => {
  try {
    createRequire(import.meta.url).resolve('gpu.js');
    return true;
  } catch {
    return false;
  }
})();

/** The exact answer by sorting the float32 keys: NaN last; with fewer than k numbers, the smallest number. */
function sortedThreshold(v: ArrayLike<number>, length: number, k: number): { threshold: number; greater: number } {
  const keys: number[] = [];
  for (let j = 0; j < length; j++) if (!Number.isNaN(v[j])) keys.push(Math.fround(Math.abs(v[j])));
  if (keys.length === 0) return { threshold: Number.NaN, greater: 0 };
  keys.sort((a, b) => b - a);
  const threshold = keys[Math.min(k, keys.length) - 1];
  return { threshold, greater: keys.filter((a) => a > threshold).length };
}

const SUBNORMAL = 2 ** -140;

/** Vectors that exercise every corner of the key order. */
function testVectors(): Array<{ name: string; v: Float64Array }> {
  const rng = createRng(7, 'topk-test');
  const out: Array<{ name: string; v: Float64Array }> = [];
  const random = (d: number, f: (j: number) => number) => Float64Array.from({ length: d }, (_, j) => f(j));
  out.push({ name: 'normal d=1000', v: random(1000, () => rng.normal()) });
  // ties: values drawn from 9 levels, signs random; and float64 values that tie only in float32
  out.push({ name: 'ties', v: random(777, () => (rng.float() < 0.5 ? -1 : 1) * Math.floor(rng.float() * 9) * 0.25) });
  out.push({ name: 'float32 ties', v: random(300, (j) => 1 + (j % 3) * 2 ** -30) });
  out.push({
    name: 'specials',
    v: random(523, (j) => [Number.NaN, Infinity, -Infinity, 0, -0, SUBNORMAL, -SUBNORMAL * 3, 1e-38, 3.4e38, 1e300, rng.normal()][j % 11]),
  });
  out.push({ name: 'all equal', v: new Float64Array(256).fill(-2.5) });
  out.push({ name: 'all zero', v: new Float64Array(100) });
  out.push({ name: 'mostly NaN', v: random(50, (j) => (j % 10 === 3 ? j : Number.NaN)) });
  out.push({ name: 'all NaN', v: new Float64Array(20).fill(Number.NaN) });
  out.push({ name: 'one entry', v: Float64Array.from([-3]) });
  out.push({ name: 'spread exponents', v: random(600, () => rng.normal() * 2 ** Math.round(60 * rng.normal())) });
  return out;
}

function kValues(d: number): number[] {
  return [...new Set([1, 2, Math.max(1, Math.round(d / 10)), Math.max(1, Math.round(d / 2)), d - 1, d].filter((k) => k >= 1 && k <= d))];
}

test('radixThreshold on host counts equals the sorted k-th largest key, every case', async () => {
  const splitter = new KeySplitter();
  for (const { name, v } of testVectors()) {
    const d = v.length;
    const hi = new Float32Array(d);
    const lo = new Float32Array(d);
    const numbers = splitter.split(v, d, hi, lo);
    let passes = 0;
    const count = async (candidates: readonly number[]) => {
      passes++;
      assert.equal(candidates.length, TOPK_CANDIDATES);
      return candidates.map((c) => {
        let n = 0;
        for (let j = 0; j < d; j++) if (hi[j] >= 0 && hi[j] * 65536 + lo[j] >= c) n++;
        return n;
      });
    };
    for (const k of kValues(d)) {
      const want = sortedThreshold(v, d, k);
      if (numbers === 0) continue;
      passes = 0;
      const got = await radixThreshold(Math.min(k, numbers), numbers, count);
      assert.equal(passes, 8);
      assert.ok(Object.is(float32FromBits(got.bits), want.threshold), `${name} k=${k}: ${float32FromBits(got.bits)} vs ${want.threshold}`);
      assert.equal(got.greater, want.greater, `${name} k=${k}: greater`);
    }
  }
});

test('radixThreshold refuses counts that contradict themselves (a device that miscounts)', async () => {
  await assert.rejects(radixThreshold(1, 5, async () => new Array(16).fill(4)), /counted 4 keys ≥ 0, expected 5/);
  await assert.rejects(radixThreshold(1, 5, async () => [5, 2, 3, ...new Array(13).fill(0)]), /not monotone/);
});

// WebGPU where CI expects it (Mesa llvmpipe; DCOMP_EXPECT_WEBGPU=1), as the other gpu suites.
const modes: Array<'webasm' | 'cpu' | 'webgpu'> = installed ? ['webasm', 'cpu'] : [];
if (installed && process.env.DCOMP_EXPECT_WEBGPU) modes.push('webgpu');

for (const mode of modes) {
  describe(`gpu top-k threshold, mode ${mode}`, { concurrency: false }, () => {
    let backend: GpuBackend;
    let kernels: GpuTopKKernels;
    before(async () => {
      backend = await GpuBackend.open(mode);
      kernels = backend.topKKernels(1000);
    });
    after(() => backend?.dispose());

    test('labelled with the class that ran', () => {
      assert.equal(kernels.label.backend, `gpujs:${CLASS_OF[mode]}`);
    });

    test('equals the exact k-th largest float32 key and #{keys > T}: ties, NaN, ±∞, ±0, subnormals, all-equal, k = 1 … d', () => {
      for (const { name, v } of testVectors()) {
        for (const k of kValues(v.length)) {
          const want = sortedThreshold(v, v.length, k);
          const got = kernels.threshold(v, v.length, k);
          assert.ok(Object.is(got.threshold, want.threshold), `${name} k=${k}: T = ${got.threshold}, expected ${want.threshold}`);
          assert.equal(got.greater, want.greater, `${name} k=${k}: greater`);
        }
      }
    });

    test('the compressor sends the float64 topk message where no two keys tie in float32, and the first ties by index where they do', () => {
      const rng = createRng(3, 'topk-msg');
      const d = 1000;
      const v = Float64Array.from({ length: d }, () => rng.normal());
      const ctx = {} as CompressContext;
      for (const k of [1, 10, 100, 999, 1000]) {
        const cpu = topkSpec.create({ d, floatBits: 32, rng, values: { k } }).compress(v, ctx);
        const gpu = new GpuTopKCompressor(d, k, 32, kernels).compress(v);
        assert.equal(gpu.bits, cpu.bits);
        assert.deepEqual(Array.from(gpu.indices.subarray(0, k)), Array.from(cpu.indices.subarray(0, k)), `k = ${k}`);
        assert.deepEqual(Array.from(gpu.values.subarray(0, k)), Array.from(cpu.values.subarray(0, k)));
      }
      // A hand-checked case: |v| = 3, 1, 4, 1, 5 (float64 keys 1 and 1 + 2^-40 tie in float32): top 3 = {0, 2, 4};
      // top 4 adds index 1 (the smaller index of the float32 tie; float64 topk would take index 3).
      const w = Float64Array.from([-3, 1, 4, 1 + 2 ** -40, -5]);
      assert.deepEqual(Array.from(new GpuTopKCompressor(5, 3, 32, kernels).compress(w).indices.subarray(0, 3)), [0, 2, 4]);
      assert.deepEqual(Array.from(new GpuTopKCompressor(5, 4, 32, kernels).compress(w).indices.subarray(0, 4)), [0, 1, 2, 4]);
      const cpu4 = topkSpec.create({ d: 5, floatBits: 32, rng, values: { k: 4 } }).compress(w, ctx);
      assert.deepEqual(Array.from(cpu4.indices.subarray(0, 4)), [0, 2, 3, 4]);
      // NaN ranks last (taken only when fewer than k numbers), the message in index order as topk's
      const withNaN = Float64Array.from([Number.NaN, 2, Number.NaN, -7]);
      assert.deepEqual(Array.from(new GpuTopKCompressor(4, 3, 32, kernels).compress(withNaN).indices.subarray(0, 3)), [0, 1, 3]);
      const cpuNaN = topkSpec.create({ d: 4, floatBits: 32, rng, values: { k: 3 } }).compress(withNaN, ctx);
      assert.deepEqual(Array.from(cpuNaN.indices.subarray(0, 3)), [0, 1, 3]);
    });
  });
}

if (installed) {
  test('a prepared --backend gpu run gives every worker the gpu topk, whose messages equal the float64 topk where keys do not tie in float32', async () => {
    const { normalizeConfig } = await import('../src/bench/config.js');
    const { prepareRun } = await import('../src/bench/runner.js');
    const { tempDir } = await import('./bench-cli-helpers.js');
    for (const method of ['ef21', 'topk-ssgd']) {
      const config = normalizeConfig({
        dataset: 'mushrooms', method, compressor: 'topk', k: 12, workers: 4, iters: 1, x0: 'normal:0.3',
        backend: 'gpu', gpu_mode: 'webasm', allow_software_gpu: true,
      });
      const prepared = await prepareRun(config, { envDataDir: process.env.DCOMP_DATA_DIR ?? '../shared/datasets', cacheDir: tempDir('dcomp-topk-gpu-') });
      try {
        const { env, problem, x0 } = prepared;
        const d = problem.d;
        assert.equal(prepared.labels.backend, 'gpujs:WebAssemblyKernel');
        assert.equal(env.compressors.length, 4);
        const g = new Float64Array(d);
        for (let i = 0; i < 4; i++) {
          const c = env.compressors[i];
          assert.ok(c instanceof GpuTopKCompressor, `${method}: worker ${i}'s compressor is ${c.constructor.name}`);
          env.problem.workers[i].gradient(x0, g);
          const keys = Array.from(g, (a) => Math.abs(a)).sort((a, b) => b - a);
          // the k-th and (k+1)-th keys stay apart in float32, so both selections are the same set
          assert.notEqual(Math.fround(keys[11]), Math.fround(keys[12]));
          const cpu = topkSpec.create({ d, floatBits: 32, indexBits: env.indexBits, rng: createRng(0, 'x'), values: { k: 12 } }).compress(g, {} as CompressContext);
          const msg = (c as GpuTopKCompressor).compress(g);
          assert.equal(msg.bits, cpu.bits);
          assert.deepEqual(Array.from(msg.indices.subarray(0, 12)), Array.from(cpu.indices.subarray(0, 12)));
          assert.deepEqual(Array.from(msg.values.subarray(0, 12)), Array.from(cpu.values.subarray(0, 12)));
        }
      } finally {
        prepared.release();
      }
    }
  });
}
