/**
 * The WebAssembly Top-k kernel (source: ./assembly/select.ts, compiled by `npm run build` to
 * select-kernels.wasm next to this file's output), for TopKSelector (src/compressors/select.ts).
 *
 * One instance per process, shared by every selector: a selection is synchronous, so no two use it
 * at once, and one memory sized for the largest input seen keeps the footprint at ~32 bytes per key
 * of the largest vector instead of that per selector (ef21 has one per worker). The memory grows
 * only when a larger input arrives; the typed-array views are remade then (they would detach) and
 * are otherwise reused, so a call allocates nothing.
 */
import { wasmModuleLoader } from './wasm-module.js';

interface SelectExports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  heapBase(): number;
  topkAbs(n: number, k: number, keys: number, out: number, outValues: number, scratch: number, cand: number, vals: number): void;
  topkRaw(n: number, k: number, keys: number, out: number, outValues: number, scratch: number, cand: number, vals: number): void;
  selectRankWithBudget(s: number, n: number, t: number, budget: number): number;
  greaterOfLastSelection(): number;
}

const PAGE_BYTES = 65536;

const loader = wasmModuleLoader('select-kernels.wasm');

/** Top-k of one Float64Array prefix, by |key| or by key; see the kernel's header for the order. */
export class WasmTopK {
  private readonly exports: SelectExports;
  private capacity = 0;
  private keysAt = 0;
  private outAt = 0;
  private outValuesAt = 0;
  private scratchAt = 0;
  private candAt = 0;
  private valsAt = 0;
  private keys = new Float64Array(0);
  private out = new Int32Array(0);
  /** out[0..k) for the last k (selectors call with one k over and over): copied out with one set(). */
  private outPrefix = new Int32Array(0);
  private outValues = new Float64Array(0);
  private outValuesPrefix = new Float64Array(0);

  constructor(exports: SelectExports) {
    this.exports = exports;
  }

  /** Lays out (and if need be grows the memory for) inputs of up to `n` keys; false if the memory cannot grow that far. */
  private reserve(n: number): boolean {
    if (n <= this.capacity) return true;
    const align = (p: number): number => Math.ceil(p / 16) * 16;
    const keysAt = align(this.exports.heapBase());
    const scratchAt = align(keysAt + 8 * n);
    const candAt = align(scratchAt + 8 * n);
    const valsAt = align(candAt + 4 * (n + 2));
    const outAt = align(valsAt + 8 * (n + 2));
    const outValuesAt = align(outAt + 4 * n);
    const top = outValuesAt + 8 * n;
    const memory = this.exports.memory;
    const have = memory.buffer.byteLength / PAGE_BYTES;
    const need = Math.ceil(top / PAGE_BYTES);
    if (need > have) {
      try {
        memory.grow(need - have);
      } catch {
        return false; // beyond the 4 GiB of a wasm32 memory (~1.3·10^8 keys)
      }
    }
    this.capacity = n;
    this.keysAt = keysAt;
    this.scratchAt = scratchAt;
    this.candAt = candAt;
    this.valsAt = valsAt;
    this.outAt = outAt;
    this.outValuesAt = outValuesAt;
    this.keys = new Float64Array(memory.buffer, keysAt, n);
    this.out = new Int32Array(memory.buffer, outAt, n);
    this.outPrefix = this.out.subarray(0, 0);
    this.outValues = new Float64Array(memory.buffer, outValuesAt, n);
    this.outValuesPrefix = this.outValues.subarray(0, 0);
    return true;
  }

  /**
   * Writes into out[0..k) the indices of the k largest keys of keys[0..n), ascending (1 ≤ k < n ≤ keys.length),
   * and, with `values`, values[t] = keys[out[t]] (written by the kernel from its own copy, still in cache).
   * Returns false, having written nothing, when n is too large for the kernel's memory.
   */
  select(keys: Float64Array, n: number, k: number, out: Int32Array, byAbs: boolean, values?: Float64Array): boolean {
    if (!this.reserve(n)) return false;
    const mine = this.keys;
    if (n === keys.length) mine.set(keys);
    else for (let i = 0; i < n; i++) mine[i] = keys[i];
    const e = this.exports;
    const valuesAt = values ? this.outValuesAt : 0;
    if (byAbs) e.topkAbs(n, k, this.keysAt, this.outAt, valuesAt, this.scratchAt, this.candAt, this.valsAt);
    else e.topkRaw(n, k, this.keysAt, this.outAt, valuesAt, this.scratchAt, this.candAt, this.valsAt);
    if (this.outPrefix.length !== k) this.outPrefix = this.out.subarray(0, k);
    out.set(this.outPrefix);
    if (values) {
      if (this.outValuesPrefix.length !== k) this.outValuesPrefix = this.outValues.subarray(0, k);
      values.set(this.outValuesPrefix);
    }
    return true;
  }

  /**
   * For the tests: the kernel's Floyd–Rivest selection of rank t (0 = largest) on a copy of
   * values (no NaN), its first range limited to `budget` rounds (0 or 1 forces the heapsort fallback).
   */
  selectRankForTests(values: Float64Array, t: number, budget: number): { value: number; greater: number } {
    const n = values.length;
    if (!this.reserve(n)) throw new RangeError(`select kernel: ${n} values do not fit its memory`);
    new Float64Array(this.exports.memory.buffer, this.scratchAt, n).set(values);
    const value = this.exports.selectRankWithBudget(this.scratchAt, n, t, budget);
    return { value, greater: this.exports.greaterOfLastSelection() };
  }
}

let shared: WasmTopK | undefined | null = null;

/** The process's Top-k kernel, or undefined when WebAssembly or the compiled module is unavailable. */
export function wasmTopK(): WasmTopK | undefined {
  if (shared !== null) return shared;
  shared = undefined;
  const compiled = loader.load();
  if (!compiled) return undefined;
  const instance = new compiled.api.Instance(compiled.module, {});
  shared = new WasmTopK(instance.exports as unknown as SelectExports);
  return shared;
}
