import type { Rng } from '../core/rng.js';
import type { Compressor, CompressorSpec } from './types.js';
import { orderAndClear } from './randk.js';
import { sparseBits, sparseMessage } from './wire.js';
import { K_OPTION, requireK } from './options.js';

/** Leaf-filling rules, tried in this order whenever the remaining weight is zero (see `draw`). */
const INFINITE_ONLY = 0;
const MAGNITUDES = 1;
const UNIFORM = 2;

/**
 * Draws k distinct indices, each draw picking a remaining i with probability w_i / Σ_remaining w_j,
 * w_i = |x_i| (spec §3, adaptive). A sum tree (complete binary tree over the weights, each node the
 * float sum of its two children) makes a draw O(log d): build O(d), then k descents and k leaf
 * removals, O(d + k log d) in all.
 *
 * Nodes are recomputed from their children after a removal, never decremented, so there is no drift:
 * a removed leaf is exactly 0, every node with a positive sum has a positive child, and a descent that
 * steers away from zero-weight children always ends on a positive, not yet drawn leaf.
 *
 * When the remaining weight is zero (all remaining x_i are 0, e.g. x = 0), the draw is uniform among
 * the remaining indices. Non-finite inputs: NaN weighs 0; if some |x_i| = ∞, those are drawn first,
 * uniformly among themselves (the limit of the rule), then the finite |x_i| take over. Finite weights
 * whose sum would overflow are scaled by a power of two (exact, so the probabilities are unchanged).
 */
export class AdaptiveSampler {
  private readonly leaves: number;
  private readonly tree: Float64Array;
  private readonly taken: Uint8Array;

  constructor(readonly d: number) {
    let p = 1;
    while (p < d) p *= 2;
    this.leaves = p;
    this.tree = new Float64Array(2 * p);
    this.taken = new Uint8Array(d);
  }

  draw(x: Float64Array, rng: Rng, k: number, out: Int32Array): void {
    const { tree, taken, leaves, d } = this;
    let mode = hasInfinite(x, d) ? INFINITE_ONLY : MAGNITUDES;
    this.fill(x, mode);
    for (let t = 0; t < k; t++) {
      // Remaining weight zero: next rule. UNIFORM always has weight left, since t < k ≤ d.
      while (!(tree[1] > 0) && mode < UNIFORM) this.fill(x, ++mode);
      let u = rng.float() * tree[1];
      let node = 1;
      while (node < leaves) {
        const l = 2 * node;
        const left = tree[l];
        if (left > 0 && (u < left || !(tree[l + 1] > 0))) node = l;
        else {
          u -= left;
          node = l + 1;
        }
      }
      const i = node - leaves;
      out[t] = i;
      taken[i] = 1;
      tree[node] = 0;
      for (node >>= 1; node >= 1; node >>= 1) tree[node] = tree[2 * node] + tree[2 * node + 1];
    }
    orderAndClear(out, k, taken, d);
  }

  /** Sets the leaves of the not yet drawn indices by `mode` (drawn ones and padding are 0), then sums. */
  private fill(x: Float64Array, mode: number): void {
    const { tree, taken, leaves, d } = this;
    if (mode === INFINITE_ONLY) {
      for (let i = 0; i < d; i++) tree[leaves + i] = taken[i] === 0 && Math.abs(x[i]) === Infinity ? 1 : 0;
    } else if (mode === MAGNITUDES) {
      let max = 0;
      for (let i = 0; i < d; i++) {
        const w = Math.abs(x[i]);
        if (taken[i] === 0 && w < Infinity && w > max) max = w;
      }
      // Keep Σ w ≤ d·max finite: scale by 2^−⌈log2 max⌉ (exact) when d·max could overflow.
      const scale = max > Number.MAX_VALUE / d ? Math.pow(2, -Math.ceil(Math.log2(max))) : 1;
      for (let i = 0; i < d; i++) {
        const w = Math.abs(x[i]);
        tree[leaves + i] = taken[i] === 0 && w < Infinity ? w * scale : 0; // NaN fails w < ∞
      }
    } else {
      for (let i = 0; i < d; i++) tree[leaves + i] = taken[i] === 0 ? 1 : 0;
    }
    for (let i = leaves + d; i < 2 * leaves; i++) tree[i] = 0;
    for (let node = leaves - 1; node >= 1; node--) tree[node] = tree[2 * node] + tree[2 * node + 1];
  }
}

function hasInfinite(x: Float64Array, d: number): boolean {
  for (let i = 0; i < d; i++) if (Math.abs(x[i]) === Infinity) return true;
  return false;
}

/**
 * Adaptive random sparsification (seed 000 eq. 9): k draws without replacement, each picking i with
 * probability |x_i| / Σ_remaining |x_j|; C(x) = Σ_{i∈S} x_i e_i, k·(F + ⌈log2 d⌉) bits.
 * Lemma 8 (k = 1): B¹(1/d, 1), B²(1/d, 1), B³(d).
 */
export const adaptiveSpec: CompressorSpec = {
  name: 'adaptive',
  description: 'k draws without replacement, each with probability |x_i| / (remaining Σ|x_j|)',
  options: [K_OPTION],
  bitsFormula: 'k·(F + I)',
  needsObjective: false,
  randomized: true,
  // Lemma 8 gives α = 1/d for k = 1. For k > 1 the first draw is the k = 1 compressor and every further
  // kept coordinate only lowers ‖C(x) − x‖² (C is a coordinate projection), so α = 1/d still holds.
  contractionAlpha: (d) => 1 / d,
  // The spec lists the classes for k = 1 only; for k > 1 none are claimed.
  knownClasses: (d, k) => (k === 1 ? { B1: { alpha: 1 / d, beta: 1 }, B2: { gamma: 1 / d, beta: 1 }, B3: { delta: d } } : {}),
  create(options): Compressor {
    const { d, rng } = options;
    const k = requireK(options.values, d, 'adaptive');
    const sampler = new AdaptiveSampler(d);
    const msg = sparseMessage(k, sparseBits(k, d, options.floatBits, options.indexBits));
    msg.nnz = k;
    return {
      name: 'adaptive',
      d,
      compress(v) {
        const { indices, values } = msg;
        sampler.draw(v, rng, k, indices);
        for (let t = 0; t < k; t++) values[t] = v[indices[t]];
        return msg;
      },
    };
  },
};
