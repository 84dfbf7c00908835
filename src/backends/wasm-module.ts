/**
 * Finding and compiling one of the project's WebAssembly modules (built by `npm run build` next to
 * this file's output): one loader for every kernel module, compiled once per process.
 */
import { readFileSync } from 'node:fs';

/** The subset of the WebAssembly JS API used here (the TS lib in use does not declare it). */
export interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

export interface CompiledModule {
  module: object;
  api: WasmApi;
}

export interface WasmModuleLoader {
  /** The compiled module, or undefined when WebAssembly or the file is unavailable (see `reason`). */
  load(): CompiledModule | undefined;
  reason(): string | undefined;
}

/**
 * Where `fileName` may be: next to this file (the normal case, dist/src/backends/), or, when this file
 * runs from source through tsx, in the build output of the same checkout.
 */
export function wasmModuleLoader(fileName: string): WasmModuleLoader {
  const candidates = [new URL(`./${fileName}`, import.meta.url), new URL(`../../dist/src/backends/${fileName}`, import.meta.url)];
  let compiled: CompiledModule | undefined;
  let unavailable: string | undefined;
  const load = (): CompiledModule | undefined => {
    if (compiled || unavailable !== undefined) return compiled;
    const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
    if (!api) {
      unavailable = 'WebAssembly is not available in this runtime';
      return undefined;
    }
    for (const url of candidates) {
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(url);
      } catch {
        continue;
      }
      compiled = { module: new api.Module(bytes), api };
      return compiled;
    }
    unavailable = `${fileName} not found (looked at ${candidates.map((u) => u.pathname).join(', ')}); run npm run build`;
    return undefined;
  };
  return {
    load,
    reason() {
      load();
      return unavailable;
    },
  };
}

const PAGE_BYTES = 65536;

/** Grows `memory` so that byte offsets below `top` are valid. */
export function ensureMemory(memory: WasmMemory, top: number): void {
  const have = memory.buffer.byteLength / PAGE_BYTES;
  const need = Math.ceil(top / PAGE_BYTES);
  if (need > have) memory.grow(need - have);
}

/** True when every stored value is exactly 1 (binary features): the kernels then skip the value loads. */
export function allOnes(values: Float64Array): boolean {
  for (let k = 0; k < values.length; k++) if (values[k] !== 1) return false;
  return true;
}

/**
 * Lays out one `align`-byte-aligned array per entry of `bytes` (sizes in bytes; 0 gets offset 0,
 * i.e. "absent") after `heapBase`, grows `memory` to hold them (once, before any view exists) and
 * returns the offsets by name.
 */
export function layOut(memory: WasmMemory, heapBase: number, bytes: Readonly<Record<string, number>>, align: number): Record<string, number> {
  let top = heapBase;
  const ptr: Record<string, number> = {};
  for (const [name, size] of Object.entries(bytes)) {
    if (size === 0) {
      ptr[name] = 0;
      continue;
    }
    top = Math.ceil(top / align) * align;
    ptr[name] = top;
    top += size;
  }
  ensureMemory(memory, top);
  return ptr;
}
