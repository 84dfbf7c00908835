/**
 * What the methods of this folder share: the base state with its traffic counters, the per-worker
 * compression contexts, and argument checks.
 */
import { DcompError } from '../core/errors.js';
import { OptionError } from '../core/options.js';
import type { CompressContext, Compressor } from '../compressors/types.js';
import type { TopKSelector } from '../compressors/select.js';
import { GpuTopKCompressor } from '../compressors/topk-gpu.js';
import type { MethodEnv, MethodState } from './types.js';
import { emptyCounters, type CountedState } from './traffic.js';

/** Every state here also counts the busiest worker, rounds and critical-path bits (see traffic.ts). */
export interface CountedMethodState extends MethodState, CountedState {}

export function baseState(x0: Float64Array): CountedMethodState {
  return {
    x: Float64Array.from(x0),
    iteration: 0,
    rowsProcessed: 0,
    bitsUpTotal: 0,
    bitsDownTotal: 0,
    traffic: emptyCounters(),
  };
}

export function checkStart(method: string, x0: Float64Array, env: MethodEnv): void {
  if (x0.length !== env.problem.d) {
    throw new DcompError(`${method}: x0 has length ${x0.length} but the problem has d = ${env.problem.d}`);
  }
  if (env.problem.workers.length < 1) throw new DcompError(`${method}: the problem has no workers`);
}

/** One compressor per worker is required by the methods that compress with env.compressors. */
export function workerCompressors(method: string, env: MethodEnv): readonly Compressor[] {
  const n = env.problem.workers.length;
  if (env.compressors.length < n) {
    throw new DcompError(`${method}: needs one compressor per worker (${n}), got ${env.compressors.length}`);
  }
  return env.compressors;
}

/** Each worker's context, made once: x is the state's own iterate array, which steps update in place. */
export function workerContexts(x: Float64Array, env: MethodEnv): CompressContext[] {
  return env.problem.workers.map((objective) => ({ x, objective, stepSize: env.stepSize }));
}

/** k for the methods that sparsify with Top-k by definition: an integer with 1 ≤ k ≤ d. */
export function checkSparsityK(method: string, env: MethodEnv): number {
  const d = env.problem.d;
  const k = env.k;
  if (k === undefined || !Number.isInteger(k) || k < 1 || k > d) {
    throw new OptionError('k', `${method} keeps the k largest coordinates and needs an integer 1 ≤ k ≤ d = ${d}, got ${k === undefined ? 'none' : k}`);
  }
  return k;
}

/** n views of length d into one n·d buffer (worker i's row). */
export function workerRows(n: number, d: number): Float64Array[] {
  const buffer = new Float64Array(n * d);
  return Array.from({ length: n }, (_, i) => buffer.subarray(i * d, (i + 1) * d));
}

/**
 * Worker i's top-k of v (k largest |v_j|, ties by the smaller index) into indices[0..k), ascending:
 * the float64 selection, or, when worker i's compressor is the backend's Top-k (--backend gpu), that
 * compressor (the threshold from the device; ties compared in float32, see topk-gpu.ts).
 */
export function selectTopK(env: MethodEnv, worker: number, selector: TopKSelector, v: Float64Array, d: number, k: number, indices: Int32Array): void {
  const compressor = env.compressors[worker];
  if (compressor instanceof GpuTopKCompressor && compressor.k === k && compressor.d === d) {
    indices.set(compressor.compress(v).indices.subarray(0, k));
    return;
  }
  selector.select(v, d, k, indices, true);
}
