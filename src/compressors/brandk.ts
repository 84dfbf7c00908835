import type { Compressor, CompressorSpec } from './types.js';
import { UniformSubsetSampler } from './randk.js';
import { requireK, sparseBits, sparseMessage } from './wire.js';

/**
 * Biased Rand-k (seed 000 eq. 8): C(x) = Σ_{i∈S} x_i e_i, S a uniform k-subset (no d/k scaling).
 * E C(x) = (k/d) x; B¹(k/d, 1), B²(k/d, 1), B³(d/k) (Lemma 6), so α = k/d in expectation.
 */
export const brandkSpec: CompressorSpec = {
  name: 'brandk',
  description: 'uniform random k-subset, unscaled (biased, E C(x) = (k/d) x)',
  params: ['k'],
  bitsFormula: 'k·(F + ⌈log2 d⌉)',
  requiresK: true,
  needsObjective: false,
  randomized: true,
  contractionAlpha: (d, k) => k / d,
  knownClasses: (d, k) => ({ B1: { alpha: k / d, beta: 1 }, B2: { gamma: k / d, beta: 1 }, B3: { delta: d / k } }),
  create(options): Compressor {
    const { d, rng } = options;
    const k = requireK(options, 'brandk');
    const sampler = new UniformSubsetSampler(d);
    const msg = sparseMessage(k, sparseBits(k, d, options.floatBits));
    msg.nnz = k;
    return {
      name: 'brandk',
      d,
      compress(v) {
        const { indices, values } = msg;
        sampler.draw(rng, k, indices);
        for (let t = 0; t < k; t++) values[t] = v[indices[t]];
        return msg;
      },
    };
  },
};
