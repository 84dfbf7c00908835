/**
 * The gpu.js backend: layout packing, labels and the software rule (pure), then every mode that runs
 * here against the float64 reference on mushrooms. webasm and cpu always run; WebGPU and GL run
 * when the machine has them, and CI sets DCOMP_EXPECT_WEBGPU=1 (Mesa llvmpipe) so that a missing
 * adapter fails instead of being reported. Each mode asserts the class of the kernels that ran, so a
 * silent gpu.js fallback to its CPU kernel fails the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maxRelativeError } from '../src/backends/accuracy.js';
import { loadGpuJs } from '../src/backends/gpujs/api.js';
import { openMode } from '../src/backends/gpujs/device.js';
import { GpuBackend, GpuUnavailableError, probeGpuModes } from '../src/backends/gpujs/index.js';
import { deviceLabel, isSoftwareRendererName, softwareRefusal, type SelectedDevice } from '../src/backends/gpujs/label.js';
import { ellLayout, packShards } from '../src/backends/gpujs/layout.js';
import { checkKernelClass, SilentFallbackError } from '../src/backends/gpujs/program.js';
import { prepareGpuEnvironment } from '../src/cli/gpu.js';
import { prepareGpuRun } from '../src/bench/gpu-run.js';
import { UsageError } from '../src/core/errors.js';
import { logregNonconvexSpec, logregSpec } from '../src/problems/logreg.js';
import { GPU_GRADIENT_TOLERANCE, GpuLogregProblem, logregShardData } from '../src/problems/logreg-gpu.js';
import { contiguousShards, denseData, readDataset } from './problems-fixtures.js';
import { CLASS_OF, defineModeSuite } from './gpujs-fixtures.js';

prepareGpuEnvironment();

// ---------------------------------------------------------------------------------------------
// Pure parts
// ---------------------------------------------------------------------------------------------

test('packShards: concatenated CSR, per-shard CSC with global rows, 1/N_i per row; ELL pads with column d', () => {
  // shard 0: rows [1 0 2], [0 3 0]; shard 1: row [4 0 5]
  const data = denseData([[1, 0, 2], [0, 3, 0], [4, 0, 5]], [1, -1, 1]);
  const reference = logregSpec.create(data, { shards: [Int32Array.from([0, 1]), Int32Array.from([2])] });
  const p = packShards(logregShardData(reference));
  assert.deepEqual(Array.from(p.rowPtr), [0, 2, 3, 5]);
  assert.deepEqual(Array.from(p.colIdx), [0, 2, 1, 0, 2]);
  assert.deepEqual(Array.from(p.values), [1, 2, 3, 4, 5]);
  assert.deepEqual(Array.from(p.labels), [1, -1, 1]);
  assert.deepEqual(Array.from(p.rowScale), [0.5, 0.5, 1]);
  // cells 0..2 = shard 0 columns 0..2, cells 3..5 = shard 1
  assert.deepEqual(Array.from(p.colPtr), [0, 1, 2, 3, 4, 4, 5]);
  assert.deepEqual(Array.from(p.rowIdx), [0, 1, 0, 2, 2]);
  assert.deepEqual(Array.from(p.cscValues), [1, 3, 2, 4, 5]);
  assert.equal(p.maxRowLength, 2);
  assert.equal(p.maxColumnLength, 1);
  const ell = ellLayout(p);
  assert.equal(ell.width, 2);
  // column-major: slot 0 of rows 0..2, then slot 1 (row 1 has one entry: padded with column d = 3)
  assert.deepEqual(Array.from(ell.ellCols), [0, 1, 0, 2, 3, 2]);
  assert.deepEqual(Array.from(ell.ellValues), [1, 3, 4, 2, 0, 5]);
  assert.equal(ell.paddingRatio, 6 / 5);
});

test('packShards refuses sizes whose float32 indices would not be exact', () => {
  const big = { rows: 1, cols: 2 ** 24, rowPtr: Int32Array.from([0, 1]), colIdx: Int32Array.from([0]), values: Float64Array.from([1]) };
  assert.throws(() => packShards([{ A: big, b: Float64Array.from([1]) }]), /2\^24/);
});

test('software renderer names and the device label', () => {
  for (const name of ['llvmpipe (LLVM 15.0.6, 256 bits)', 'llvmpipe-llvm-15-0-6-256-bits-', 'Lavapipe', 'softpipe', 'SwiftShader Device (Subzero)', 'ANGLE (Mesa/X.org llvmpipe (LLVM 15.0.6, 256 bits) OpenGL 4.5 core)']) {
    assert.ok(isSoftwareRendererName(name), name);
  }
  for (const name of ['NVIDIA GeForce RTX 4090', 'AMD Radeon RX 7900', 'Apple M2', 'ANGLE (NVIDIA Corporation, NVIDIA A100)']) {
    assert.ok(!isSoftwareRendererName(name), name);
  }
  assert.equal(deviceLabel('llvmpipe-llvm-15-0-6-256-bits-', true), 'llvmpipe-llvm-15-0-6-256-bits (software)');
  assert.equal(deviceLabel('NVIDIA A100', false), 'NVIDIA A100');
  assert.equal(deviceLabel('x (software)', true), 'x (software)');
});

function selected(partial: Partial<SelectedDevice>): SelectedDevice {
  return { requested: 'auto', mode: 'webgpu', kernelClass: 'WebGPUKernel', device: 'd', software: false, detail: '', skipped: [], ...partial };
}

test('software rule: a software renderer, or auto ending on the CPU, is refused unless allowed; explicit CPU modes pass', () => {
  const llvmpipe = selected({ requested: 'webgpu', software: true, device: 'llvmpipe (software)' });
  assert.match(softwareRefusal(llvmpipe, false) ?? '', /software renderer \(llvmpipe \(software\)\).*--allow-software-gpu/);
  assert.equal(softwareRefusal(llvmpipe, true), undefined);
  const autoWasm = selected({ mode: 'webasm', kernelClass: 'WebAssemblyKernel', skipped: ['webgpu: no WebGPU adapter'] });
  assert.match(softwareRefusal(autoWasm, false) ?? '', /no GPU found \(webgpu: no WebGPU adapter\).*--gpu-mode webasm/);
  assert.equal(softwareRefusal(selected({ requested: 'webasm', mode: 'webasm', kernelClass: 'WebAssemblyKernel' }), false), undefined);
  assert.equal(softwareRefusal(selected({ requested: 'cpu', mode: 'cpu', kernelClass: 'CPUKernel' }), false), undefined);
  assert.equal(softwareRefusal(selected({ device: 'NVIDIA A100' }), false), undefined);
  assert.match(softwareRefusal(selected({ requested: 'gl', mode: 'gl', software: true }), false) ?? '', /GL renderer/);
});

test('maxRelativeError is relative to the largest reference entry', () => {
  assert.equal(maxRelativeError([1, 2.5, 0], [1, 2, 0]), 0.25);
  assert.equal(maxRelativeError([0, 0], [0, 0]), 0);
  assert.equal(maxRelativeError([1e-9, 0], [0, 0]), Infinity);
  assert.ok(Number.isNaN(maxRelativeError([NaN, 1], [1, 1])));
});

// ---------------------------------------------------------------------------------------------
// Every mode that runs here
// ---------------------------------------------------------------------------------------------

const gpujsInstalled = (await loadGpuJs()).ok;
const probes = gpujsInstalled ? await probeGpuModes(['webgpu', 'webasm', 'cpu']) : [];
const expectWebGpu = process.env.DCOMP_EXPECT_WEBGPU === '1';

test('without the optional gpu.js the backend says it is not installed', { concurrency: false }, async () => {
  if (gpujsInstalled) {
    // installed: every probe answers with a class or a reason, never silently
    for (const p of probes) assert.ok(p.ok ? p.kernelClass === CLASS_OF[p.mode] : typeof p.reason === 'string' && p.reason.length > 0, JSON.stringify(p));
    return;
  }
  await assert.rejects(GpuBackend.open('webasm'), (err: Error) => err instanceof GpuUnavailableError && /gpu\.js is not installed/.test(err.message));
});

test('probes: webasm and cpu run here; WebGPU when CI expects it', async () => {
  if (!gpujsInstalled) {
    assert.ok(!expectWebGpu, 'DCOMP_EXPECT_WEBGPU=1 but the optional gpu.js is not installed');
    for (const p of await probeGpuModes()) assert.match(p.reason ?? '', /gpu\.js is not installed/);
    return;
  }
  const byMode = new Map(probes.map((p) => [p.mode, p]));
  for (const mode of ['webasm', 'cpu'] as const) {
    const p = byMode.get(mode)!;
    assert.ok(p.ok, `${mode}: ${p.reason}`);
    assert.equal(p.kernelClass, CLASS_OF[mode]);
  }
  const webgpu = byMode.get('webgpu')!;
  if (expectWebGpu) {
    assert.ok(webgpu.ok, `DCOMP_EXPECT_WEBGPU=1 but WebGPU did not run: ${webgpu.reason}`);
    assert.equal(webgpu.kernelClass, 'WebGPUKernel');
    assert.match(webgpu.device ?? '', /\(software\)$/, 'CI has only Mesa: the adapter must be labelled software');
  } else if (!webgpu.ok) {
    assert.match(webgpu.reason ?? '', /adapter|webgpu/i);
  }
});

test('a kernel gpu.js silently moved to its CPU fallback is detected', async () => {
  const opened = await openMode('webasm');
  if (!gpujsInstalled) {
    assert.match(String(opened), /gpu\.js is not installed/);
    return;
  }
  assert.ok(typeof opened !== 'string', String(opened));
  // Kernel maps are not supported by the WebAssembly backend: gpu.js degrades them to CPUKernel
  // with a console warning and no error.
  const gpu = opened.gpu as unknown as { createKernelMap(map: unknown, fn: unknown, s: unknown): Parameters<typeof checkKernelClass>[1] };
  const kernel = gpu.createKernelMap(
    { doubled },
    function (this: { thread: { x: number } }, a: number[]) {
      return doubled(a[this.thread.x]) + 1.0;
    },
    { output: [4] },
  );
  const warn = console.warn;
  console.warn = () => {};
  try {
    (kernel as unknown as (a: Float32Array) => unknown)(new Float32Array([1, 2, 3, 4]));
  } finally {
    console.warn = warn;
  }
  assert.equal(kernel.kernel.constructor.name, 'CPUKernel', 'precondition: gpu.js fell back');
  assert.throws(() => checkKernelClass(opened, kernel, 'map'), (err: Error) => err instanceof SilentFallbackError && /ran as CPUKernel, not WebAssemblyKernel/.test(err.message));
});

/** The sub-kernel of the fallback test (gpu.js calls it by name from the kernel's source). */
function doubled(v: number): number {
  return v * 2.0;
}

// GL runs in test/backends-gpujs-gl.test.ts: Dawn on Mesa's EGL and headless-gl on GLX in one
// process can abort it with an X error.
const modesHere = (['webasm', 'cpu', 'webgpu'] as const).filter((m) => probes.some((p) => p.mode === m && p.ok));

for (const mode of modesHere) defineModeSuite(mode);

test('the non-convex problem runs on the gpu kernels too (regulariser in float64)', async () => {
  const data = readDataset('mushrooms', 800);
  const reference = logregNonconvexSpec.create(data, { shards: contiguousShards(data.X.rows, 3) });
  if (!gpujsInstalled) {
    await assert.rejects(GpuBackend.open('webasm'), /gpu\.js is not installed/);
    return;
  }
  const backend = await GpuBackend.open('webasm');
  try {
    const problem = new GpuLogregProblem(reference, backend.logregKernels(logregShardData(reference)));
    const x = Float64Array.from({ length: reference.d }, (_, j) => Math.cos(j));
    const g = new Float64Array(reference.d);
    const ref = new Float64Array(reference.d);
    const f = problem.gradient(x, g);
    const fRef = reference.gradient(x, ref);
    assert.ok(maxRelativeError(g, ref) < GPU_GRADIENT_TOLERANCE);
    assert.ok(Math.abs(f - fRef) / fRef < 1e-6);
  } finally {
    backend.dispose();
  }
});

test('prepareGpuRun: labels and logs what ran, applies the software rule, refuses problems without kernels', async () => {
  const data = readDataset('mushrooms', 600);
  const reference = logregSpec.create(data, { shards: contiguousShards(data.X.rows, 2) });
  const x0 = new Float64Array(reference.d);
  if (!gpujsInstalled) {
    await assert.rejects(prepareGpuRun(reference, x0, { mode: 'webasm', allowSoftware: false }), (e: Error) => e instanceof UsageError && /not installed/.test(e.message));
    return;
  }
  const run = await prepareGpuRun(reference, x0, { mode: 'webasm', allowSoftware: false });
  try {
    assert.deepEqual(run.label, { backend: 'gpujs:WebAssemblyKernel', device: run.backend.selected.device, precision: 'float32' });
    assert.match(run.log[0], /^gpu backend: gpujs:WebAssemblyKernel on .*, float32, (ELL|CSR) rows$/);
    assert.ok(run.log.some((l) => /gradients at x⁰ within .* of float64/.test(l)));
    const g = new Float64Array(reference.d);
    run.problem.gradient(x0, g);
    assert.ok(g.some((v) => v !== 0));
  } finally {
    run.backend.dispose();
  }
  const quadratic = { ...reference, name: 'quadratic' } as unknown as typeof reference;
  await assert.rejects(prepareGpuRun(quadratic, x0, { mode: 'webasm', allowSoftware: false }), /problem quadratic has no gpu kernels/);
  const webgpu = probes.find((p) => p.mode === 'webgpu');
  if (webgpu?.ok && webgpu.software) {
    await assert.rejects(
      prepareGpuRun(reference, x0, { mode: 'webgpu', allowSoftware: false }),
      (e: Error) => e instanceof UsageError && e.exitCode === 2 && /software renderer .*--allow-software-gpu/.test(e.message),
    );
    const allowed = await prepareGpuRun(reference, x0, { mode: 'webgpu', allowSoftware: true });
    assert.match(allowed.label.device, /\(software\)$/);
    allowed.backend.dispose();
  }
});
