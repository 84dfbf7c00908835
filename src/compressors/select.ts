/**
 * Top-k selection shared by topk, the importance compressors, topk-ssgd and gtopk.
 * Order: larger key first; ties by larger secondary key (when given), then by smaller index (spec §3).
 * PLACEHOLDER sort-based version, to be replaced by an O(d) average introselect.
 */
export class TopKSelector {
  private readonly order: Int32Array;
  constructor(readonly capacity: number) {
    this.order = new Int32Array(capacity);
  }

  /**
   * Writes into out[0..k) the indices of the k largest keys among keys[0..length) (by |key| when
   * `byAbs`), in ascending index order. Allocates nothing.
   */
  select(keys: Float64Array, length: number, k: number, out: Int32Array, byAbs = true, secondary?: Float64Array): void {
    const o = this.order.subarray(0, length);
    for (let i = 0; i < length; i++) o[i] = i;
    const key = (i: number) => (byAbs ? Math.abs(keys[i]) : keys[i]);
    o.sort((a, b) => {
      const ka = key(a), kb = key(b);
      if (ka !== kb) return kb - ka;
      if (secondary) {
        const sa = Math.abs(secondary[a]), sb = Math.abs(secondary[b]);
        if (sa !== sb) return sb - sa;
      }
      return a - b;
    });
    const chosen = o.subarray(0, k);
    chosen.sort();
    out.set(chosen);
  }
}
