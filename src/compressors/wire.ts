/**
 * Helpers around WireMessage: decoding on the receiver's side and the bit costs of spec §3.
 */
import { UsageError } from '../core/errors.js';
import type { CompressorOptions, WireMessage } from './types.js';
import { ceilLog2 } from '../core/integer.js';

/**
 * Bits to name one of d coordinates: ⌈log2 d⌉. For d = 1 this is 0 — there is only one coordinate,
 * so the receiver knows it without being told (the spec's formula gives ⌈log2 1⌉ = 0 as well).
 * Computed in integers, so that exact powers of two never round up.
 */
export function indexBits(d: number): number {
  return ceilLog2(d);
}

/** A sparse message of k (index, value) pairs: k·(F + ⌈log2 d⌉) bits (spec §3). */
export function sparseBits(k: number, d: number, floatBits: number): number {
  return k * (floatBits + indexBits(d));
}

/** A dense vector of d floats: d·F bits (spec §3). */
export function denseBits(d: number, floatBits: number): number {
  return d * floatBits;
}

/** Writes the dense C(v) that `msg` encodes into out[0..out.length) (zeroing it first). */
export function decodeInto(msg: WireMessage, out: Float64Array): void {
  const d = out.length;
  if (msg.format === 'dense') {
    const values = msg.values;
    for (let i = 0; i < d; i++) out[i] = values[i];
    return;
  }
  out.fill(0);
  const { indices, values, nnz } = msg;
  for (let t = 0; t < nnz; t++) out[indices[t]] = values[t];
}

/** out += scale·C(v): O(nnz) for sparse messages, O(d) for dense ones. */
export function addScaledInto(msg: WireMessage, out: Float64Array, scale: number): void {
  if (msg.format === 'dense') {
    const d = out.length;
    const values = msg.values;
    for (let i = 0; i < d; i++) out[i] += scale * values[i];
    return;
  }
  const { indices, values, nnz } = msg;
  for (let t = 0; t < nnz; t++) out[indices[t]] += scale * values[t];
}

/**
 * The k of a sparsifier's options, checked: an integer with 1 ≤ k ≤ d, else a UsageError naming
 * `--k` and the accepted range (spec §6).
 */
export function requireK(options: CompressorOptions, compressorName: string): number {
  const { k, d } = options;
  if (k === undefined) throw new UsageError(`--k: compressor "${compressorName}" needs --k, an integer with 1 ≤ k ≤ d = ${d}`);
  if (!Number.isInteger(k) || k < 1 || k > d) {
    throw new UsageError(`--k: compressor "${compressorName}" accepts an integer with 1 ≤ k ≤ d = ${d}; got ${k}`);
  }
  return k;
}

/** A reusable sparse message with room for k pairs. */
export function sparseMessage(k: number, bits: number): WireMessage {
  return { format: 'sparse', nnz: 0, indices: new Int32Array(k), values: new Float64Array(k), bits };
}

/** A reusable dense message of d values. */
export function denseMessage(d: number, bits: number): WireMessage {
  return { format: 'dense', nnz: d, indices: new Int32Array(0), values: new Float64Array(d), bits };
}
