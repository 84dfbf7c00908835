/**
 * topk with the threshold from a backend (`--backend gpu`): the k-th largest |v_j| T comes from
 * TopKKernels (float32 on the device); one ascending pass then keeps every j with |v_j| > T and the
 * first k − greater indices with |v_j| = T, so the message is in index order as topk's is.
 *
 * The comparison is made on the keys rounded to float32, exactly as the device saw them: two
 * float64 keys that round to the same float32 value tie here (smaller index first), where the
 * float64 topk would order them. The values sent are the float64 v_j. The bit count is topk's
 * (k·(F + I), I = --index-bits or ⌈log2 d⌉).
 */
import type { TopKKernels } from '../backends/types.js';
import type { Compressor, WireMessage } from './types.js';
import { sparseBits, sparseMessage } from './wire.js';

export class GpuTopKCompressor implements Compressor {
  readonly name = 'topk';
  private readonly message: WireMessage;

  constructor(
    readonly d: number,
    readonly k: number,
    floatBits: number,
    private readonly kernels: TopKKernels,
    indexBits?: number,
  ) {
    if (!(Number.isInteger(k) && k >= 1 && k <= d)) throw new RangeError(`topk: k = ${k} must be in [1, ${d}]`);
    this.message = sparseMessage(k, sparseBits(k, d, floatBits, indexBits));
    this.message.nnz = k;
  }

  compress(v: Float64Array): WireMessage {
    const { d, k } = this;
    const { indices, values } = this.message;
    const { threshold, greater } = this.kernels.threshold(v, d, k);
    let taken = 0;
    if (Number.isNaN(threshold)) {
      // every key is NaN: they tie, smaller index first
      for (let j = 0; j < k; j++) indices[j] = j;
      taken = k;
    } else {
      let ties = k - greater;
      for (let j = 0; j < d && taken < k; j++) {
        const key = Math.fround(Math.abs(v[j]));
        if (key > threshold || (key === threshold && ties-- > 0)) indices[taken++] = j;
      }
      // Fewer than k numbers (the rest NaN): NaN keys rank last, by index; then back to index order.
      if (taken < k) {
        for (let j = 0; j < d && taken < k; j++) if (Number.isNaN(v[j])) indices[taken++] = j;
        indices.subarray(0, k).sort();
      }
    }
    for (let t = 0; t < k; t++) values[t] = v[indices[t]];
    return this.message;
  }
}
