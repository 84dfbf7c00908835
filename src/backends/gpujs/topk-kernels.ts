/**
 * The top-k threshold as a radix search over the float32 key bits (the kernel body is gpu.js's
 * subset of JavaScript, as in kernels.ts; the search itself is `radixThreshold`, pure and shared by
 * the worker and the tests).
 *
 * For non-negative float32 values the order of the values is the order of their bit patterns read
 * as unsigned integers (0 ≤ +0 < subnormals < normals < +∞ = 0x7f800000). So T, the k-th largest
 * key, is the largest bit pattern t with count(t) = #{keys whose bits are ≥ t} ≥ k, found digit by
 * digit: with count(lo) ≥ k > count(lo + w) known, one pass counts the keys ≥ each of the 16
 * candidates lo + m·w/16 (m = 0…15) and keeps the largest m whose count is ≥ k; 8 passes of 4 bits
 * fix all 32 bits. Each pass is one dispatch of O(16·d) comparisons (no atomics: cell b·16 + m
 * counts block b's keys against candidate m, and the host adds the blocks' partial counts), so the
 * whole search is O(d) work per pass and 8 passes, against the O(d²) of rank counting.
 *
 * The kernel compares integers, not floats: every key's 32 bits arrive as two exact float32 integers
 * (high and low 16 bits, split on the host), so subnormal flushing, NaN comparisons under fast-math
 * and any other float-compare liberty of a device cannot change a count. NaN keys rank last: the host
 * gives them high half −1 (below every candidate) and searches among the numbers only.
 */
import type { KernelThis } from './kernels.js';

/** Candidates per pass (4 bits) and passes (32 bits). */
export const TOPK_CANDIDATES = 16;
export const TOPK_PASSES = 8;

/**
 * Cell b·C + m: #{j in block b, j < length : key_j ≥ candidate m}, key_j = keyHi_j·2^16 + keyLo_j
 * (constants: blockSize B, candidates C). Blocks hold B consecutive keys.
 */
export function countAtLeastCandidates(this: KernelThis, keyHi: number[], keyLo: number[], candHi: number[], candLo: number[], length: number): number {
  const t = this.thread.x;
  const c = this.constants.candidates;
  const block = Math.floor((t + 0.5) / c);
  const m = t - block * c;
  const ch = candHi[m];
  const cl = candLo[m];
  const start = block * this.constants.blockSize;
  const end = Math.min(start + this.constants.blockSize, length);
  let count = 0.0;
  for (let j = start; j < end; j += 1.0) {
    const h = keyHi[j];
    if (h > ch) {
      count += 1.0;
    } else if (h == ch) {
      if (keyLo[j] >= cl) {
        count += 1.0;
      }
    }
  }
  return count;
}

/** The bits of a float32 key split into the two exact halves the kernel reads; NaN → (−1, 0). */
export class KeySplitter {
  private readonly f32 = new Float32Array(1);
  private readonly u32 = new Uint32Array(this.f32.buffer);

  /**
   * Writes |v_j| rounded to float32 as (hi, lo) for j < length and returns how many are numbers
   * (not NaN). Entries from `length` on are left as they are (the kernel stops at `length`).
   */
  split(v: ArrayLike<number>, length: number, hi: Float32Array, lo: Float32Array): number {
    const { f32, u32 } = this;
    let numbers = 0;
    for (let j = 0; j < length; j++) {
      const a = v[j];
      if (a !== a) {
        hi[j] = -1;
        lo[j] = 0;
        continue;
      }
      f32[0] = a < 0 ? -a : a;
      const bits = u32[0] & 0x7fffffff; // −0 → +0
      hi[j] = bits >>> 16;
      lo[j] = bits & 0xffff;
      numbers++;
    }
    return numbers;
  }
}

/** The float32 value of a bit pattern. */
export function float32FromBits(bits: number): number {
  const u32 = new Uint32Array(1);
  u32[0] = bits;
  return new Float32Array(u32.buffer)[0];
}

export interface RadixResult {
  /** The bits of T, the k-th largest key. */
  readonly bits: number;
  /** #{keys > T}. */
  readonly greater: number;
}

/**
 * The search (see the header). `countPass(candidates)` returns, for each of the 16 candidate bit
 * patterns (ascending, the first = the current lower end), how many numeric keys are ≥ it.
 * `numbers` is the count of numeric keys, k ≤ numbers. Throws when a pass contradicts what is known
 * (a count that grows with the candidate, or the lower end's count not ≥ k): a device that counts
 * wrong must not pass for a result.
 */
export async function radixThreshold(
  k: number,
  numbers: number,
  countPass: (candidates: readonly number[]) => Promise<ArrayLike<number>>,
): Promise<RadixResult> {
  if (!(Number.isInteger(k) && k >= 1 && k <= numbers)) throw new RangeError(`top-k threshold: k = ${k} must be in [1, ${numbers}] (the numeric keys)`);
  let lo = 0;
  let width = 2 ** 32;
  let lowCount = numbers; // count(lo)
  let highCount = 0; // count(lo + width): no key has bits ≥ 2^32
  const candidates = new Array<number>(TOPK_CANDIDATES);
  for (let pass = 0; pass < TOPK_PASSES; pass++) {
    const step = width / TOPK_CANDIDATES;
    for (let m = 0; m < TOPK_CANDIDATES; m++) candidates[m] = lo + m * step;
    const counts = await countPass(candidates);
    if (counts[0] !== lowCount) {
      throw new Error(`top-k threshold: pass ${pass} counted ${counts[0]} keys ≥ ${lo}, expected ${lowCount}; the device miscounts`);
    }
    let m = 0;
    for (let c = 1; c < TOPK_CANDIDATES; c++) {
      if (counts[c] > counts[c - 1] || counts[c] < highCount) {
        throw new Error(`top-k threshold: pass ${pass} counts are not monotone (${Array.from(counts).join(', ')}); the device miscounts`);
      }
      if (counts[c] >= k) m = c;
    }
    lo += m * step;
    lowCount = counts[m];
    if (m + 1 < TOPK_CANDIDATES) highCount = counts[m + 1];
    width = step;
  }
  return { bits: lo, greater: highCount };
}
