import type { Rng } from '../core/rng.js';
import type { Compressor, CompressorOptions, CompressorSpec } from './types.js';
import { sortIndicesAscending } from './select.js';
import { sparseBits, sparseMessage } from './wire.js';
import { K_OPTION, requireK } from './options.js';

/**
 * Uniform k-subsets of {0, …, d−1} by Floyd's algorithm: for j = d−k … d−1 draw t uniform in [0, j]
 * and take t, or j if t was already taken. Exactly k draws from the rng, O(k) expected work, and the
 * outcome depends only on the rng stream — no permutation state carried between calls (unlike a
 * partial Fisher–Yates on a kept permutation), so the same seed gives the same subsets.
 * The subset is returned in ascending index order (heapsort of the k indices, or a scan of the d marks
 * when that is cheaper; both give the same array).
 */
export class UniformSubsetSampler {
  private readonly taken: Uint8Array;
  constructor(readonly d: number) {
    this.taken = new Uint8Array(d);
  }

  draw(rng: Rng, k: number, out: Int32Array): void {
    const d = this.d;
    const taken = this.taken;
    for (let j = d - k, c = 0; j < d; j++, c++) {
      const t = rng.int(j + 1);
      const pick = taken[t] === 1 ? j : t;
      taken[pick] = 1;
      out[c] = pick;
    }
    orderAndClear(out, k, taken, d);
  }
}

/**
 * Puts the k distinct indices out[0..k) (all marked in `taken`) in ascending order and clears their
 * marks: a heapsort, O(k log k), when that beats a scan of the d marks, else the scan.
 */
export function orderAndClear(out: Int32Array, k: number, taken: Uint8Array, d: number): void {
  if (k * Math.log2(k + 1) < d) {
    sortIndicesAscending(out, k);
    for (let c = 0; c < k; c++) taken[out[c]] = 0;
    return;
  }
  let c = 0;
  for (let i = 0; i < d; i++) {
    if (taken[i] === 1) {
      out[c++] = i;
      taken[i] = 0;
    }
  }
}

/**
 * A uniform k-subset S and C(x) = scale · Σ_{i∈S} x_i e_i: Rand-k with scale d/k, biased Rand-k with 1.
 */
export function randomSubsetCompressor(name: string, options: CompressorOptions, scale: number): Compressor {
  const { d, rng } = options;
  const k = requireK(options.values, d, name);
  const sampler = new UniformSubsetSampler(d);
  const msg = sparseMessage(k, sparseBits(k, d, options.floatBits, options.indexBits));
  msg.nnz = k;
  return {
    name,
    d,
    compress(v) {
      const { indices, values } = msg;
      sampler.draw(rng, k, indices);
      for (let t = 0; t < k; t++) values[t] = scale * v[indices[t]];
      return msg;
    },
  };
}

/** Rand-k (seed 000 eq. 7): C(x) = (d/k) Σ_{i∈S} x_i e_i, S a uniform k-subset. Unbiased, U(d/k). */
export const randkSpec: CompressorSpec = {
  name: 'randk',
  description: 'uniform random k-subset scaled by d/k (unbiased)',
  options: [K_OPTION],
  bitsFormula: 'k·(F + I)',
  needsObjective: false,
  randomized: true,
  unbiasedZeta: (d, k) => d / k,
  knownClasses: (d, k) => ({ U: { zeta: d / k } }),
  create: (options) => randomSubsetCompressor('randk', options, options.d / requireK(options.values, options.d, 'randk')),
};
