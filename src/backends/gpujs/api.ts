/**
 * The small part of the gpu.js 2.24 and `webgpu` (Dawn) 0.6 APIs that this backend uses, declared
 * here so that `tsc` compiles without the optional packages installed (`npm ci --omit=optional`).
 * Both are loaded only by `loadGpuLibraries`, by dynamic import with a computed specifier (so the
 * compiler does not try to resolve them), and only when the gpu backend is chosen.
 */

export interface GpuJsKernelInstance {
  readonly constructor: { readonly name: string };
  /** Set when gpu.js replaced the kernel by its CPU fallback (with only a console warning). */
  fallbackReason?: string | null;
  /** gpu.js's precision after build: 'single' (float32) or 'unsigned' (8-bit packed). */
  precision?: string;
  /** GL backends: the WebGL context. */
  context?: unknown;
}

/** A callable kernel (gpu.js's "run shortcut"); `.kernel` is the instance that actually runs. */
export interface GpuJsKernel {
  (...args: unknown[]): unknown;
  readonly kernel: GpuJsKernelInstance;
  destroy(): void;
}

export interface GpuJsKernelSettings {
  output: number[];
  constants?: Record<string, unknown>;
  loopMaxIterations?: number;
  precision?: 'single';
  tactic?: 'precision';
  functions?: Array<(...args: number[]) => number>;
  pipeline?: boolean;
  immutable?: boolean;
  strictIntegers?: boolean;
  dynamicArguments?: boolean;
  argumentTypes?: Record<string, string>;
}

export interface GpuJsGpu {
  createKernel(source: (...args: never[]) => number, settings: GpuJsKernelSettings): GpuJsKernel;
  destroy(): unknown;
  readonly mode: string;
}

/** A kernel class as exported by gpu.js (compared by identity with `kernel.kernel.constructor`). */
export type GpuJsKernelClass = abstract new (...args: never[]) => unknown;

export interface GpuJsModule {
  GPU: (new (settings: { mode: string }) => GpuJsGpu) & {
    readonly isWebAssemblySupported: boolean;
    readonly isHeadlessGLSupported: boolean;
  };
  WebGPUKernel: GpuJsKernelClass & { readonly isSupported: boolean };
  HeadlessGLKernel: GpuJsKernelClass & { readonly isSupported: boolean };
  WebAssemblyKernel: GpuJsKernelClass & { readonly isSupported: boolean };
  CPUKernel: GpuJsKernelClass;
}

export interface WebGpuAdapterInfo {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  readonly isFallbackAdapter?: boolean;
}

export interface WebGpuAdapter {
  readonly info?: WebGpuAdapterInfo;
  readonly isFallbackAdapter?: boolean;
  readonly features: { has(name: string): boolean };
  readonly limits: Record<string, number>;
  requestDevice(descriptor?: unknown): Promise<unknown>;
}

export interface WebGpuRequestOptions {
  featureLevel?: 'core' | 'compatibility';
  powerPreference?: 'high-performance' | 'low-power';
  forceFallbackAdapter?: boolean;
}

export interface WebGpuGpu {
  requestAdapter(options?: WebGpuRequestOptions): Promise<WebGpuAdapter | null>;
  getPreferredCanvasFormat(): string;
  readonly wgslLanguageFeatures?: unknown;
}

export interface WebGpuModule {
  /** Dawn instance with options such as 'backend=opengles' (see the webgpu package README). */
  create(options: string[]): WebGpuGpu;
  /** GPUBufferUsage, GPUMapMode, … which gpu.js reads as globals. */
  globals: Record<string, unknown>;
}

/** Imports a package by a computed name, so tsc neither resolves nor type-checks it. */
async function importOptional(name: string): Promise<unknown> {
  const mod = (await import(name)) as { default?: unknown };
  return mod;
}

export type LoadResult<T> = { ok: true; module: T } | { ok: false; reason: string };

function missingReason(name: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') {
    return `the optional dependency ${name} is not installed (npm ci without --omit=optional installs it)`;
  }
  return `${name} failed to load: ${e?.message ?? String(err)}`;
}

/** gpu.js (CommonJS: its exports arrive as the default export). */
export async function loadGpuJs(): Promise<LoadResult<GpuJsModule>> {
  try {
    const mod = (await importOptional('gpu.js')) as { default?: GpuJsModule } & Partial<GpuJsModule>;
    const m = (mod.default ?? mod) as GpuJsModule;
    if (typeof m.GPU !== 'function') return { ok: false, reason: 'gpu.js loaded but exports no GPU class' };
    return { ok: true, module: m };
  } catch (err) {
    return { ok: false, reason: missingReason('gpu.js', err) };
  }
}

/** The `webgpu` package (Dawn's Node binding). */
export async function loadWebGpu(): Promise<LoadResult<WebGpuModule>> {
  try {
    const mod = (await importOptional('webgpu')) as Partial<WebGpuModule>;
    if (typeof mod.create !== 'function') return { ok: false, reason: 'webgpu loaded but exports no create()' };
    return { ok: true, module: mod as WebGpuModule };
  } catch (err) {
    return { ok: false, reason: missingReason('webgpu', err) };
  }
}

/** Whether an optional package is installed and where (for `dcomp doctor`), without loading it. */
export async function optionalPackageVersion(name: string): Promise<string | undefined> {
  try {
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    const { readFileSync } = await import('node:fs');
    const pkgPath = require.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}
