/**
 * Honest labels for what ran: the gpu.js kernel class (gpu.js's own `gpu.mode` says 'gpu' for a
 * WebAssembly kernel and for every GL kernel, software renderers included), the device name, and
 * whether that device is a software renderer. Pure functions, tested directly.
 */
import type { BackendLabel, GpuMode } from '../types.js';

/** Renderer names of CPU implementations of GL / Vulkan / WebGPU. */
const SOFTWARE_PATTERN = /llvmpipe|lavapipe|softpipe|swiftshader|swrast|software rasterizer|microsoft basic render/i;

export function isSoftwareRendererName(...names: ReadonlyArray<string | undefined>): boolean {
  return names.some((n) => n !== undefined && SOFTWARE_PATTERN.test(n));
}

/** The device column: the name, with " (software)" when it is a software renderer or fallback adapter. */
export function deviceLabel(name: string, software: boolean): string {
  const clean = name.trim().replace(/[-\s]+$/, '') || 'unknown device';
  return software && !/\(software\)$/.test(clean) ? `${clean} (software)` : clean;
}

/** The `backend` column for a gpu.js kernel class name. */
export function backendLabel(kernelClass: string): string {
  return `gpujs:${kernelClass}`;
}

export function gpuLabel(kernelClass: string, device: string): BackendLabel {
  return { backend: backendLabel(kernelClass), device, precision: 'float32' };
}

/** The modes gpu.js runs on the CPU whatever the machine has: they are requested, not GPU results. */
export function isCpuMode(mode: GpuMode): boolean {
  return mode === 'webasm' || mode === 'cpu';
}

/** What device selection found: the facts needed to label a run and to apply the software rule. */
export interface SelectedDevice {
  /** The mode asked for (`auto` included). */
  readonly requested: GpuMode;
  /** The mode resolved to. */
  readonly mode: Exclude<GpuMode, 'auto'>;
  /** The gpu.js kernel class that must run (checked on every kernel). */
  readonly kernelClass: string;
  /** For the CSV `device` column. */
  readonly device: string;
  /** A software renderer or fallback adapter (never true for the CPU modes). */
  readonly software: boolean;
  /** More about the device for logs and doctor (driver, API, feature level). */
  readonly detail: string;
  /** Why modes tried before this one were not used (auto), one line each. */
  readonly skipped: readonly string[];
}

/**
 * The software rule of `--backend gpu`: a run that would compute on a software renderer, or that
 * asked for `auto` and found no GPU at all (WebAssembly), is refused unless the user allowed it.
 * Explicit `--gpu-mode webasm` / `cpu` ask for the CPU by name and are labelled so: allowed.
 * Returns the refusal message, or undefined when the run may go ahead.
 */
export function softwareRefusal(selected: SelectedDevice, allowSoftware: boolean): string | undefined {
  if (allowSoftware) return undefined;
  if (isCpuMode(selected.requested)) return undefined;
  if (selected.software) {
    return (
      `--backend gpu: the only ${selected.mode === 'gl' ? 'GL renderer' : 'WebGPU adapter'} here is a software renderer ` +
      `(${selected.device}), which is slower than --backend cpu and not a GPU result; ` +
      'pass --allow-software-gpu to run on it anyway, or use --backend cpu'
    );
  }
  if (isCpuMode(selected.mode)) {
    return (
      `--backend gpu: no GPU found (${selected.skipped.join('; ') || 'no WebGPU adapter, no GL context'}); ` +
      `--gpu-mode auto would run on the CPU (${selected.kernelClass}). ` +
      'Pass --allow-software-gpu to run anyway, --gpu-mode webasm to ask for WebAssembly explicitly, or use --backend cpu'
    );
  }
  return undefined;
}
