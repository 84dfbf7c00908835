/**
 * Device selection for the gpu.js backend (runs in the backend's worker thread, see worker.ts).
 *
 * WebGPU: gpu.js does not load Dawn; it reads the global `navigator.gpu`, which this module sets
 * from the `webgpu` package. gpu.js calls `requestAdapter()` without options, which finds nothing on
 * a machine whose only device supports WebGPU's compatibility feature level (Dawn on OpenGL ES, e.g.
 * Mesa llvmpipe): so the adapter is found here — core first, then compatibility, then Dawn's
 * OpenGL ES backend — and the shim hands gpu.js that adapter.
 * GL: headless-gl (`gl`, optional dependency of gpu.js) when its native module is built and a
 * context can be made (it needs an X server: a display or Xvfb).
 * WebAssembly / CPU: always available in Node.
 */
import { cpus } from 'node:os';
import type { GpuMode } from '../types.js';
import type { GpuJsGpu, GpuJsKernelClass, GpuJsModule, WebGpuAdapter, WebGpuGpu, WebGpuModule, WebGpuRequestOptions } from './api.js';
import { loadGpuJs, loadWebGpu } from './api.js';
import { deviceLabel, isSoftwareRendererName, type SelectedDevice } from './label.js';

type ConcreteMode = Exclude<GpuMode, 'auto'>;

/** The gpu.js `mode` setting and kernel class for each of our modes. */
const GPUJS_MODE: Readonly<Record<ConcreteMode, string>> = { webgpu: 'webgpu', gl: 'headlessgl', webasm: 'webasm', cpu: 'cpu' };
const KERNEL_CLASS: Readonly<Record<ConcreteMode, keyof GpuJsModule>> = {
  webgpu: 'WebGPUKernel',
  gl: 'HeadlessGLKernel',
  webasm: 'WebAssemblyKernel',
  cpu: 'CPUKernel',
};

/** The order `auto` tries. */
export const AUTO_ORDER: readonly ConcreteMode[] = ['webgpu', 'gl', 'webasm'];

export interface OpenedDevice {
  readonly selected: SelectedDevice;
  readonly gpu: GpuJsGpu;
  readonly gpujs: GpuJsModule;
  /** The class every kernel must be an instance of (a CPU fallback is detected by this). */
  readonly kernelClass: GpuJsKernelClass;
}

export class DeviceUnavailableError extends Error {}

/** Adapter requests in order: Dawn's default backends (core, then compatibility), then OpenGL ES. */
const ADAPTER_ATTEMPTS: ReadonlyArray<{ dawn: string[]; request: WebGpuRequestOptions; what: string }> = [
  { dawn: [], request: { powerPreference: 'high-performance' }, what: 'core' },
  { dawn: [], request: { powerPreference: 'high-performance', featureLevel: 'compatibility' }, what: 'compatibility' },
  { dawn: ['backend=opengles'], request: { featureLevel: 'compatibility' }, what: 'compatibility, Dawn OpenGL ES backend' },
];

interface FoundAdapter {
  readonly adapter: WebGpuAdapter;
  readonly instance: WebGpuGpu;
  readonly what: string;
}

/** Dawn instances stay referenced for the worker's lifetime (dropping one destroys its devices). */
const dawnInstances: WebGpuGpu[] = [];

async function findAdapter(webgpu: WebGpuModule): Promise<FoundAdapter | string> {
  const byOptions = new Map<string, WebGpuGpu>();
  for (const attempt of ADAPTER_ATTEMPTS) {
    const key = attempt.dawn.join(' ');
    let instance = byOptions.get(key);
    if (!instance) {
      try {
        instance = webgpu.create(attempt.dawn);
      } catch (err) {
        continue;
      }
      byOptions.set(key, instance);
      dawnInstances.push(instance);
    }
    let adapter: WebGpuAdapter | null = null;
    try {
      adapter = await instance.requestAdapter(attempt.request);
    } catch {
      adapter = null;
    }
    if (adapter) return { adapter, instance, what: attempt.what };
  }
  return 'no WebGPU adapter (Dawn found no Vulkan, Metal, D3D or OpenGL ES device; without a display, OpenGL ES needs EGL_PLATFORM=surfaceless)';
}

function adapterName(adapter: WebGpuAdapter): { name: string; detail: string; software: boolean } {
  const info = adapter.info ?? {};
  const name = info.device || info.description || [info.vendor, info.architecture].filter((s) => s).join(' ') || 'unknown WebGPU adapter';
  const fallback = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
  const software = fallback || isSoftwareRendererName(info.device, info.description, info.vendor, info.architecture);
  const parts = [info.description, info.vendor, info.architecture].filter((s) => s && s !== name);
  return { name, detail: parts.join(', '), software };
}

/** Makes `navigator.gpu` (read by gpu.js) answer with the adapter found here. */
function installNavigatorGpu(webgpu: WebGpuModule, found: FoundAdapter): void {
  Object.assign(globalThis, webgpu.globals);
  const shim: WebGpuGpu = {
    requestAdapter: async () => found.adapter,
    getPreferredCanvasFormat: () => found.instance.getPreferredCanvasFormat(),
    get wgslLanguageFeatures() {
      return found.instance.wgslLanguageFeatures;
    },
  };
  const g = globalThis as { navigator?: Record<string, unknown> };
  const existing = g.navigator ?? {};
  // Node ≥ 21 has a read-only global navigator: redefine the property rather than assign to it.
  Object.defineProperty(globalThis, 'navigator', { value: Object.assign(Object.create(existing), { gpu: shim }), configurable: true, writable: true });
}

interface GlContext {
  readonly RENDERER: number;
  getParameter(p: number): unknown;
  /** headless-gl 8: the underlying driver's answer (its public RENDERER is always "ANGLE"). */
  _getParameterDirect?(p: number): unknown;
  getExtension(name: string): { destroy?(): void } | null;
}

/** Why headless-gl cannot give a context here, or undefined when it can (with the renderer name). */
async function probeGl(): Promise<{ renderer: string } | string> {
  let createContext: (w: number, h: number) => unknown;
  try {
    const name = 'gl';
    const mod = (await import(name)) as { default?: unknown };
    createContext = (mod.default ?? mod) as typeof createContext;
  } catch (err) {
    const message = (err as Error).message.split('\n')[0];
    return `headless-gl (gl) is not usable: ${message} (its native module is built only when allowed: see docs/backends.md)`;
  }
  let ctx: GlContext | null;
  try {
    ctx = createContext(1, 1) as GlContext | null;
  } catch (err) {
    return `headless-gl could not create a context: ${(err as Error).message}`;
  }
  if (!ctx) return 'headless-gl could not create a context (it needs an X server: set DISPLAY, e.g. under Xvfb)';
  // The public RENDERER is always "ANGLE"; the driver underneath is only visible through the
  // implementation's direct query (headless-gl 8).
  const direct = typeof ctx._getParameterDirect === 'function' ? ctx._getParameterDirect(ctx.RENDERER) : undefined;
  const renderer = typeof direct === 'string' && direct !== '' ? direct : String(ctx.getParameter(ctx.RENDERER));
  ctx.getExtension('STACKGL_destroy_context')?.destroy?.();
  return { renderer };
}

function cpuName(): string {
  const model = cpus()[0]?.model?.trim();
  return model ? model.replace(/\s+/g, ' ') : 'CPU';
}

async function tryMode(mode: ConcreteMode, gpujs: GpuJsModule): Promise<Omit<SelectedDevice, 'requested' | 'skipped'> | string> {
  const kernelClass = KERNEL_CLASS[mode];
  switch (mode) {
    case 'webgpu': {
      const webgpu = await loadWebGpu();
      if (!webgpu.ok) return webgpu.reason;
      const found = await findAdapter(webgpu.module);
      if (typeof found === 'string') return found;
      installNavigatorGpu(webgpu.module, found);
      const { name, detail, software } = adapterName(found.adapter);
      return { mode, kernelClass, device: deviceLabel(name, software), software, detail: [detail, `WebGPU ${found.what}`].filter((s) => s).join('; ') };
    }
    case 'gl': {
      const gl = await probeGl();
      if (typeof gl === 'string') return gl;
      if (!gpujs.HeadlessGLKernel.isSupported) return 'gpu.js reports headless-gl unsupported';
      const software = isSoftwareRendererName(gl.renderer);
      return { mode, kernelClass, device: deviceLabel(gl.renderer, software), software, detail: 'headless-gl (WebGL 1 via ANGLE)' };
    }
    case 'webasm':
      if (!gpujs.WebAssemblyKernel.isSupported) return 'WebAssembly is not supported by this runtime';
      return { mode, kernelClass, device: cpuName(), software: false, detail: 'gpu.js WebAssembly (f32, SIMD) on the CPU' };
    case 'cpu':
      return { mode, kernelClass, device: cpuName(), software: false, detail: 'gpu.js CPU kernels (JavaScript, float32 results)' };
  }
}

/**
 * Resolves `requested` to one mode and makes a gpu.js instance for it. Throws
 * DeviceUnavailableError (with every reason found) when the mode cannot run here.
 */
export async function openDevice(requested: GpuMode): Promise<OpenedDevice> {
  const order = requested === 'auto' ? AUTO_ORDER : [requested];
  const skipped: string[] = [];
  for (const mode of order) {
    const opened = await openMode(mode, requested, skipped);
    if (typeof opened === 'string') {
      skipped.push(`${mode}: ${opened}`);
      continue;
    }
    return opened;
  }
  throw new DeviceUnavailableError(`--gpu-mode ${requested}: not available here (${skipped.join('; ')})`);
}

/** One mode, or why it cannot run here. */
export async function openMode(mode: ConcreteMode, requested: GpuMode = mode, skipped: readonly string[] = []): Promise<OpenedDevice | string> {
  const lib = await loadGpuJs();
  if (!lib.ok) return lib.reason;
  const gpujs = lib.module;
  const found = await tryMode(mode, gpujs);
  if (typeof found === 'string') return found;
  let gpu: GpuJsGpu;
  try {
    gpu = new gpujs.GPU({ mode: GPUJS_MODE[mode] });
  } catch (err) {
    return `gpu.js refused mode ${GPUJS_MODE[mode]}: ${(err as Error).message}`;
  }
  const selected: SelectedDevice = { ...found, requested, skipped: [...skipped] };
  return { selected, gpu, gpujs, kernelClass: gpujs[KERNEL_CLASS[mode]] as GpuJsKernelClass };
}
