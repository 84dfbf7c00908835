/**
 * `dcomp run --backend gpu` end to end: every row says what really computed the numbers
 * (backend gpujs:<class>, device, float32), the metrics stay float64 evaluations of the float32
 * trajectory and follow the cpu run within float32 rounding, a software-only device is refused unless
 * --allow-software-gpu, and the gpu options do not apply to the cpu backend. Without the optional
 * dependencies (npm ci --omit=optional) the backend answers with exit 2 and says how to install it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dcomp, tempDir } from './bench-cli-helpers.js';
import { parseCsvRecords } from '../src/report/read-csv.js';

const cache = tempDir('dcomp-run-gpu-cache-');
const installed = (() => {
  try {
    createRequire(import.meta.url).resolve('gpu.js');
    return true;
  } catch {
    return false;
  }
})();

function rows(csv: string): Record<string, string>[] {
  const [header, ...records] = parseCsvRecords(csv).map((r) => r.cells);
  return records.map((cells) => Object.fromEntries(cells.map((v, i) => [header[i], v])));
}

/** Without the optional gpu.js (CI's --omit=optional pass) every gpu run must exit 2 saying so. */
function refusedWithoutGpuJs(r: { status: number | null; stderr: string }): boolean {
  if (installed) return false;
  assert.equal(r.status, 2);
  assert.match(r.stderr, /gpu\.js is not installed/);
  return true;
}

const RUN = ['run', '--dataset', 'mushrooms', '--method', 'ef21', '--compressor', 'topk', '--k', '10', '--workers', '4', '--iters', '20', '--log-every', '5'];

test('--backend gpu --gpu-mode webasm labels every row with the kernel class that ran and stays within float32 rounding of cpu', () => {
  const gpu = dcomp([...RUN, '--backend', 'gpu', '--gpu-mode', 'webasm'], cache);
  if (refusedWithoutGpuJs(gpu)) return;
  assert.equal(gpu.status, 0, gpu.stderr);
  assert.match(gpu.stderr, /gpu backend: gpujs:WebAssemblyKernel/);
  const cpu = rows(dcomp(RUN, cache).stdout);
  const g = rows(gpu.stdout);
  assert.equal(g.length, cpu.length);
  for (let i = 0; i < g.length; i++) {
    assert.equal(g[i].backend, 'gpujs:WebAssemblyKernel');
    assert.equal(g[i].precision, 'float32');
    assert.notEqual(g[i].device, '');
    assert.doesNotMatch(g[i].device, /\(software\)/, 'a CPU kernel is not a software GPU');
    const rel = Math.abs(Number(g[i].grad_norm_sq) - Number(cpu[i].grad_norm_sq)) / Number(cpu[i].grad_norm_sq);
    assert.ok(rel < 1e-4, `row ${i}: ‖∇f‖² ${g[i].grad_norm_sq} vs cpu ${cpu[i].grad_norm_sq}`);
  }
  // iteration 0 is the same float64 evaluation at the same x⁰
  assert.equal(g[0].loss, cpu[0].loss);
  assert.equal(g[0].grad_norm_sq, cpu[0].grad_norm_sq);
});

test('on a software-only WebGPU device --backend gpu exits 2 unless --allow-software-gpu, and then says (software)', () => {
  const refused = dcomp([...RUN, '--backend', 'gpu', '--gpu-mode', 'webgpu'], cache);
  assert.equal(refused.status, 2);
  assert.equal(refused.stdout, '', 'nothing written on a refusal');
  if (!process.env.DCOMP_EXPECT_WEBGPU) return; // without Mesa's EGL there may be no adapter at all (exit 2 either way)
  assert.match(refused.stderr, /software renderer.*--allow-software-gpu/);
  const allowed = dcomp([...RUN, '--backend', 'gpu', '--gpu-mode', 'webgpu', '--allow-software-gpu'], cache);
  assert.equal(allowed.status, 0, allowed.stderr);
  for (const r of rows(allowed.stdout)) {
    assert.equal(r.backend, 'gpujs:WebGPUKernel');
    assert.match(r.device, / \(software\)$/);
    assert.equal(r.precision, 'float32');
  }
});

test('the gpu options do not apply to the cpu backend', () => {
  const r = dcomp([...RUN, '--gpu-mode', 'webasm'], cache);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--gpu-mode: does not apply to this run .*: it needs backend gpu/);
});

const MLP = ['run', '--dataset', 'mushrooms', '--problem', 'mlp', '--method', 'gd', '--workers', '4', '--step', '0.5', '--iters', '5'];

test('--problem mlp --backend gpu --gpu-mode webasm: rows say gpujs:WebAssemblyKernel/float32, metrics follow the cpu run', () => {
  const gpu = dcomp([...MLP, '--backend', 'gpu', '--gpu-mode', 'webasm'], cache);
  if (refusedWithoutGpuJs(gpu)) return;
  assert.equal(gpu.status, 0, gpu.stderr);
  assert.match(gpu.stderr, /gpu backend: gpujs:WebAssemblyKernel .*mlp 112 → 32 → 1/);
  assert.match(gpu.stderr, /gradients at x⁰ within .* \(tolerance 1e-4\)/);
  const cpu = rows(dcomp(MLP, cache).stdout);
  const g = rows(gpu.stdout);
  assert.equal(g.length, 6);
  assert.equal(g.length, cpu.length);
  for (let i = 0; i < g.length; i++) {
    assert.equal(g[i].backend, 'gpujs:WebAssemblyKernel');
    assert.equal(g[i].precision, 'float32');
    assert.equal(g[i].problem, 'mlp');
    for (const col of ['loss', 'grad_norm_sq']) {
      const rel = Math.abs(Number(g[i][col]) - Number(cpu[i][col])) / Number(cpu[i][col]);
      assert.ok(rel < 1e-5, `row ${i}: ${col} ${g[i][col]} vs cpu ${cpu[i][col]}`);
    }
    // a row whose logit is within float32 rounding of 0 may flip: at most one in 8124
    assert.ok(Math.abs(Number(g[i].train_acc) - Number(cpu[i].train_acc)) <= 1 / 8124 + 1e-12, `row ${i}: accuracy ${g[i].train_acc} vs ${cpu[i].train_acc}`);
  }
  assert.equal(g[0].loss, cpu[0].loss, 'iteration 0 is the same float64 evaluation at the same x⁰');
  assert.notEqual(g[5].loss, cpu[5].loss, 'the float32 trajectory is not the float64 one');
});

test('--problem mlp --hidden 16,8 --backend gpu --gpu-mode webasm --allow-software-gpu: a two-layer net runs, rows say gpujs:WebAssemblyKernel/float32', () => {
  const deep = [...MLP, '--hidden', '16,8'];
  const gpu = dcomp([...deep, '--backend', 'gpu', '--gpu-mode', 'webasm', '--allow-software-gpu'], cache);
  if (refusedWithoutGpuJs(gpu)) return;
  assert.equal(gpu.status, 0, gpu.stderr);
  assert.match(gpu.stderr, /gpu backend: gpujs:WebAssemblyKernel on .*, float32, mlp 112 → 16 → 8 → 1/);
  assert.match(gpu.stderr, /gradients at x⁰ within .* \(tolerance 1e-4\)/);
  const cpu = rows(dcomp(deep, cache).stdout);
  const g = rows(gpu.stdout);
  assert.equal(g.length, 6);
  assert.equal(g.length, cpu.length);
  for (let i = 0; i < g.length; i++) {
    assert.equal(g[i].backend, 'gpujs:WebAssemblyKernel');
    assert.equal(g[i].precision, 'float32');
    assert.doesNotMatch(g[i].device, /\(software\)/);
    assert.equal(g[i].problem, 'mlp');
    for (const col of ['loss', 'grad_norm_sq']) {
      const rel = Math.abs(Number(g[i][col]) - Number(cpu[i][col])) / Number(cpu[i][col]);
      assert.ok(rel < 1e-5, `row ${i}: ${col} ${g[i][col]} vs cpu ${cpu[i][col]}`);
    }
  }
  assert.equal(g[0].loss, cpu[0].loss, 'iteration 0 is the same float64 evaluation at the same x⁰');
  assert.notEqual(g[5].loss, cpu[5].loss, 'the float32 trajectory is not the float64 one');
});

test('--problem mlp --backend gpu with a layer beyond 2^24 cells exits 2 naming --hidden', () => {
  const r = dcomp([...MLP, '--hidden', '8,2100', '--backend', 'gpu', '--gpu-mode', 'webasm'], cache);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /--hidden 8,2100: on --backend gpu hidden layer 2 has 2100 units × 8124 rows = 17060400 cells, but float32 indices are exact only below 2\^24/);
});

test('--backend gpu with --compressor topk selects with the device threshold for cgd, ef21, topk-ssgd and gtopk, and the log says so', () => {
  for (const method of ['cgd', 'ef21', 'topk-ssgd', 'gtopk']) {
    const args = ['run', '--dataset', 'mushrooms', '--method', method, '--compressor', 'topk', '--k', '10', '--workers', '4', '--iters', '10', '--log-every', '5'];
    const gpu = dcomp([...args, '--backend', 'gpu', '--gpu-mode', 'webasm', '--allow-software-gpu'], cache);
    if (refusedWithoutGpuJs(gpu)) continue;
    assert.equal(gpu.status, 0, gpu.stderr);
    assert.match(gpu.stderr, /gpu backend: topk on the device \(gpujs:WebAssemblyKernel\): the k-th largest float32 \|v_j\| by a radix search/);
    const cpu = dcomp(args, cache);
    assert.doesNotMatch(cpu.stderr, /topk on the device/);
    const g = rows(gpu.stdout);
    const c = rows(cpu.stdout);
    assert.equal(g.length, c.length);
    for (let i = 0; i < g.length; i++) {
      assert.equal(g[i].backend, 'gpujs:WebAssemblyKernel');
      assert.equal(g[i].bits_up_total, c[i].bits_up_total, `${method} row ${i}: the same message sizes`);
      const rel = Math.abs(Number(g[i].loss) - Number(c[i].loss)) / Number(c[i].loss);
      assert.ok(rel < 1e-5, `${method} row ${i}: loss ${g[i].loss} vs cpu ${c[i].loss}`);
    }
  }
});
