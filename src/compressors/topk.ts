import type { Compressor, CompressorSpec } from './types.js';
import { TopKSelector } from './select.js';
import { sparseBits, sparseMessage } from './wire.js';
import { K_OPTION, requireK } from './options.js';
import { GpuTopKCompressor } from './topk-gpu.js';

/**
 * Top-k (seed 000 eq. 10): keep the k entries of largest |x_i|, ties by the smaller index; k pairs
 * on the wire, k·(F + ⌈log2 d⌉) bits. Deterministic; ‖C(x) − x‖² ≤ (1 − k/d)‖x‖² for every x.
 */
export const topkSpec: CompressorSpec = {
  name: 'topk',
  description: 'keep the k entries of largest magnitude (ties: smaller index)',
  options: [K_OPTION],
  bitsFormula: 'k·(F + I)',
  needsObjective: false,
  randomized: false,
  contractionAlpha: (d, k) => k / d,
  knownClasses: (d, k) => ({ B1: { alpha: k / d, beta: 1 }, B2: { gamma: k / d, beta: 1 }, B3: { delta: d / k } }),
  create(options): Compressor {
    const { d } = options;
    const k = requireK(options.values, d, 'topk');
    if (options.topKKernels) return new GpuTopKCompressor(d, k, options.floatBits, options.topKKernels, options.indexBits);
    const selector = new TopKSelector(d);
    const msg = sparseMessage(k, sparseBits(k, d, options.floatBits, options.indexBits));
    msg.nnz = k;
    return {
      name: 'topk',
      d,
      compress(v) {
        const { indices, values } = msg;
        selector.selectWithValues(v, d, k, indices, values);
        return msg;
      },
    };
  },
};
