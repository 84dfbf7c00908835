/** ⌈log2 n⌉ for an integer n ≥ 1, computed on integers so exact powers of two never round up. */
export function ceilLog2(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`ceilLog2: expected an integer ≥ 1, got ${n}`);
  let bits = 0;
  let power = 1;
  while (power < n) {
    power *= 2;
    bits++;
  }
  return bits;
}
