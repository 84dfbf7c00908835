import { wasmTopK, type WasmTopK } from '../backends/select.js';

/**
 * Top-k selection shared by topk, the importance compressors, topk-ssgd and gtopk.
 *
 * Order (spec §3): larger key first (|key| when `byAbs`); ties by larger |secondary| (when given),
 * then by smaller index. NaN keys (and NaN secondary keys) rank below every number (−∞ included,
 * with which they tie), so a NaN is chosen only when fewer than k numbers are left.
 *
 * Algorithm — O(length) on average, O(length·log length) worst case, no allocation per call:
 *  1. Threshold. Find T, the k-th largest transformed key, and how many keys are strictly greater.
 *     Large inputs (> 8192) first run sampling rounds in the manner of Floyd–Rivest: two values of a
 *     strided sample of size n^(2/3) bracket the wanted rank (±2.5·√m sample ranks, about five
 *     standard deviations; +∞ replaces the upper one near the top), one pass counts the keys above
 *     the band and copies the band into scratch; the band is ~5·n^(2/3) values, so the rest is small.
 *     If the sample misses (rare), that round simply keeps the band that does hold the rank.
 *     What remains goes to an introselect: 3-way (Dutch flag) quickselect, so ties cannot make it
 *     quadratic, median-of-3 / ninther pivots, and after 2·log2(size) + 4 rounds a heapsort of the
 *     remaining range, so adversarial inputs cost O(n log n) at worst.
 *  2. Ties. `need = k − greater` keys equal to T are taken: the first `need` by index, or, with a
 *     secondary key, the `need` best by the same selection run on the ties' |secondary|.
 *  3. Output. One ascending pass writes the winners, so `out` is in index order without a sort.
 *
 * Every hot loop is its own small function: V8 then optimises each loop as a whole function instead
 * of on-stack-replacing a large one, which was measured to deoptimise on every call.
 *
 * By default a selection without a secondary key runs in WebAssembly (src/backends/select.ts: the
 * same order and output, tested against these loops bit for bit; 2–6× faster, a single SIMD
 * filtering pass after a sampled threshold); these JS loops remain the reference and the path for
 * secondary keys (imp-c).
 */
export class TopKSelector {
  /** Transformed keys (then secondary keys) that the selection permutes. */
  private readonly scratch: Float64Array;
  /** Indices whose key ties with the threshold (only used with a secondary key). */
  private readonly ties: Int32Array;
  /** Strided sample for the sampling rounds. */
  private readonly sample: Float64Array;
  /** The WebAssembly kernel for selections without a secondary key (undefined: the JS loops below). */
  private readonly wasm: WasmTopK | undefined;
  /** The loops in use: 'wasm' (default, when available) or 'js' (the reference, and the path for secondary keys). */
  readonly kernels: 'wasm' | 'js';

  constructor(readonly capacity: number, options: { kernels?: 'wasm' | 'js' } = {}) {
    this.wasm = (options.kernels ?? 'wasm') === 'wasm' ? wasmTopK() : undefined;
    this.kernels = this.wasm ? 'wasm' : 'js';
    this.scratch = new Float64Array(capacity);
    this.ties = new Int32Array(capacity);
    this.sample = new Float64Array(capacity > SAMPLING_MIN ? sampleSizeFor(capacity) : 0);
  }

  /**
   * Writes into out[0..k) the indices of the k largest |keys[i]| among keys[0..length), in ascending
   * index order, and values[t] = keys[out[t]]: what Top-k puts on the wire. The same winners as
   * select(); the kernel writes the values from its own copy of the keys (gathering them from `keys`
   * afterwards read memory the selection had evicted: ~20 µs of ~95 at d = 10⁵, k = 10⁴).
   */
  selectWithValues(keys: Float64Array, length: number, k: number, out: Int32Array, values: Float64Array): void {
    if (k > 0 && k < length && length <= this.capacity && this.wasm && this.wasm.select(keys, length, k, out, true, values)) return;
    this.select(keys, length, k, out, true);
    const count = Math.min(k, length);
    for (let t = 0; t < count; t++) values[t] = keys[out[t]];
  }

  /**
   * Writes into out[0..k) the indices of the k largest keys among keys[0..length) (by |key| when
   * `byAbs`), in ascending index order. Allocates nothing.
   */
  select(keys: Float64Array, length: number, k: number, out: Int32Array, byAbs = true, secondary?: Float64Array): void {
    if (length > this.capacity) throw new RangeError(`TopKSelector: length ${length} exceeds capacity ${this.capacity}`);
    if (k <= 0) return;
    if (k >= length) {
      for (let i = 0; i < length; i++) out[i] = i;
      return;
    }
    // The kernel declines only inputs too large for a wasm32 memory; the JS loops take those.
    if (secondary === undefined && this.wasm && this.wasm.select(keys, length, k, out, byAbs)) return;
    const threshold = this.thresholdOfKeys(keys, length, k - 1, byAbs);
    const need = k - selectedGreater; // ties at the threshold to take, ≥ 1
    if (secondary === undefined) {
      writeWinnersByIndex(keys, length, byAbs, threshold, need, selectedTies, k, out);
      return;
    }
    const ties = this.ties;
    const tieCount = gatherTies(keys, length, byAbs, threshold, ties);
    if (need < tieCount) {
      const s = this.scratch;
      copySecondaryOfTies(secondary, ties, tieCount, s);
      const secThreshold = this.kthLargest(tieCount, need - 1);
      compactWinningTies(secondary, ties, tieCount, secThreshold, need - selectedGreater);
    }
    mergeWinners(keys, length, byAbs, threshold, ties, need, out);
  }

  /**
   * The value of rank t (0 = largest) among the transformed keys; sets `selectedGreater`. The first
   * sampling round reads `keys` directly and copies only the band holding the answer into scratch.
   */
  private thresholdOfKeys(keys: Float64Array, n: number, t: number, byAbs: boolean): number {
    const s = this.scratch;
    if (n <= SAMPLING_MIN || !byAbs) {
      copyTransformed(keys, n, byAbs, s);
      return this.kthLargest(n, t);
    }
    const m = sampleSizeFor(n);
    sampleTransformed(keys, n, true, this.sample, m);
    bracket(this.sample, m, n, t);
    const upper = bracketUpper;
    const lower = bracketLower;
    if (lower === -Infinity) {
      // Many −∞/NaN keys: the fast passes below assume NaN ranks under `lower`; take the plain route.
      copyTransformed(keys, n, byAbs, s);
      return this.kthLargest(n, t);
    }
    // One pass counts the band above and copies the band between (where the rank usually is).
    // Few keys reach `lower` when t is small (the usual top-k): then a branch on it is well
    // predicted and cheaper than the branch-free loop, whose loop-carried store chain costs ~4 ns/key.
    let w = t < n / 8 ? compactKeysBetweenRare(keys, n, upper, lower, s) : compactKeysBetween(keys, n, upper, lower, s);
    const above = bandAbove;
    const between = w;
    let offset: number;
    if (t < above) {
      w = compactKeysAbove(keys, n, upper, s);
      offset = 0;
    } else if (t < above + between) {
      if (upper === lower) {
        selectedGreater = above;
        selectedTies = between;
        return upper;
      }
      offset = above;
    } else {
      w = compactKeysBelow(keys, n, true, lower, s);
      offset = above + between;
    }
    const value = this.kthLargest(w, t - offset);
    selectedGreater += offset;
    return value;
  }

  /** The value of rank t (0 = largest) among scratch[0..n) (no NaN there); sets `selectedGreater`. */
  private kthLargest(n: number, t: number): number {
    const s = this.scratch;
    let offset = 0; // values dropped above the current band, all greater than the answer
    for (let round = 0; n > SAMPLING_MIN && round < 8; round++) {
      const m = sampleSizeFor(n);
      sampleStrided(s, n, this.sample, m);
      bracket(this.sample, m, n, t);
      const upper = bracketUpper;
      const lower = bracketLower;
      countBands(s, n, upper, lower);
      const above = bandAbove;
      const between = n - bandAbove - bandBelow;
      if (t < above) {
        n = compactAbove(s, n, upper);
      } else if (t < above + between) {
        if (upper === lower) {
          selectedGreater = offset + above;
          selectedTies = between;
          return upper;
        }
        n = compactBetween(s, n, upper, lower);
        t -= above;
        offset += above;
      } else {
        n = compactBelow(s, n, lower);
        t -= above + between;
        offset += above + between;
      }
    }
    const value = quickselect(s, 0, n, t);
    selectedGreater += offset;
    // Every value equal to the answer is in the current band (bands are value intervals).
    selectedTies = countEqual(s, n, value);
    return value;
  }
}

/** Below this many values the plain introselect is used (sampling does not pay off). */
const SAMPLING_MIN = 8192;

function sampleSizeFor(n: number): number {
  return Math.ceil(Math.pow(n, 2 / 3));
}

// Results of the helpers below, in module variables so that nothing is allocated per call.
/** Number of values strictly greater than the value `quickselect` / `kthLargest` returned. */
let selectedGreater = 0;
/** Number of values equal to the value `kthLargest` / `thresholdOfKeys` returned. */
let selectedTies = 0;
let bracketUpper = 0;
let bracketLower = 0;
let bandAbove = 0;
let bandBelow = 0;

function countEqual(s: Float64Array, n: number, value: number): number {
  let count = 0;
  for (let i = 0; i < n; i++) count += +(s[i] === value);
  return count;
}

function transform(v: number, byAbs: boolean): number {
  const u = byAbs ? Math.abs(v) : v;
  return u === u ? u : -Infinity;
}

function copyTransformed(keys: Float64Array, n: number, byAbs: boolean, s: Float64Array): void {
  for (let i = 0; i < n; i++) s[i] = transform(keys[i], byAbs);
}

function sampleTransformed(keys: Float64Array, n: number, byAbs: boolean, sample: Float64Array, m: number): void {
  const stride = n / m;
  for (let j = 0; j < m; j++) sample[j] = transform(keys[Math.floor(j * stride)], byAbs);
}

function sampleStrided(s: Float64Array, n: number, sample: Float64Array, m: number): void {
  const stride = n / m;
  for (let j = 0; j < m; j++) sample[j] = s[Math.floor(j * stride)];
}

/**
 * From a sample of m of the n values, the values at sample ranks t·m/n ∓ (2.5·√m + 1): rank t of
 * the data lies between them with high probability.
 */
function bracket(sample: Float64Array, m: number, n: number, t: number): void {
  const rank = Math.floor((t * m) / n);
  const gap = Math.ceil(2.5 * Math.sqrt(m)) + 1;
  // Near the top, bracket from +∞: the band then holds the largest keys and no extra pass is needed.
  bracketUpper = rank - gap <= 0 ? Infinity : quickselect(sample, 0, m, rank - gap);
  bracketLower = quickselect(sample, 0, m, Math.min(m - 1, rank + gap));
}

// Band passes. Counting is branch-free (comparisons turned into 0/1 and added into separate
// counters, the form V8 was measured to compile without branches); a mispredicted branch per
// element would cost more than the memory traffic. Compaction keeps a branch: the band it copies is
// either small or nearly everything, so the branch is well predicted.
// The passes over the keys compare raw values, without the NaN → −∞ mapping (which was measured to
// double their cost): every comparison with NaN is false, so a NaN lands in no band but "below",
// which is right because `lower` > −∞ there; the "below" band, rarely taken, is copied with the mapping.

function compactKeysAbove(keys: Float64Array, n: number, upper: number, s: Float64Array): number {
  // Taken only when few keys lie above `upper`, so the branch is well predicted.
  let w = 0;
  for (let i = 0; i < n; i++) {
    const v = Math.abs(keys[i]);
    if (v > upper) s[w++] = v;
  }
  return w;
}

/** As compactKeysBetween, branching first on the rare event v ≥ lower. */
function compactKeysBetweenRare(keys: Float64Array, n: number, upper: number, lower: number, s: Float64Array): number {
  let w = 0;
  let above = 0;
  for (let i = 0; i < n; i++) {
    const v = Math.abs(keys[i]);
    if (v >= lower) {
      if (v > upper) above++;
      else s[w++] = v;
    }
  }
  bandAbove = above;
  return w;
}

/** Copies the keys in [lower, upper] to s (returns how many) and counts those above into bandAbove. */
function compactKeysBetween(keys: Float64Array, n: number, upper: number, lower: number, s: Float64Array): number {
  let w = 0;
  let above = 0;
  for (let i = 0; i < n; i++) {
    const v = Math.abs(keys[i]);
    const isAbove = +(v > upper);
    above += isAbove;
    s[w] = v;
    w += +(v >= lower) - isAbove; // lower ≤ upper: 1 exactly when lower ≤ v ≤ upper
  }
  bandAbove = above;
  return w;
}

function compactKeysBelow(keys: Float64Array, n: number, byAbs: boolean, lower: number, s: Float64Array): number {
  let w = 0;
  for (let i = 0; i < n; i++) {
    const v = transform(keys[i], byAbs);
    if (v < lower) s[w++] = v;
  }
  return w;
}

function countBands(s: Float64Array, n: number, upper: number, lower: number): void {
  let above = 0;
  let below = 0;
  for (let i = 0; i < n; i++) {
    const v = s[i];
    above += +(v > upper);
    below += +(v < lower);
  }
  bandAbove = above;
  bandBelow = below;
}

// In-place compaction: the write index never passes the read index.
function compactAbove(s: Float64Array, n: number, upper: number): number {
  let w = 0;
  for (let i = 0; i < n; i++) {
    const v = s[i];
    if (v > upper) s[w++] = v;
  }
  return w;
}

function compactBetween(s: Float64Array, n: number, upper: number, lower: number): number {
  let w = 0;
  for (let i = 0; i < n; i++) {
    const v = s[i];
    s[w] = v;
    w += +(v >= lower) - +(v > upper); // branch-free: each test alone is a coin flip near the median
  }
  return w;
}

function compactBelow(s: Float64Array, n: number, lower: number): number {
  let w = 0;
  for (let i = 0; i < n; i++) {
    const v = s[i];
    if (v < lower) s[w++] = v;
  }
  return w;
}

/**
 * Writes, ascending and stopping once k are written, the indices with key > threshold and the first
 * `need` of the `tieCount` indices with key == threshold. With `lastTie` the index of the need-th tie,
 * that is "key ≥ threshold" up to lastTie and "key > threshold" after it: two loops with one
 * branch-free comparison each (the comparison is a coin flip when k ≈ n/2). Raw comparisons with NaN
 * are false, right unless the threshold is −∞ (where NaN ties), which takes the generic loop.
 */
function writeWinnersByIndex(
  keys: Float64Array, n: number, byAbs: boolean, threshold: number, need: number, tieCount: number, k: number, out: Int32Array,
): void {
  if (!byAbs || threshold === -Infinity) {
    writeWinnersGeneric(keys, n, byAbs, threshold, need, k, out);
    return;
  }
  const lastTie = need === tieCount ? n - 1 : findNthTie(keys, n, threshold, need);
  // Branch-free loops only where the comparison is a coin flip; a rare (or near-certain) outcome
  // is cheaper as a predicted branch.
  const rare = k < n / 8 || k > n - n / 8;
  const w = rare ? writeAtLeastBranching(keys, 0, lastTie + 1, threshold, 0, k, out) : writeAtLeast(keys, 0, lastTie + 1, threshold, 0, k, out);
  if (rare) writeAboveBranching(keys, lastTie + 1, n, threshold, w, k, out);
  else writeAbove(keys, lastTie + 1, n, threshold, w, k, out);
}

function findNthTie(keys: Float64Array, n: number, threshold: number, nth: number): number {
  let seen = 0;
  for (let i = 0; i < n; i++) {
    seen += +(Math.abs(keys[i]) === threshold);
    if (seen === nth) return i;
  }
  return n - 1;
}

function writeAtLeastBranching(
  keys: Float64Array, from: number, to: number, threshold: number, w: number, k: number, out: Int32Array,
): number {
  for (let i = from; i < to && w < k; i++) if (Math.abs(keys[i]) >= threshold) out[w++] = i;
  return w;
}

function writeAboveBranching(
  keys: Float64Array, from: number, to: number, threshold: number, w: number, k: number, out: Int32Array,
): number {
  for (let i = from; i < to && w < k; i++) if (Math.abs(keys[i]) > threshold) out[w++] = i;
  return w;
}

function writeAtLeast(
  keys: Float64Array, from: number, to: number, threshold: number, w: number, k: number, out: Int32Array,
): number {
  for (let i = from; i < to && w < k; i++) {
    const v = Math.abs(keys[i]);
    out[w] = i;
    w += +(v >= threshold);
  }
  return w;
}

function writeAbove(
  keys: Float64Array, from: number, to: number, threshold: number, w: number, k: number, out: Int32Array,
): number {
  for (let i = from; i < to && w < k; i++) {
    const v = Math.abs(keys[i]);
    out[w] = i;
    w += +(v > threshold);
  }
  return w;
}

/** The same result by the mapping NaN → −∞, one index at a time. */
function writeWinnersGeneric(
  keys: Float64Array, n: number, byAbs: boolean, threshold: number, need: number, k: number, out: Int32Array,
): void {
  let w = 0;
  for (let i = 0; i < n && w < k; i++) {
    const v = transform(keys[i], byAbs);
    if (v > threshold) out[w++] = i;
    else if (v === threshold && need > 0) {
      out[w++] = i;
      need--;
    }
  }
}

function gatherTies(keys: Float64Array, n: number, byAbs: boolean, threshold: number, ties: Int32Array): number {
  const nanTies = threshold === -Infinity;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = byAbs ? Math.abs(keys[i]) : keys[i];
    if (v === threshold || (nanTies && v !== v)) ties[count++] = i;
  }
  return count;
}

function copySecondaryOfTies(secondary: Float64Array, ties: Int32Array, count: number, s: Float64Array): void {
  for (let j = 0; j < count; j++) s[j] = transform(secondary[ties[j]], true);
}

/** Keeps, in ascending order, the ties with |secondary| > secThreshold and the first `secNeed` equal to it. */
function compactWinningTies(secondary: Float64Array, ties: Int32Array, count: number, secThreshold: number, secNeed: number): void {
  let w = 0;
  for (let j = 0; j < count; j++) {
    const idx = ties[j];
    const v = transform(secondary[idx], true);
    if (v > secThreshold) ties[w++] = idx;
    else if (v === secThreshold && secNeed > 0) {
      ties[w++] = idx;
      secNeed--;
    }
  }
}

/** Merges the indices with key > threshold and the chosen ties ties[0..need), both ascending. */
function mergeWinners(
  keys: Float64Array, n: number, byAbs: boolean, threshold: number, ties: Int32Array, need: number, out: Int32Array,
): void {
  let w = 0;
  let p = 0;
  for (let i = 0; i < n; i++) {
    // raw comparison: NaN is never greater, as with the mapping NaN → −∞
    if ((byAbs ? Math.abs(keys[i]) : keys[i]) > threshold) out[w++] = i;
    else if (p < need && ties[p] === i) {
      out[w++] = i;
      p++;
    }
  }
}

/**
 * Introselect: the value of rank t (0 = largest) in s[lo..hi), all of s[0..lo) being greater than
 * everything in the range. Sets `selectedGreater` to the number of values in s[0..hi) greater than it.
 */
function quickselect(s: Float64Array, lo: number, hi: number, t: number): number {
  let budget = 2 * Math.floor(Math.log2(hi - lo + 1)) + 4;
  for (;;) {
    const size = hi - lo;
    if (size <= 24 || budget-- <= 0) {
      if (size <= 24) insertionSortDescending(s, lo, hi);
      else heapSortDescending(s, lo, hi);
      const value = s[t];
      let first = t;
      while (first > lo && s[first - 1] === value) first--;
      selectedGreater = first;
      return value;
    }
    const pivot = choosePivot(s, lo, hi);
    partition3(s, lo, hi, pivot);
    // Everything left of the kept range is greater than it, everything right is smaller.
    if (t < partitionLt) hi = partitionLt;
    else if (t >= partitionGt) lo = partitionGt;
    else {
      selectedGreater = partitionLt;
      return pivot;
    }
  }
}

let partitionLt = 0;
let partitionGt = 0;

/** Dutch flag: afterwards [lo, lt) > pivot, [lt, gt) == pivot, [gt, hi) < pivot. */
function partition3(s: Float64Array, lo: number, hi: number, pivot: number): void {
  let lt = lo;
  let i = lo;
  let gt = hi;
  while (i < gt) {
    const v = s[i];
    if (v > pivot) {
      s[i] = s[lt];
      s[lt] = v;
      lt++;
      i++;
    } else if (v < pivot) {
      gt--;
      s[i] = s[gt];
      s[gt] = v;
    } else i++;
  }
  partitionLt = lt;
  partitionGt = gt;
}

function median3(a: number, b: number, c: number): number {
  if (a < b) {
    if (b < c) return b;
    return a < c ? c : a;
  }
  if (a < c) return a;
  return b < c ? c : b;
}

/** Median of 3, or Tukey's ninther on large ranges (deterministic: no RNG needed). */
function choosePivot(s: Float64Array, lo: number, hi: number): number {
  const size = hi - lo;
  const mid = lo + (size >>> 1);
  if (size < 512) return median3(s[lo], s[mid], s[hi - 1]);
  const step = size >>> 3;
  return median3(
    median3(s[lo], s[lo + step], s[lo + 2 * step]),
    median3(s[mid - step], s[mid], s[mid + step]),
    median3(s[hi - 1 - 2 * step], s[hi - 1 - step], s[hi - 1]),
  );
}

function insertionSortDescending(s: Float64Array, lo: number, hi: number): void {
  for (let i = lo + 1; i < hi; i++) {
    const v = s[i];
    let j = i - 1;
    while (j >= lo && s[j] < v) {
      s[j + 1] = s[j];
      j--;
    }
    s[j + 1] = v;
  }
}

/** In-place heapsort of s[lo..hi) into descending order (a min-heap; the smallest goes to the end). */
function heapSortDescending(s: Float64Array, lo: number, hi: number): void {
  const n = hi - lo;
  for (let r = (n >>> 1) - 1; r >= 0; r--) siftDownMin(s, lo, r, n);
  for (let end = n - 1; end > 0; end--) {
    const top = s[lo];
    s[lo] = s[lo + end];
    s[lo + end] = top;
    siftDownMin(s, lo, 0, end);
  }
}

function siftDownMin(s: Float64Array, lo: number, root: number, end: number): void {
  const v = s[lo + root];
  let r = root;
  for (;;) {
    let c = 2 * r + 1;
    if (c >= end) break;
    if (c + 1 < end && s[lo + c + 1] < s[lo + c]) c++;
    if (s[lo + c] >= v) break;
    s[lo + r] = s[lo + c];
    r = c;
  }
  s[lo + r] = v;
}

/** In-place heapsort of a[0..count) into ascending order; allocates nothing (unlike subarray().sort()). */
export function sortIndicesAscending(a: Int32Array, count: number): void {
  for (let r = (count >>> 1) - 1; r >= 0; r--) siftDownMax(a, r, count);
  for (let end = count - 1; end > 0; end--) {
    const top = a[0];
    a[0] = a[end];
    a[end] = top;
    siftDownMax(a, 0, end);
  }
}

function siftDownMax(a: Int32Array, root: number, end: number): void {
  const v = a[root];
  let r = root;
  for (;;) {
    let c = 2 * r + 1;
    if (c >= end) break;
    if (c + 1 < end && a[c + 1] > a[c]) c++;
    if (a[c] <= v) break;
    a[r] = a[c];
    r = c;
  }
  a[r] = v;
}
