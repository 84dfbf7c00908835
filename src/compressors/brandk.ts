import type { CompressorSpec } from './types.js';
import { randomSubsetCompressor } from './randk.js';
import { K_OPTION } from './options.js';

/**
 * Biased Rand-k (seed 000 eq. 8): C(x) = Σ_{i∈S} x_i e_i, S a uniform k-subset (no d/k scaling).
 * E C(x) = (k/d) x; B¹(k/d, 1), B²(k/d, 1), B³(d/k) (Lemma 6), so α = k/d in expectation.
 */
export const brandkSpec: CompressorSpec = {
  name: 'brandk',
  description: 'uniform random k-subset, unscaled (biased, E C(x) = (k/d) x)',
  options: [K_OPTION],
  bitsFormula: 'k·(F + I)',
  needsObjective: false,
  randomized: true,
  contractionAlpha: (d, k) => k / d,
  knownClasses: (d, k) => ({ B1: { alpha: k / d, beta: 1 }, B2: { gamma: k / d, beta: 1 }, B3: { delta: d / k } }),
  // scale 1: the same draw as randk, unscaled (x·1 = x exactly, so no separate loop is needed)
  create: (options) => randomSubsetCompressor('brandk', options, 1),
};
