/**
 * `dcomp doctor`'s check of one gpu.js mode: open it, build and run a tiny kernel, compare the
 * result and read the class of the kernel that ran. Each mode is probed in a child process of its
 * own (probe-main.ts): WebGPU on Mesa's EGL and headless-gl on GLX in one process can abort it with
 * an X error, and a probe must not take the doctor down with it.
 */
import { execFile } from 'node:child_process';
import type { GpuMode } from '../types.js';
import { openMode } from './device.js';
import { checkKernelClass } from './program.js';
import type { ProbeResult } from './protocol.js';

type ConcreteMode = Exclude<GpuMode, 'auto'>;

const MARKER = 'dcomp-probe-result:';

/** Runs the probe in this process (the child's side). */
export async function probeHere(mode: ConcreteMode): Promise<ProbeResult> {
  const opened = await openMode(mode);
  if (typeof opened === 'string') return { mode, ok: false, reason: opened };
  const { selected } = opened;
  const base = { mode, device: selected.device, software: selected.software, detail: selected.detail };
  try {
    const kernel = opened.gpu.createKernel(
      function (this: { thread: { x: number } }, a: number[]) {
        return a[this.thread.x] * 2.0 + 1.0;
      },
      { output: [4], precision: 'single' },
    );
    const out = (await kernel(new Float32Array([0, 1, 2, 3]))) as Float32Array;
    const kernelClass = kernel.kernel.constructor.name;
    checkKernelClass(opened, kernel, 'smoke test');
    const expected = [1, 3, 5, 7];
    if (!expected.every((v, i) => out[i] === v)) {
      return { ...base, ok: false, kernelClass, reason: `smoke test returned ${Array.from(out).join(',')}, expected ${expected.join(',')}` };
    }
    return { ...base, ok: true, kernelClass };
  } catch (err) {
    return { ...base, ok: false, reason: (err as Error).message.split('\n')[0] };
  }
}

/** The line the child prints (its only line on stdout that starts with the marker). */
export function formatProbeLine(result: ProbeResult): string {
  return MARKER + JSON.stringify(result);
}

/** Probes one mode in a child process (environment inherited). */
export function probeInChild(mode: ConcreteMode, timeoutMs = 120_000): Promise<ProbeResult> {
  const entry = new URL('./probe-main.js', import.meta.url);
  return new Promise((resolve) => {
    execFile(process.execPath, [entry.pathname, mode], { timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout) => {
      const line = stdout.split('\n').find((l) => l.startsWith(MARKER));
      if (line) {
        resolve(JSON.parse(line.slice(MARKER.length)) as ProbeResult);
        return;
      }
      const how = err ? (err.killed ? `timed out after ${timeoutMs / 1000} s` : `exited with ${err.code ?? err.signal}`) : 'printed no result';
      resolve({ mode, ok: false, reason: `the probe process ${how}` });
    });
  });
}
