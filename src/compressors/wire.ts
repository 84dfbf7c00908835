/**
 * Helpers around WireMessage: decoding on the receiver's side and the bit costs of spec §3.
 */
import type { WireMessage } from './types.js';
import { ceilLog2 } from '../core/integer.js';

/**
 * Bits to name one of d coordinates: ⌈log2 d⌉. For d = 1 this is 0 — there is only one coordinate,
 * so the receiver knows it without being told (the spec's formula gives ⌈log2 1⌉ = 0 as well).
 * Computed in integers, so that exact powers of two never round up.
 */
export function indexBits(d: number): number {
  return ceilLog2(d);
}

/** A sparse message of k (index, value) pairs: k·(F + I) bits, I = ⌈log2 d⌉ unless `--index-bits` (spec §3). */
export function sparseBits(k: number, d: number, floatBits: number, bitsPerIndex: number = indexBits(d)): number {
  return k * (floatBits + bitsPerIndex);
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

/** A reusable sparse message with room for k pairs. */
export function sparseMessage(k: number, bits: number): WireMessage {
  return { format: 'sparse', nnz: 0, indices: new Int32Array(k), values: new Float64Array(k), bits };
}

/** A reusable dense message of d values. */
export function denseMessage(d: number, bits: number): WireMessage {
  return { format: 'dense', nnz: d, indices: new Int32Array(0), values: new Float64Array(d), bits };
}
