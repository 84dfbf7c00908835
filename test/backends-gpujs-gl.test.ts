/**
 * The gpu.js backend on headless-gl, in a process of its own (WebGPU on Mesa's EGL and headless-gl
 * on GLX in one process can abort it with an X error). GL needs headless-gl's native module (not
 * built by `npm ci`: docs/backends.md) and an X server; where either is missing the probe must say
 * which, and DCOMP_EXPECT_GL=1 turns that into a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { optionalPackageVersion } from '../src/backends/gpujs/api.js';
import { probeGpuModes } from '../src/backends/gpujs/index.js';
import { defineModeSuite } from './gpujs-fixtures.js';

// resolved, not loaded: gpu.js loads headless-gl, which then could not load in the backend's worker
const installed = (await optionalPackageVersion('gpu.js')) !== undefined;
const [gl] = await probeGpuModes(['gl']);

test('the GL probe runs HeadlessGLKernel or says why not', () => {
  if (process.env.DCOMP_EXPECT_GL === '1') assert.ok(gl.ok, `DCOMP_EXPECT_GL=1 but GL did not run: ${gl.reason}`);
  if (gl.ok) {
    assert.equal(gl.kernelClass, 'HeadlessGLKernel');
    assert.ok((gl.device ?? '').length > 0);
  } else {
    assert.match(gl.reason ?? '', installed ? /headless-gl|X server|GL/ : /gpu\.js is not installed/);
  }
});

if (gl.ok) defineModeSuite('gl');
