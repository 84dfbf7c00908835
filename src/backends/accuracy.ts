/**
 * How far a reduced-precision result is from the float64 reference: the largest absolute difference
 * relative to the largest reference entry, max_j |a_j − r_j| / max_j |r_j|. Relative to the largest
 * entry, not entry by entry: a gradient entry that cancels to nearly 0 has no meaningful relative
 * error in float32, while the vector as a whole does.
 */
export function maxRelativeError(result: ArrayLike<number>, reference: ArrayLike<number>, length = reference.length): number {
  let scale = 0;
  let diff = 0;
  for (let j = 0; j < length; j++) {
    const r = reference[j];
    const a = Math.abs(r);
    if (a > scale) scale = a;
    const e = Math.abs(result[j] - r);
    if (e > diff || Number.isNaN(e)) diff = Number.isNaN(e) ? Number.NaN : e;
  }
  if (Number.isNaN(diff)) return Number.NaN;
  if (scale === 0) return diff === 0 ? 0 : Number.POSITIVE_INFINITY;
  return diff / scale;
}
