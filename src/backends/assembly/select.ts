/**
 * Top-k selection in WebAssembly (loaded by ../select.ts, used by TopKSelector in
 * src/compressors/select.ts, whose JS loops stay the tested reference). The same order as there:
 * larger key first (|key| with `byAbs`), NaN below every number (it ties with −∞), ties by the
 * smaller index; k indices written ascending.
 *
 * Algorithm, O(n) and no allocation (the JS side lays out the buffers, see ../select.ts):
 *  - n ≤ SMALL: the transformed keys into scratch, one introselect for T, the k-th largest value.
 *  - larger n: a strided sample of m keys gives a value L below T with high probability (the sample
 *    rank of T + 3.5·√rank + 2), and for n > 2^17 also U above it; one SIMD pass writes the indices
 *    and keys of the keys ≥ L (in index order). If there are at least k of them (then T is among
 *    them; with U, fewer than k above U), a Floyd–Rivest selection finds T among them (for n > 2^17
 *    the introselect, on the band [L, U] only); if the sample missed, the introselect on all keys.
 *  - Output: one pass over the candidates (or all keys) in index order, taking the keys above T and
 *    the first `need` ties, and, if asked, their values.
 * T and the count above it are determined by the keys, so the winners are exactly the reference's.
 */

/** First byte the JS side may use. */
export function heapBase(): usize {
  return __heap_base;
}

/** Up to this many keys a plain introselect over all of them (sampling does not pay off). */
const SMALL: i32 = 256;
/** Above this many keys the selection runs on the sample's band only (see selectTopK). */
const BANDED_FROM: i32 = 1 << 17;

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


@inline
function swap8(s: usize, a: i32, b: i32): void {
  const x = load<f64>(at8(s, a));
  store<f64>(at8(s, a), load<f64>(at8(s, b)));
  store<f64>(at8(s, b), x);
}

/**
 * Floyd–Rivest selection (descending): afterwards s[t] holds the value of rank t of s[left..right]
 * (0 = largest), the values before it ≥ it and those after ≤ it. Each round first recurses on a
 * sample-sized range around t, so its pivot lands near rank t and one Hoare partition leaves little;
 * measured 2× faster than the introselect on the candidates of d = 10⁴…10⁵, k = d/10. After
 * 2·log2(size) + 8 rounds of one range (never seen on real keys) a heapsort of what is left keeps the
 * worst case O(n log n).
 */
function floydRivest(s: usize, left: i32, right: i32, t: i32, budget: i32): void {
  while (right > left) {
    if (budget-- <= 0) {
      heapSortDescending(s, left, right + 1);
      return;
    }
    if (right - left > 600) {
      const n = <f64>(right - left + 1);
      const i = <f64>(t - left + 1);
      const z = Math.log(n);
      const size = 0.5 * Math.exp((2.0 * z) / 3.0);
      const sd = 0.5 * Math.sqrt((z * size * (n - size)) / n) * (i < n / 2 ? -1.0 : 1.0);
      const l = max(left, <i32>Math.floor(<f64>t - (i * size) / n + sd));
      const r = min(right, <i32>Math.floor(<f64>t + ((n - i) * size) / n + sd));
      floydRivest(s, l, r, t, roundBudget(r - l + 1));
    }
    // Hoare partition around v = s[t], with s[left] ≥ v ≥ s[right] as sentinels for the inner scans.
    const v = load<f64>(at8(s, t));
    let i = left;
    let j = right;
    swap8(s, left, t);
    if (load<f64>(at8(s, right)) < v) swap8(s, right, left);
    while (i < j) {
      swap8(s, i, j);
      i++;
      j--;
      while (load<f64>(at8(s, i)) > v) i++;
      while (load<f64>(at8(s, j)) < v) j--;
    }
    if (load<f64>(at8(s, left)) == v) swap8(s, left, j);
    else {
      j++;
      swap8(s, j, right);
    }
    if (j <= t) left = j + 1;
    if (t <= j) right = j - 1;
  }
}

@inline
function roundBudget(size: i32): i32 {
  return 2 * (31 - clz<i32>(size + 1)) + 8;
}

/** The value of rank t (0 = largest) in s[0..n) (no NaN), with `selectedGreater` set, by floydRivest. */
function selectRank(s: usize, n: i32, t: i32, budget: i32): f64 {
  floydRivest(s, 0, n - 1, t, budget);
  const value = load<f64>(at8(s, t));
  // The values greater than it are among s[0..t): count them two lanes at a time (a lane's mask is −1).
  const vv = f64x2.splat(value);
  let acc = i64x2.splat(0);
  let i = 0;
  for (; i + 2 <= t; i += 2) acc = i64x2.sub(acc, f64x2.gt(v128.load(at8(s, i)), vv));
  let greater = <i32>(i64x2.extract_lane(acc, 0) + i64x2.extract_lane(acc, 1));
  for (; i < t; i++) greater += <i32>(load<f64>(at8(s, i)) > value);
  selectedGreater = greater;
  return value;
}

/**
 * Writes, ascending, the k winners among the keys at the listed indices (`list`, ascending, with
 * their keys as given in `vals`) or, when list is 0, among keys[0..count): the keys above t, then
 * the first `need` keys equal to t; with `outValues` (≠ 0) also each winner's key as given (v_i, not
 * |v_i|), so that the caller need not gather them again from memory the selection has evicted.
 * Branch-free (the comparison with t is a coin flip when k is a sizeable share of the candidates),
 * four at a time with the loads first; exactly k are winners, so no store goes past out[k − 1] that
 * is not overwritten.
 */
@inline
function writeWinners(keys: usize, list: usize, vals: usize, count: i32, t: f64, need: i32, out: usize, outValues: usize, byAbs: bool): void {
  let w = 0;
  let c = 0;
  const withValues = outValues != 0;
  if (list != 0) {
    // First every candidate ≥ t, counting those equal to t: when exactly `need` are (ties are rare),
    // that is the answer, found without the tie bookkeeping's chain through `need` (one add per key
    // instead of four dependent steps); otherwise the exact pass below rewrites out from the start.
    // out and outValues hold n entries, so the stores past k − 1 that this pass can make stay inside them.
    let eq = 0;
    for (; c + 4 <= count; c += 4) {
      const r0 = load<f64>(at8(vals, c));
      const r1 = load<f64>(at8(vals, c), 8);
      const r2 = load<f64>(at8(vals, c), 16);
      const r3 = load<f64>(at8(vals, c), 24);
      const u0 = transform(r0, byAbs);
      const u1 = transform(r1, byAbs);
      const u2 = transform(r2, byAbs);
      const u3 = transform(r3, byAbs);
      store<i32>(at4(out, w), load<i32>(at4(list, c)));
      if (withValues) store<f64>(at8(outValues, w), r0);
      w += <i32>(u0 >= t);
      store<i32>(at4(out, w), load<i32>(at4(list, c), 4));
      if (withValues) store<f64>(at8(outValues, w), r1);
      w += <i32>(u1 >= t);
      store<i32>(at4(out, w), load<i32>(at4(list, c), 8));
      if (withValues) store<f64>(at8(outValues, w), r2);
      w += <i32>(u2 >= t);
      store<i32>(at4(out, w), load<i32>(at4(list, c), 12));
      if (withValues) store<f64>(at8(outValues, w), r3);
      w += <i32>(u3 >= t);
      eq += <i32>(u0 == t) + <i32>(u1 == t) + <i32>(u2 == t) + <i32>(u3 == t);
    }
    for (; c < count; c++) {
      const r = load<f64>(at8(vals, c));
      const u = transform(r, byAbs);
      store<i32>(at4(out, w), load<i32>(at4(list, c)));
      if (withValues) store<f64>(at8(outValues, w), r);
      w += <i32>(u >= t);
      eq += <i32>(u == t);
    }
    if (eq == need) return;
    w = 0;
    c = 0;
    for (; c + 4 <= count; c += 4) {
      const i0 = load<i32>(at4(list, c));
      const i1 = load<i32>(at4(list, c), 4);
      const i2 = load<i32>(at4(list, c), 8);
      const i3 = load<i32>(at4(list, c), 12);
      const r0 = load<f64>(at8(vals, c));
      const r1 = load<f64>(at8(vals, c), 8);
      const r2 = load<f64>(at8(vals, c), 16);
      const r3 = load<f64>(at8(vals, c), 24);
      const u0 = transform(r0, byAbs);
      const u1 = transform(r1, byAbs);
      const u2 = transform(r2, byAbs);
      const u3 = transform(r3, byAbs);
      let tie = <i32>(u0 == t) & <i32>(need > 0);
      store<i32>(at4(out, w), i0);
      if (withValues) store<f64>(at8(outValues, w), r0);
      w += <i32>(u0 > t) | tie;
      need -= tie;
      tie = <i32>(u1 == t) & <i32>(need > 0);
      store<i32>(at4(out, w), i1);
      if (withValues) store<f64>(at8(outValues, w), r1);
      w += <i32>(u1 > t) | tie;
      need -= tie;
      tie = <i32>(u2 == t) & <i32>(need > 0);
      store<i32>(at4(out, w), i2);
      if (withValues) store<f64>(at8(outValues, w), r2);
      w += <i32>(u2 > t) | tie;
      need -= tie;
      tie = <i32>(u3 == t) & <i32>(need > 0);
      store<i32>(at4(out, w), i3);
      if (withValues) store<f64>(at8(outValues, w), r3);
      w += <i32>(u3 > t) | tie;
      need -= tie;
    }
  }
  for (; c < count; c++) {
    const i = list == 0 ? c : load<i32>(at4(list, c));
    const r = list == 0 ? load<f64>(at8(keys, i)) : load<f64>(at8(vals, c));
    const u = transform(r, byAbs);
    const tie = <i32>(u == t) & <i32>(need > 0);
    store<i32>(at4(out, w), i);
    if (withValues) store<f64>(at8(outValues, w), r);
    w += <i32>(u > t) | tie;
    need -= tie;
  }
}

/** The exact route over all n keys: transform into scratch, introselect, output. */
@inline
function selectAll(n: i32, k: i32, keys: usize, out: usize, outValues: usize, scratch: usize, byAbs: bool): void {
  for (let i = 0; i < n; i++) store<f64>(at8(scratch, i), transform(load<f64>(at8(keys, i)), byAbs));
  const t = quickselect(scratch, n, k - 1);
  writeWinners(keys, 0, 0, n, t, k - selectedGreater, out, outValues, byAbs);
}

/**
 * Writes the indices of the k largest keys among keys[0..n) (1 ≤ k < n) ascending into out.
 * Buffers: keys (n f64s), out (k i32s), outValues (k f64s, or 0: no values wanted), scratch (n f64s),
 * cand (n i32s), vals (n f64s).
 */
@inline
function selectTopK(n: i32, k: i32, keys: usize, out: usize, outValues: usize, scratch: usize, cand: usize, vals: usize, byAbs: bool): void {
  if (n <= SMALL) {
    selectAll(n, k, keys, out, outValues, scratch, byAbs);
    return;
  }
  // Sample: m = ¾·n^(2/3) keys at strided positions, transformed (¾ measured best among ½, ¾, 1, 2:
  // a larger sample costs more than its narrower margin saves); the rank of T among them ± a margin
  // of 3.5 binomial standard deviations (√rank bounds √(m·p·(1−p)) for p = k/n) gives L (and U).
  const m = <i32>Math.ceil(0.75 * Math.pow(<f64>n, 2.0 / 3.0));
  const stride = <f64>n / <f64>m;
  for (let j = 0; j < m; j++) store<f64>(at8(scratch, j), transform(load<f64>(at8(keys, <i32>Math.floor(<f64>j * stride))), byAbs));
  const rank = <i32>Math.floor(<f64>(k - 1) * <f64>m / <f64>n);
  const gap = <i32>Math.ceil(3.5 * Math.sqrt(<f64>(rank + 1))) + 2;
  // Above BANDED_FROM keys, the band [L, U] (~2·gap/m of the keys) goes to scratch and the
  // introselect runs on it; below, every candidate ≥ L goes there and Floyd–Rivest runs on them all
  // (measured, k = d/100 and d/10: at d = 10⁴…10⁵ sorting keys into the band costs more than it
  // saves, and Floyd–Rivest beats the introselect; at d = 10⁶ the band and introselect are faster).
  const banded = n > BANDED_FROM && rank - gap >= 0;
  const lower = quickselect(scratch, m, min(m - 1, rank + gap));
  const upper = banded ? quickselect(scratch, m, rank - gap) : Infinity;
  if (lower == -Infinity) {
    selectAll(n, k, keys, out, outValues, scratch, byAbs);
    return;
  }
  const c = banded
    ? byAbs ? collectBandAbs(n, keys, cand, vals, scratch, lower, upper) : collectBandRaw(n, keys, cand, vals, scratch, lower, upper)
    : byAbs ? collectAllAbs(n, keys, cand, vals, scratch, lower) : collectAllRaw(n, keys, cand, vals, scratch, lower);
  // Every key ≥ T is a candidate exactly when there are at least k candidates (T ≥ L); with the band,
  // T is in it when fewer than k candidates lie above U. Otherwise the sample missed (rare): the exact route.
  const above = banded ? c - bandCount : 0;
  if (!(above <= k - 1 && k - 1 < c)) {
    selectAll(n, k, keys, out, outValues, scratch, byAbs);
    return;
  }
  const t = banded ? quickselect(scratch, c - above, k - 1 - above) : selectRank(scratch, c, k - 1, roundBudget(c));
  writeWinners(keys, cand, vals, c, t, k - above - selectedGreater, out, outValues, byAbs);
}

/** Keys of the band [L, U] that collectCandidates wrote to scratch. */
let bandCount: i32 = 0;

/**
 * One pass writes the indices and the keys (as given) of the keys ≥ `lower`, in index order, and to
 * scratch (for the selection to permute) either every candidate or, `banded`, those ≤ `upper`
 * (their number in bandCount); returns the number of candidates. Eight keys per iteration with all
 * loads first: one branch on "any of the eight", then a loop over the set bits (measured 2–3× faster
 * than a branch-free store per key). Raw comparisons: a NaN key compares false, so it is left out,
 * as with NaN → −∞ (lower > −∞).
 */
@inline
function collectCandidates(n: i32, keys: usize, cand: usize, vals: usize, scratch: usize, lower: f64, upper: f64, banded: bool, byAbs: bool): i32 {
  const lowerV = f64x2.splat(lower);
  let c = 0;
  let b = 0;
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
        const r = load<f64>(at8(at, t));
        const u = transform(r, byAbs);
        store<i32>(at4(cand, c), i + t);
        store<f64>(at8(vals, c), r);
        if (banded) {
          store<f64>(at8(scratch, b), u);
          b += <i32>(u <= upper);
        } else store<f64>(at8(scratch, c), u);
        c++;
        bits &= bits - 1;
      }
    }
  }
  for (; i < n; i++) {
    const r = load<f64>(at8(keys, i));
    const u = transform(r, byAbs);
    if (u >= lower) {
      store<i32>(at4(cand, c), i);
      store<f64>(at8(vals, c), r);
      if (banded) {
        store<f64>(at8(scratch, b), u);
        b += <i32>(u <= upper);
      } else store<f64>(at8(scratch, c), u);
      c++;
    }
  }
  bandCount = b;
  return c;
}

// The four forms of collectCandidates, each its own function (one copy of the loop per function
// compiles tighter: inlining two copies into selectTopK measured ~5% slower).
function collectAllAbs(n: i32, keys: usize, cand: usize, vals: usize, scratch: usize, lower: f64): i32 {
  return collectCandidates(n, keys, cand, vals, scratch, lower, Infinity, false, true);
}

function collectAllRaw(n: i32, keys: usize, cand: usize, vals: usize, scratch: usize, lower: f64): i32 {
  return collectCandidates(n, keys, cand, vals, scratch, lower, Infinity, false, false);
}

function collectBandAbs(n: i32, keys: usize, cand: usize, vals: usize, scratch: usize, lower: f64, upper: f64): i32 {
  return collectCandidates(n, keys, cand, vals, scratch, lower, upper, true, true);
}

function collectBandRaw(n: i32, keys: usize, cand: usize, vals: usize, scratch: usize, lower: f64, upper: f64): i32 {
  return collectCandidates(n, keys, cand, vals, scratch, lower, upper, true, false);
}

/**
 * For the tests: selectRank on s[0..n) with the first range's round budget given (0 or 1 forces the
 * heapsort fallback that real keys never reach); returns the value, `greaterOfLastSelection` the count.
 */
export function selectRankWithBudget(s: usize, n: i32, t: i32, budget: i32): f64 {
  return selectRank(s, n, t, budget);
}

export function greaterOfLastSelection(): i32 {
  return selectedGreater;
}

export function topkAbs(n: i32, k: i32, keys: usize, out: usize, outValues: usize, scratch: usize, cand: usize, vals: usize): void {
  selectTopK(n, k, keys, out, outValues, scratch, cand, vals, true);
}

export function topkRaw(n: i32, k: i32, keys: usize, out: usize, outValues: usize, scratch: usize, cand: usize, vals: usize): void {
  selectTopK(n, k, keys, out, outValues, scratch, cand, vals, false);
}
