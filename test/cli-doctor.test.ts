import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { doctorCommand } from '../src/cli/doctor.js';
import type { ProbeResult } from '../src/backends/gpujs/index.js';
import { optionalPackageVersion } from '../src/backends/gpujs/api.js';
import { DATA_DIR } from './data-dir.js';

async function doctor(probes: ProbeResult[], env: NodeJS.ProcessEnv): Promise<string> {
  let out = '';
  const command = doctorCommand({ stdout: (t) => (out += t), env, probe: async () => probes });
  command.exitOverride();
  await command.parseAsync([], { from: 'user' });
  return out;
}

const webasm: ProbeResult = { mode: 'webasm', ok: true, kernelClass: 'WebAssemblyKernel', device: 'Some CPU', software: false, detail: 'cpu' };
const cpu: ProbeResult = { mode: 'cpu', ok: true, kernelClass: 'CPUKernel', device: 'Some CPU', software: false };

test('doctor: each mode with the class that ran or the reason; auto on a software adapter needs --allow-software-gpu', async () => {
  const out = await doctor(
    [
      { mode: 'webgpu', ok: true, kernelClass: 'WebGPUKernel', device: 'llvmpipe (software)', software: true, detail: 'GLES' },
      { mode: 'gl', ok: false, reason: 'headless-gl could not create a context' },
      webasm,
      cpu,
    ],
    { DCOMP_DATA_DIR: DATA_DIR, XDG_CACHE_HOME: '/nonexistent-dcomp-cache' },
  );
  assert.match(out, /^node v\d+/);
  assert.match(out, /\n {2}webgpu ok {4}WebGPUKernel on llvmpipe \(software\) \(GLES\)\n/);
  assert.match(out, /\n {2}gl {5}no {4}headless-gl could not create a context\n/);
  assert.match(out, /\n {2}webasm ok {4}WebAssemblyKernel on Some CPU/);
  assert.match(out, /auto would run: WebGPUKernel on llvmpipe \(software\): software, so --backend gpu needs --allow-software-gpu/);
  assert.match(out, /\$DCOMP_DATA_DIR .*\(directory\)/);
  assert.match(out, /cache {11}\/nonexistent-dcomp-cache\/dcomp \(does not exist\)/);
  assert.match(out, /mushrooms {7}\$DCOMP_DATA_DIR: /);
  assert.match(out, /environment: EGL_PLATFORM=surfaceless/);
});

test('doctor: a hardware adapter is named plainly; with no GPU auto would be the CPU', async () => {
  const gpu = await doctor([{ mode: 'webgpu', ok: true, kernelClass: 'WebGPUKernel', device: 'NVIDIA A100', software: false }, webasm, cpu], { DISPLAY: ':0' });
  assert.match(gpu, /auto would run: WebGPUKernel on NVIDIA A100\n/);
  assert.doesNotMatch(gpu, /environment:/);
  const none = await doctor([{ mode: 'webgpu', ok: false, reason: 'no WebGPU adapter' }, { mode: 'gl', ok: false, reason: 'no gl' }, webasm, cpu], {});
  assert.match(none, /auto would run: WebAssemblyKernel on the CPU \(no GPU here\)/);
});

test('dcomp doctor on this machine really runs the WebAssembly and CPU kernels', async () => {
  const bin = fileURLToPath(new URL('../../bin/dcomp', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [bin, 'doctor'], { env: { ...process.env, DCOMP_DATA_DIR: DATA_DIR } });
  if ((await optionalPackageVersion('gpu.js')) === undefined) {
    // npm ci --omit=optional: the doctor says so for every mode
    assert.match(stdout, /optional dependencies: gpu\.js not installed/);
    assert.match(stdout, /\n {2}webasm no {4}the optional dependency gpu\.js is not installed/);
    return;
  }
  assert.match(stdout, /\n {2}webasm ok {4}WebAssemblyKernel on /);
  assert.match(stdout, /\n {2}cpu {4}ok {4}CPUKernel on /);
  assert.match(stdout, /optional dependencies: gpu\.js 2\.24\.1, webgpu 0\.6\.2/);
  if (process.env.DCOMP_EXPECT_WEBGPU === '1') assert.match(stdout, /\n {2}webgpu ok {4}WebGPUKernel on .*\(software\)/);
});
