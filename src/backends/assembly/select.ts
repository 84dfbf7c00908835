/**
 * Top-k selection in WebAssembly (loaded by ../select.ts, used by TopKSelector in
 * src/compressors/select.ts, whose JS loops stay the tested reference). The same order as there:
 * larger key first (|key| with `byAbs`), NaN below every number (it ties with −∞), ties by the
 * smaller index; k indices written ascending.
 *
 * Algorithm, O(n) and no allocation (the JS side lays out the buffers, see ../select.ts):
 *  - n ≤ SMALL: the transformed keys into scratch, one introselect for T, the k-th largest value.
 *  - larger n: a strided sample of m keys gives two values U ≥ L bracketing T with high probability
 *    (ranks ±(3.5·√rank + 2) around the sample rank of T); one SIMD pass writes the indices and keys
 *    of the keys ≥ L (in index order). If T does lie in [L, U] (the counts say so), the introselect
 *    runs on that band only; if the sample missed, on all keys.
 *  - Output: one pass over the candidates (or all keys) in index order, taking the keys above T and
 *    the first `need` ties.
 * T and the count above it are determined by the keys, so the winners are exactly the reference's.
 */

/** First byte the JS side may use. */
export function heapBase(): usize {
  return __heap_base;
}

/** Up to this many keys a plain introselect over all of them (sampling does not pay off). */
const SMALL: i32 = 256;

// Results of the helpers below, in globals so that nothing is allocated.
/** Values strictly greater than the value quickselect returned, in its range. */
let selectedGreater: i32 = 0;

/** The rank key: |v| or v, NaN mapped to −∞ (so that it ranks lowest and ties with −∞). */
@inline
function transform(v: f64, byAbs: bool): f64 {
  const u = byAbs ? Math.abs(v) : v;
  return u == u ? u : -Infinity;
}

@inline
function at8(base: usize, i: i32): usize {
  return base + (<usize>i << 3);
}

@inline
function at4(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

function median3(a: f64, b: f64, c: f64): f64 {
  if (a < b) {
    if (b < c) return b;
    return a < c ? c : a;
  }
  if (a < c) return a;
  return b < c ? c : b;
}

/** Median of 3, or Tukey's ninther on large ranges (deterministic). */
function choosePivot(s: usize, lo: i32, hi: i32): f64 {
  const size = hi - lo;
  const mid = lo + (size >>> 1);
  if (size < 512) return median3(load<f64>(at8(s, lo)), load<f64>(at8(s, mid)), load<f64>(at8(s, hi - 1)));
  const step = size >>> 3;
  return median3(
    median3(load<f64>(at8(s, lo)), load<f64>(at8(s, lo + step)), load<f64>(at8(s, lo + 2 * step))),
    median3(load<f64>(at8(s, mid - step)), load<f64>(at8(s, mid)), load<f64>(at8(s, mid + step))),
    median3(load<f64>(at8(s, hi - 1 - 2 * step)), load<f64>(at8(s, hi - 1 - step)), load<f64>(at8(s, hi - 1))),
  );
}

/**
 * Moves the values > pivot of s[lo..hi) to its front, branch-free (an unconditional swap per value:
 * a mispredicted branch per value cost more); returns the end of that part.
 */
function partitionGreater(s: usize, lo: i32, hi: i32, pivot: f64): i32 {
  let w = lo;
  for (let i = lo; i < hi; i++) {
    const v = load<f64>(at8(s, i));
    store<f64>(at8(s, i), load<f64>(at8(s, w)));
    store<f64>(at8(s, w), v);
    w += <i32>(v > pivot);
  }
  return w;
}

/** The same for the values == pivot of s[lo..hi) (all ≤ pivot there). */
function partitionEqual(s: usize, lo: i32, hi: i32, pivot: f64): i32 {
  let w = lo;
  for (let i = lo; i < hi; i++) {
    const v = load<f64>(at8(s, i));
    store<f64>(at8(s, i), load<f64>(at8(s, w)));
    store<f64>(at8(s, w), v);
    w += <i32>(v == pivot);
  }
  return w;
}

function insertionSortDescending(s: usize, lo: i32, hi: i32): void {
  for (let i = lo + 1; i < hi; i++) {
    const v = load<f64>(at8(s, i));
    let j = i - 1;
    while (j >= lo && load<f64>(at8(s, j)) < v) {
      store<f64>(at8(s, j + 1), load<f64>(at8(s, j)));
      j--;
    }
    store<f64>(at8(s, j + 1), v);
  }
}

function siftDownMin(s: usize, lo: i32, root: i32, end: i32): void {
  const v = load<f64>(at8(s, lo + root));
  let r = root;
  for (;;) {
    let c = 2 * r + 1;
    if (c >= end) break;
    if (c + 1 < end && load<f64>(at8(s, lo + c + 1)) < load<f64>(at8(s, lo + c))) c++;
    if (load<f64>(at8(s, lo + c)) >= v) break;
    store<f64>(at8(s, lo + r), load<f64>(at8(s, lo + c)));
    r = c;
  }
  store<f64>(at8(s, lo + r), v);
}

/** In-place heapsort of s[lo..hi) into descending order (a min-heap; the smallest goes to the end). */
function heapSortDescending(s: usize, lo: i32, hi: i32): void {
  const n = hi - lo;
  for (let r = (n >>> 1) - 1; r >= 0; r--) siftDownMin(s, lo, r, n);
  for (let end = n - 1; end > 0; end--) {
    const top = load<f64>(at8(s, lo));
    store<f64>(at8(s, lo), load<f64>(at8(s, lo + end)));
    store<f64>(at8(s, lo + end), top);
    siftDownMin(s, lo, 0, end);
  }
}

/**
 * Introselect: the value of rank t (0 = largest) in s[0..n) (no NaN), with `selectedGreater` set to
 * the number of values greater than it. Each round splits off the values > pivot and, when the rank
 * is not among them, those == pivot (so ties cannot make it quadratic: the pivot's copies leave the
 * range); after 2·log2(n) + 4 rounds a heapsort of what is left, so adversarial inputs cost
 * O(n log n) at worst.
 */
function quickselect(s: usize, n: i32, t: i32): f64 {
  let lo = 0;
  let hi = n;
  let budget = 2 * (31 - clz<i32>(n + 1)) + 4;
  while (true) {
    const size = hi - lo;
    if (size <= 24 || budget-- <= 0) {
      if (size <= 24) insertionSortDescending(s, lo, hi);
      else heapSortDescending(s, lo, hi);
      const value = load<f64>(at8(s, t));
      let first = t;
      while (first > lo && load<f64>(at8(s, first - 1)) == value) first--;
      selectedGreater = first;
      return value;
    }
    const pivot = choosePivot(s, lo, hi);
    const greater = partitionGreater(s, lo, hi, pivot);
    if (t < greater) {
      hi = greater;
      continue;
    }
    const equal = partitionEqual(s, greater, hi, pivot);
    if (t < equal) {
      selectedGreater = greater;
      return pivot;
    }
    lo = equal;
  }
  return 0; // not reached
}

/**
 * Writes, ascending, the k winners among the keys at the listed indices (`list`, ascending, with
 * their transformed keys in `vals`) or, when list is 0, among keys[0..count): the keys above t,
 * then the first `need` keys equal to t. Branch-free (the comparison with t is a coin flip when k
 * is a sizeable share of the candidates), four at a time with the loads first; exactly k are
 * winners, so no store goes past out[k − 1] that is not overwritten.
 */
@inline
function writeWinners(keys: usize, list: usize, vals: usize, count: i32, t: f64, need: i32, out: usize, byAbs: bool): void {
  let w = 0;
  let c = 0;
  if (list != 0) {
    for (; c + 4 <= count; c += 4) {
      const i0 = load<i32>(at4(list, c));
      const i1 = load<i32>(at4(list, c), 4);
      const i2 = load<i32>(at4(list, c), 8);
      const i3 = load<i32>(at4(list, c), 12);
      const u0 = load<f64>(at8(vals, c));
      const u1 = load<f64>(at8(vals, c), 8);
      const u2 = load<f64>(at8(vals, c), 16);
      const u3 = load<f64>(at8(vals, c), 24);
      let tie = <i32>(u0 == t) & <i32>(need > 0);
      store<i32>(at4(out, w), i0);
      w += <i32>(u0 > t) | tie;
      need -= tie;
      tie = <i32>(u1 == t) & <i32>(need > 0);
      store<i32>(at4(out, w), i1);
      w += <i32>(u1 > t) | tie;
      need -= tie;
      tie = <i32>(u2 == t) & <i32>(need > 0);
      store<i32>(at4(out, w), i2);
      w += <i32>(u2 > t) | tie;
      need -= tie;
      tie = <i32>(u3 == t) & <i32>(need > 0);
      store<i32>(at4(out, w), i3);
      w += <i32>(u3 > t) | tie;
      need -= tie;
    }
  }
  for (; c < count; c++) {
    const i = list == 0 ? c : load<i32>(at4(list, c));
    const u = list == 0 ? transform(load<f64>(at8(keys, i)), byAbs) : load<f64>(at8(vals, c));
    const tie = <i32>(u == t) & <i32>(need > 0);
    store<i32>(at4(out, w), i);
    w += <i32>(u > t) | tie;
    need -= tie;
  }
}

/** The exact route over all n keys: transform into scratch, introselect, output. */
@inline
function selectAll(n: i32, k: i32, keys: usize, out: usize, scratch: usize, byAbs: bool): void {
  for (let i = 0; i < n; i++) store<f64>(at8(scratch, i), transform(load<f64>(at8(keys, i)), byAbs));
  const t = quickselect(scratch, n, k - 1);
  writeWinners(keys, 0, 0, n, t, k - selectedGreater, out, byAbs);
}

/**
 * Writes the indices of the k largest keys among keys[0..n) (1 ≤ k < n) ascending into out.
 * Buffers: keys (n f64s), out (k i32s), scratch (n f64s), cand (n i32s), vals (n f64s).
 */
@inline
function selectTopK(n: i32, k: i32, keys: usize, out: usize, scratch: usize, cand: usize, vals: usize, byAbs: bool): void {
  if (n <= SMALL) {
    selectAll(n, k, keys, out, scratch, byAbs);
    return;
  }
  // Sample: m = ¾·n^(2/3) keys at strided positions, transformed (¾ measured best among ½, ¾, 1, 2:
  // a larger sample costs more than its narrower band saves); the rank of T among them, ± a margin
  // of 3.5 binomial standard deviations (√rank bounds √(m·p·(1−p)) for p = k/n).
  const m = <i32>Math.ceil(0.75 * Math.pow(<f64>n, 2.0 / 3.0));
  const stride = <f64>n / <f64>m;
  for (let j = 0; j < m; j++) store<f64>(at8(scratch, j), transform(load<f64>(at8(keys, <i32>Math.floor(<f64>j * stride))), byAbs));
  const rank = <i32>Math.floor(<f64>(k - 1) * <f64>m / <f64>n);
  const gap = <i32>Math.ceil(3.5 * Math.sqrt(<f64>(rank + 1))) + 2;
  const upper = rank - gap < 0 ? Infinity : quickselect(scratch, m, rank - gap);
  const lower = quickselect(scratch, m, min(m - 1, rank + gap));
  if (lower == -Infinity) {
    selectAll(n, k, keys, out, scratch, byAbs);
    return;
  }
  // One pass writes the indices and transformed keys of the keys ≥ `lower`, in index order, eight
  // keys per iteration with all loads first: one branch on "any of the eight", then a loop over the
  // set bits (measured 2–3× faster than a branch-free store per key). Raw comparisons: a NaN key
  // compares false, so it is left out, as with NaN → −∞ (lower > −∞).
  const lowerV = f64x2.splat(lower);
  let c = 0;
  let b = 0; // the band [lower, upper]'s keys go to scratch as they come
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const at = at8(keys, i);
    let v0 = v128.load(at);
    let v1 = v128.load(at, 16);
    let v2 = v128.load(at, 32);
    let v3 = v128.load(at, 48);
    if (byAbs) {
      v0 = f64x2.abs(v0);
      v1 = f64x2.abs(v1);
      v2 = f64x2.abs(v2);
      v3 = f64x2.abs(v3);
    }
    const m0 = f64x2.ge(v0, lowerV);
    const m1 = f64x2.ge(v1, lowerV);
    const m2 = f64x2.ge(v2, lowerV);
    const m3 = f64x2.ge(v3, lowerV);
    if (v128.any_true(v128.or(v128.or(m0, m1), v128.or(m2, m3)))) {
      let bits = i64x2.bitmask(m0) | (i64x2.bitmask(m1) << 2) | (i64x2.bitmask(m2) << 4) | (i64x2.bitmask(m3) << 6);
      while (bits != 0) {
        const t = <i32>ctz(bits);
        const u = transform(load<f64>(at8(at, t)), byAbs);
        store<i32>(at4(cand, c), i + t);
        store<f64>(at8(vals, c), u);
        store<f64>(at8(scratch, b), u);
        c++;
        b += <i32>(u <= upper);
        bits &= bits - 1;
      }
    }
  }
  for (; i < n; i++) {
    const u = transform(load<f64>(at8(keys, i)), byAbs);
    if (u >= lower) {
      store<i32>(at4(cand, c), i);
      store<f64>(at8(vals, c), u);
      store<f64>(at8(scratch, b), u);
      c++;
      b += <i32>(u <= upper);
    }
  }
  // The candidates above `upper` are all winners; T is in the band if the sample did not miss
  // (rare; then the exact route).
  const above = c - b;
  if (!(above <= k - 1 && k - 1 < c)) {
    selectAll(n, k, keys, out, scratch, byAbs);
    return;
  }
  const t = quickselect(scratch, b, k - 1 - above);
  writeWinners(keys, cand, vals, c, t, k - above - selectedGreater, out, byAbs);
}

export function topkAbs(n: i32, k: i32, keys: usize, out: usize, scratch: usize, cand: usize, vals: usize): void {
  selectTopK(n, k, keys, out, scratch, cand, vals, true);
}

export function topkRaw(n: i32, k: i32, keys: usize, out: usize, scratch: usize, cand: usize, vals: usize): void {
  selectTopK(n, k, keys, out, scratch, cand, vals, false);
}
