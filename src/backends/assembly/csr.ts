/**
 * Float64 CSR kernels for logistic regression, compiled by AssemblyScript to WebAssembly
 * (`npm run build`; loaded by ../wasm.ts). They reproduce the JS reference loops in
 * src/problems/logreg.ts: same row order, same summation order, same branches; only exp/log1p/expm1
 * differ from V8's (our SIMD exp below for σ and softplus, AssemblyScript's deterministic musl-derived
 * float64 log1p/expm1/exp elsewhere, and a two-lane log1p that computes musl's log1p bit for bit),
 * so results agree with the JS path to rounding, and bit for bit between runs and machines. Built
 * with `--enable simd`.
 *
 * Memory is owned by the JS side: every argument is a byte offset into this instance's memory,
 * laid out once by the loader after `heapBase()`. Nothing here allocates (stub runtime), so the
 * memory never grows after set-up and the loader's typed-array views stay valid.
 *
 * Index arrays hold byte addresses, not indices: the CSR `colAddr[k]` is the address of x[col_k]
 * and the CSC `rowAddr[k]` that of the row scratch entry of row_k, written once by the loader. A
 * gather is then two loads and an add, with no index arithmetic. Other arrays indexed by the same
 * column (out) or by the same non-zero (values) are reached by a constant offset from these.
 *
 * `values == 0` would be a valid offset only below the heap, so the loader instead passes the
 * `binary` flag for matrices whose values are all 1: those loops skip the value loads
 * (multiplying by 1 is exact, so the results are bitwise those of the general loops).
 */

/** First byte the JS side may use (after static data such as exp's lookup table). */
export function heapBase(): usize {
  return __heap_base;
}

// ---------------------------------------------------------------------------------------------
// exp(y) for y ≤ 0, two lanes at a time (wasm SIMD; V8 has no vector exp, and the scalar one
// was ~1/4 of a gradient pass). Cody–Waite reduction y = k·ln2 + r, |r| ≲ ln2/2, then the
// degree-13 Taylor polynomial of exp(r) (truncation < 5e-18 relative, far below 2^-53), then ·2^k
// with 2^k built from exponent bits. Every step is an IEEE float64 operation (no FMA), lane-wise,
// so the result is deterministic. Accuracy (test/backends-wasm.test.ts): within 1 ulp of the true
// value; below EXP_MIN_ARG 2^k would be subnormal, and those lanes are recomputed by Math.exp.
const LOG2E: f64 = 1.4426950408889634;
/** 1.5·2^52: adding it rounds to an integer and leaves that integer in the low mantissa bits. */
const ROUND_SHIFTER: f64 = 6755399441055744.0;
/** ln2 split so that k·LN2_HI is exact for |k| < 2^20 (LN2_HI has 32 significant bits). */
const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
/** exp(y) ≥ 2^-1021·√½ is normal for y ≥ −708, so the power-of-two scaling is exact. */
const EXP_MIN_ARG: f64 = -708;

// The constants as v128 pairs in memory: V8 rebuilds a v128.const in every iteration from two
// 64-bit immediates, a load is one instruction (measured: the σ sweep 15% faster). Same values,
// same operations, so the same bits.
const EXP_C: usize = memory.data<f64>([
  LOG2E, LOG2E, // 0
  ROUND_SHIFTER, ROUND_SHIFTER, // 16
  LN2_HI, LN2_HI, // 32
  LN2_LO, LN2_LO, // 48
  1 / 6227020800.0, 1 / 6227020800.0, // 64: 1/13!
  1 / 479001600.0, 1 / 479001600.0, // 80: 1/12!
  1 / 39916800.0, 1 / 39916800.0, // 96: 1/11!
  1 / 3628800.0, 1 / 3628800.0, // 112: 1/10!
  1 / 362880.0, 1 / 362880.0, // 128: 1/9!
  1 / 40320.0, 1 / 40320.0, // 144: 1/8!
  1 / 5040.0, 1 / 5040.0, // 160: 1/7!
  1 / 720.0, 1 / 720.0, // 176: 1/6!
  1 / 120.0, 1 / 120.0, // 192: 1/5!
  1 / 24.0, 1 / 24.0, // 208: 1/4!
  1 / 6.0, 1 / 6.0, // 224: 1/3!
  0.5, 0.5, // 240: 1/2!
  1.0, 1.0, // 256: 1, also the bits 1023 << 52 of the exponent bias
  EXP_MIN_ARG, EXP_MIN_ARG, // 272
], 16);

/** exp(y) without the fallback for y < EXP_MIN_ARG (callers check expNeedsFallback). */
@inline
function expCore(y: v128): v128 {
  const c = EXP_C;
  const t = f64x2.add(f64x2.mul(y, v128.load(c)), v128.load(c, 16));
  const k = f64x2.sub(t, v128.load(c, 16));
  const r = f64x2.sub(f64x2.sub(y, f64x2.mul(k, v128.load(c, 32))), f64x2.mul(k, v128.load(c, 48)));
  // Horner for 1/2! + r/3! + … + r^11/13!, then exp(r) = 1 + (r + r²·q).
  let q = v128.load(c, 64);
  q = f64x2.add(f64x2.mul(q, r), v128.load(c, 80));
  q = f64x2.add(f64x2.mul(q, r), v128.load(c, 96));
  q = f64x2.add(f64x2.mul(q, r), v128.load(c, 112));
  q = f64x2.add(f64x2.mul(q, r), v128.load(c, 128));
  q = f64x2.add(f64x2.mul(q, r), v128.load(c, 144));
  q = f64x2.add(f64x2.mul(q, r), v128.load(c, 160));
  q = f64x2.add(f64x2.mul(q, r), v128.load(c, 176));
  q = f64x2.add(f64x2.mul(q, r), v128.load(c, 192));
  q = f64x2.add(f64x2.mul(q, r), v128.load(c, 208));
  q = f64x2.add(f64x2.mul(q, r), v128.load(c, 224));
  q = f64x2.add(f64x2.mul(q, r), v128.load(c, 240));
  const one = v128.load(c, 256);
  const p = f64x2.add(one, f64x2.add(r, f64x2.mul(f64x2.mul(r, r), q)));
  // t's low bits hold k (two's complement): shifting them to the exponent field and adding the
  // bias gives the bits of 2^k (exact for −1022 ≤ k ≤ 0).
  const scale = i64x2.add(i64x2.shl(t, 52), one);
  return f64x2.mul(p, scale);
}

/** The lanes where expCore is not exp: y < EXP_MIN_ARG (the result would be subnormal or 0). */
@inline
function expNeedsFallback(y: v128): v128 {
  return f64x2.lt(y, v128.load(EXP_C, 272));
}

@inline
function expNonPositive2(y: v128): v128 {
  let e = expCore(y);
  if (v128.any_true(expNeedsFallback(y))) {
    const y0 = f64x2.extract_lane(y, 0);
    const y1 = f64x2.extract_lane(y, 1);
    if (y0 < EXP_MIN_ARG) e = f64x2.replace_lane(e, 0, Math.exp(y0));
    if (y1 < EXP_MIN_ARG) e = f64x2.replace_lane(e, 1, Math.exp(y1));
  }
  return e;
}

/** exp(y) for y ≤ 0, exactly (bit for bit) as one lane of expNonPositive2; exported for the tests. */
export function expNonPositive(y: f64): f64 {
  return f64x2.extract_lane(expNonPositive2(f64x2.splat(y)), 0);
}

// ---------------------------------------------------------------------------------------------
// log1p, two lanes at a time, bit for bit AssemblyScript's Math.log1p (musl's log1p.c, fdlibm's
// algorithm): the same float64 operations in the same order on each lane, the branches replaced
// by computing both argument reductions and selecting per lane. Lanes outside the reductions'
// range (x ≤ −1, x ≥ 2^53, ±∞, NaN) take the scalar Math.log1p; |x| < 2^-53 gives x, as musl.
const LOG1P_C: usize = memory.data<f64>([
  reinterpret<f64>(0x3FE62E42FEE00000), reinterpret<f64>(0x3FE62E42FEE00000), // 0: ln2_hi
  reinterpret<f64>(0x3DEA39EF35793C76), reinterpret<f64>(0x3DEA39EF35793C76), // 16: ln2_lo
  reinterpret<f64>(0x3FE5555555555593), reinterpret<f64>(0x3FE5555555555593), // 32: Lg1
  reinterpret<f64>(0x3FD999999997FA04), reinterpret<f64>(0x3FD999999997FA04), // 48: Lg2
  reinterpret<f64>(0x3FD2492494229359), reinterpret<f64>(0x3FD2492494229359), // 64: Lg3
  reinterpret<f64>(0x3FCC71C51D8E78AF), reinterpret<f64>(0x3FCC71C51D8E78AF), // 80: Lg4
  reinterpret<f64>(0x3FC7466496CB03DE), reinterpret<f64>(0x3FC7466496CB03DE), // 96: Lg5
  reinterpret<f64>(0x3FC39A09D078C69F), reinterpret<f64>(0x3FC39A09D078C69F), // 112: Lg6
  reinterpret<f64>(0x3FC2F112DF3E5244), reinterpret<f64>(0x3FC2F112DF3E5244), // 128: Lg7
  1.0, 1.0, // 144
  2.0, 2.0, // 160
  0.5, 0.5, // 176
  6755399441055744.0, 6755399441055744.0, // 192: 1.5·2^52, turns a small integer in the low bits into a float
], 16);

/** log1p2 without the scalar fallback (callers check log1pNeedsFallback). */
@inline
function log1pCore(x: v128): v128 {
  const c = LOG1P_C;
  const one = v128.load(c, 144);
  const hx = i64x2.shr_u(x, 32); // the high words, as non-negative i64 lanes
  const negative = i64x2.ge_s(hx, i64x2.splat(0x80000000));
  // musl: k = 1 (the reduction through 1 + x) unless 0x3FDA827A > hx or x < 0 with hx ≤ 0xBFD2BEC4.
  const reduce = v128.or(
    v128.andnot(i64x2.ge_s(hx, i64x2.splat(0x3FDA827A)), negative),
    v128.and(i64x2.gt_s(hx, i64x2.splat(0xBFD2BEC4)), negative),
  );
  // uf = 1 + x; hu = high(uf) + (0x3FF00000 − 0x3FE6A09E); k = (hu >> 20) − 0x3FF
  const uf = f64x2.add(one, x);
  const hu = i64x2.add(i64x2.shr_u(uf, 32), i64x2.splat(0x3FF00000 - 0x3FE6A09E));
  const kInt = i64x2.sub(i64x2.shr_u(hu, 20), i64x2.splat(0x3FF));
  // c = (k ≥ 2 ? 1 − (uf − x) : x − (uf − 1)) / uf
  const cBig = f64x2.sub(one, f64x2.sub(uf, x));
  const cSmall = f64x2.sub(x, f64x2.sub(uf, one));
  const cK = f64x2.div(v128.bitselect(cBig, cSmall, i64x2.ge_s(kInt, i64x2.splat(2))), uf);
  // f = (high word (hu & 0xFFFFF) + 0x3FE6A09E, low word of uf) − 1
  const fBits = v128.or(
    i64x2.shl(i64x2.add(v128.and(hu, i64x2.splat(0x000FFFFF)), i64x2.splat(0x3FE6A09E)), 32),
    v128.and(uf, i64x2.splat(0xFFFFFFFF)),
  );
  const fK = f64x2.sub(fBits, one);
  // k as a float: 1.5·2^52 + k is exact in the low bits for small |k|
  const shifter = v128.load(c, 192);
  const dkK = f64x2.sub(i64x2.add(shifter, kInt), shifter);
  const zero = f64x2.splat(0);
  const f = v128.bitselect(fK, x, reduce);
  const cc = v128.bitselect(cK, zero, reduce);
  const dk = v128.bitselect(dkK, zero, reduce);
  const hfsq = f64x2.mul(f64x2.mul(v128.load(c, 176), f), f);
  const s = f64x2.div(f, f64x2.add(v128.load(c, 160), f));
  const z = f64x2.mul(s, s);
  const w = f64x2.mul(z, z);
  const t1 = f64x2.mul(w, f64x2.add(v128.load(c, 48), f64x2.mul(w, f64x2.add(v128.load(c, 80), f64x2.mul(w, v128.load(c, 112))))));
  const t2 = f64x2.mul(
    z,
    f64x2.add(v128.load(c, 32), f64x2.mul(w, f64x2.add(v128.load(c, 64), f64x2.mul(w, f64x2.add(v128.load(c, 96), f64x2.mul(w, v128.load(c, 128))))))),
  );
  const r = f64x2.add(t2, t1);
  // s·(hfsq + r) + (dk·ln2_lo + c) − hfsq + f + dk·ln2_hi, left to right
  const result = f64x2.add(
    f64x2.add(
      f64x2.sub(f64x2.add(f64x2.mul(s, f64x2.add(hfsq, r)), f64x2.add(f64x2.mul(dk, v128.load(c, 16)), cc)), hfsq),
      f,
    ),
    f64x2.mul(dk, v128.load(c)),
  );
  // |x| < 2^-53 (±0 and subnormals included): musl returns x itself.
  const tiny = i64x2.lt_s(v128.and(hx, i64x2.splat(0x7FFFFFFF)), i64x2.splat(0x3CA00000));
  return v128.bitselect(x, result, tiny);
}

/** The lanes log1pCore does not cover: x ≤ −1 or −NaN (high word ≥ 0xBFF00000), x ≥ 2^53 (k ≥ 54 is possible), +∞, +NaN. */
@inline
function log1pNeedsFallback(x: v128): v128 {
  const hx = i64x2.shr_u(x, 32);
  const negative = i64x2.ge_s(hx, i64x2.splat(0x80000000));
  return v128.or(
    v128.and(i64x2.ge_s(hx, i64x2.splat(0xBFF00000)), negative),
    v128.andnot(i64x2.ge_s(hx, i64x2.splat(0x43400000)), negative),
  );
}

@inline
function log1p2(x: v128): v128 {
  let result = log1pCore(x);
  const special = log1pNeedsFallback(x);
  if (v128.any_true(special)) {
    if (i64x2.extract_lane(special, 0) != 0) result = f64x2.replace_lane(result, 0, Math.log1p(f64x2.extract_lane(x, 0)));
    if (i64x2.extract_lane(special, 1) != 0) result = f64x2.replace_lane(result, 1, Math.log1p(f64x2.extract_lane(x, 1)));
  }
  return result;
}

/** log1p(x), one lane of log1p2 (bit for bit); exported for the tests. */
export function log1pLane(x: f64): f64 {
  return f64x2.extract_lane(log1p2(f64x2.splat(x)), 0);
}

/** AssemblyScript's scalar Math.log1p, which log1p2 reproduces; exported for the tests. */
export function log1pScalar(x: f64): f64 {
  return Math.log1p(x);
}

/** AssemblyScript's scalar Math.exp and Math.expm1 (the importance-(a) pass uses them); for the tests. */
export function expScalar(x: f64): f64 {
  return Math.exp(x);
}

export function expm1Scalar(x: f64): f64 {
  return Math.expm1(x);
}

// ---------------------------------------------------------------------------------------------
// Sweep 1: z_r = −b_r a_rᵀx. Every row's dot is summed over its entries in CSR order, whichever
// loop computes it, so all variants give the same bits.

/** The value a_rk for the non-zero whose colAddr entry is at p (values is parallel, 8 bytes each). */
@inline
function valueAt(p: usize, colAddr: usize, values: usize): f64 {
  return load<f64>(values + ((p - colAddr) << 1));
}

@inline
function dotTerm(p: usize, colAddr: usize, values: usize, binary: bool): f64 {
  const xj = load<f64>(<usize>load<i32>(p));
  return binary ? xj : valueAt(p, colAddr, values) * xj;
}

/** dot + the terms whose colAddr entries lie in [p, end) (4 bytes each), added one by one in order. */
@inline
function rowDot(dot: f64, p: usize, end: usize, colAddr: usize, values: usize, binary: bool): f64 {
  for (; p < end; p += 4) dot += dotTerm(p, colAddr, values, binary);
  return dot;
}

/** Address of row r's first colAddr entry; with `next`, of row r + 1's (the end of row r). */
@inline
function rowStart(rowPtr: usize, r: usize, colAddr: usize, next: bool = false): usize {
  return colAddr + (<usize>(next ? load<i32>(rowPtr + (r << 2), 4) : load<i32>(rowPtr + (r << 2))) << 2);
}

/** z_i = −b_r a_rᵀx for the count rows listed at rowList (a minibatch) into scratch[i], two rows side by side. */
@inline
function listDots(count: i32, rowList: usize, rowPtr: usize, colAddr: usize, values: usize, b: usize, scratch: usize, binary: bool): void {
  // Two independent add chains hide the add latency; each row's dot is still summed in its own order.
  let i = 0;
  for (; i + 2 <= count; i += 2) {
    const r0 = <usize>load<i32>(rowList + (<usize>i << 2));
    const r1 = <usize>load<i32>(rowList + (<usize>i << 2), 4);
    let p0 = rowStart(rowPtr, r0, colAddr);
    let p1 = rowStart(rowPtr, r1, colAddr);
    const e0 = rowStart(rowPtr, r0, colAddr, true);
    const e1 = rowStart(rowPtr, r1, colAddr, true);
    const common = min(e0 - p0, e1 - p1);
    const stop = p0 + common;
    let dot0: f64 = 0;
    let dot1: f64 = 0;
    for (; p0 < stop; p0 += 4, p1 += 4) {
      dot0 += dotTerm(p0, colAddr, values, binary);
      dot1 += dotTerm(p1, colAddr, values, binary);
    }
    for (; p0 < e0; p0 += 4) dot0 += dotTerm(p0, colAddr, values, binary);
    for (; p1 < e1; p1 += 4) dot1 += dotTerm(p1, colAddr, values, binary);
    store<f64>(scratch + (<usize>i << 3), -load<f64>(b + (r0 << 3)) * dot0);
    store<f64>(scratch + (<usize>i << 3), -load<f64>(b + (r1 << 3)) * dot1, 8);
  }
  if (i < count) {
    const r = <usize>load<i32>(rowList + (<usize>i << 2));
    const dot = rowDot(0, rowStart(rowPtr, r, colAddr), rowStart(rowPtr, r, colAddr, true), colAddr, values, binary);
    store<f64>(scratch + (<usize>i << 3), -load<f64>(b + (r << 3)) * dot);
  }
}

/**
 * z_r = −b_r a_rᵀx for all rows, by scattering x_j down the columns of the CSC copy in ascending j.
 * When every CSR row lists its columns in non-decreasing order (the loader checks; `cscDot`), each
 * row's dot receives the same terms in the same order as the row loops, so the bits are the same;
 * no loop ends per row, and the adds of one column go to distinct rows.
 */
@inline
function columnDots(
  n: i32, d: i32, colPtr: usize, rowAddr: usize, cscValues: usize, x: usize, b: usize, z: usize, toZ: usize, binary: bool,
): void {
  // rowAddr entries point into the coefficient buffer; z is `toZ` bytes away (modulo 2^32).
  memory.fill(z, 0, <usize>n << 3);
  for (let j = 0; j < d; j++) {
    const cp = colPtr + (<usize>j << 2);
    const end = rowAddr + (<usize>load<i32>(cp, 4) << 2);
    const xj = load<f64>(x + (<usize>j << 3));
    for (let p = rowAddr + (<usize>load<i32>(cp) << 2); p < end; p += 4) {
      const at = <usize>load<i32>(p) + toZ;
      if (binary) store<f64>(at, load<f64>(at) + xj);
      else store<f64>(at, load<f64>(at) + valueAt(p, rowAddr, cscValues) * xj);
    }
  }
  for (let r = 0; r < n; r++) {
    const at = z + (<usize>r << 3);
    store<f64>(at, -load<f64>(b + (<usize>r << 3)) * load<f64>(at));
  }
}

// ---------------------------------------------------------------------------------------------
// Positions. The full passes (loss, gradient) keep the rows' margins, coefficients and exponentials
// (z, coef, e) and their labels (b) in *position* order, position i holding row rowOrder[i] (the
// interleaved sweep's order), so that a group of four stores its margins as two pairs; the CSC
// entries point at positions, and the loss is summed in row order through posOf (IL_POS_OF).
// The minibatch kernels (list*) index by list position and read b by row, as before.

// Interleaved groups of four (the loader's `interleaved` layout, descriptor entries IL_*): the rows
// (or the CSC columns) taken four at a time in their sweep order after its (count mod 4) first, sorted by length so that the four
// have nearly one length, their entries interleaved — entry t of member m at the group's start +
// 16·t + 4·m — and the shorter members padded to the longest with the address of a −0 (value 1 for
// valued matrices). x + (−0) = x for every float64 x (+0 and −0 included), so the padding changes no
// bit. One pointer walks a group and members 0,1 and 2,3 are summed as f64x2 pairs, each lane its
// member's own chain in CSR (or CSC) order: the same additions as the four-pointer loops, with about
// two thirds of their instructions and no per-member loop exits.
//
// Rows that share their first entries share those partial sums: the loader keeps the distinct row
// prefixes up to a depth m (a trie's top levels, IL_NODES; m chosen so that they save more entries
// than they cost), this sweep first computes every node's partial sum in level order — P = P_parent +
// a·x_j, the depth-1 nodes from a +0 as the row loop starts — and a row's stream then starts with the
// address of its deepest node (value 1) instead of its first m entries. +0 + P = P (P is never −0:
// a sum that starts from +0 is −0 only if every term is), so each row still gets its chain's bits.

const IL_ROW_GROUPS = 0; // groups + 1 addresses: group g's entries are [groups[g], groups[g + 1])
const IL_ROW_STREAM = 1; // the rows' slots (x addresses), base of IL_ROW_GROUPS' addresses
const IL_ROW_VALUES = 2; // their values, 8 bytes per slot (valued matrices)
const IL_COL_GROUPS = 3;
const IL_COL_STREAM = 4; // the columns' slots (coefficient addresses)
const IL_COL_VALUES = 5;
const IL_NODE_COUNT = 6; // prefix nodes (a count, not an address)
const IL_NODES = 7; // per node, level order: the addresses of its parent's sum (or of a +0) and of x_j, as two i32
const IL_NODE_VALUES = 8; // per node its entry's value (valued matrices)
const IL_NODE_SUMS = 9; // per node its partial sum, written by prefixNodeSums
const IL_POS_OF = 10; // row → position (i32 per row)

/**
 * Every prefix node's partial sum, in level order (each parent is computed before its children), two
 * nodes at a time: the loader pads each level to an even count, so a pair never holds a node and its parent.
 */
@inline
function prefixNodeSums(desc: usize, binary: bool): void {
  const count = <i32>ilEntry(desc, IL_NODE_COUNT);
  const nodes = ilEntry(desc, IL_NODES);
  const nodeValues = ilEntry(desc, IL_NODE_VALUES);
  const sums = ilEntry(desc, IL_NODE_SUMS);
  for (let i = 0; i < count; i += 2) {
    const at = nodes + (<usize>i << 3);
    const a = load<u64>(at);
    const b = load<u64>(at, 8);
    const parents = v128.load64_lane(<usize><u32>b, v128.load64_zero(<usize><u32>a), 1);
    const xs = v128.load64_lane(<usize>(b >>> 32), v128.load64_zero(<usize>(a >>> 32)), 1);
    const q = sums + (<usize>i << 3);
    if (binary) v128.store(q, f64x2.add(parents, xs));
    else v128.store(q, f64x2.add(parents, f64x2.mul(v128.load(nodeValues + (<usize>i << 3)), xs)));
  }
}

@inline
function ilEntry(desc: usize, i: i32): usize {
  return <usize>load<i32>(desc + (<usize>i << 2));
}

/** The four members' next terms as two pairs, members 0,1 (pairLow) and 2,3 (pairHigh), from slot address p. */
@inline
function pairLow(p: usize): v128 {
  // Both addresses by one 64-bit load (the sweeps are bound by loads: −5 to −9 % against two i32 loads).
  const a = load<u64>(p);
  return v128.load64_lane(<usize>(a >>> 32), v128.load64_zero(<usize><u32>a), 1);
}

@inline
function pairHigh(p: usize): v128 {
  const a = load<u64>(p, 8);
  return v128.load64_lane(<usize>(a >>> 32), v128.load64_zero(<usize><u32>a), 1);
}

/** z at position i = −b·(aᵀx) of row rowOrder[i] (b by position): the n mod 4 first (shortest) by the row loop, the others in groups. */
@inline
function interleavedRowDots(n: i32, rowOrder: usize, rowPtr: usize, colAddr: usize, values: usize, b: usize, z: usize, desc: usize, binary: bool): void {
  const groups = ilEntry(desc, IL_ROW_GROUPS);
  const stream = ilEntry(desc, IL_ROW_STREAM);
  const streamValues = ilEntry(desc, IL_ROW_VALUES);
  prefixNodeSums(desc, binary);
  // The n mod 4 shortest rows one by one (from the CSR: the same chain), then the groups.
  const rest = n & 3;
  for (let g = 0; g < rest; g++) {
    const r = <usize>load<i32>(rowOrder + (<usize>g << 2));
    const dot = rowDot(0, rowStart(rowPtr, r, colAddr), rowStart(rowPtr, r, colAddr, true), colAddr, values, binary);
    store<f64>(z + (<usize>g << 3), -load<f64>(b + (<usize>g << 3)) * dot);
  }
  for (let g = rest; g < n; g += 4) {
    let p = <usize>load<i32>(groups + (<usize>(g - rest)));
    const end = <usize>load<i32>(groups + (<usize>(g - rest)), 4);
    let a01 = f64x2.splat(0);
    let a23 = f64x2.splat(0);
    for (; p < end; p += 16) {
      if (binary) {
        a01 = f64x2.add(a01, pairLow(p));
        a23 = f64x2.add(a23, pairHigh(p));
      } else {
        const q = streamValues + ((p - stream) << 1);
        a01 = f64x2.add(a01, f64x2.mul(v128.load(q), pairLow(p)));
        a23 = f64x2.add(a23, f64x2.mul(v128.load(q, 16), pairHigh(p)));
      }
    }
    // Positions g .. g + 3 are the group's rows: one f64x2 store per pair, (−b)·dot in each lane.
    const q = <usize>g << 3;
    v128.store(z + q, f64x2.mul(f64x2.neg(v128.load(b + q)), a01));
    v128.store(z + q, f64x2.mul(f64x2.neg(v128.load(b + q, 16)), a23), 16);
  }
}

/**
 * out[j] += Σ_r coef_r·a_rj down the columns of the CSC copy, rows ascending — for every j the additions
 * onto out[j] in the order of a row-by-row scatter, so the result is bitwise the scatter's (up to the
 * sign of a zero: the reference loop skips rows whose coefficient is 0), with the sums in registers.
 * colOrder lists the columns by length: its d mod 4 first (shortest) one by one, the others in groups.
 */
@inline
function interleavedGather(d: i32, colOrder: usize, colPtr: usize, rowAddr: usize, cscValues: usize, out: usize, desc: usize, binary: bool): void {
  const groups = ilEntry(desc, IL_COL_GROUPS);
  const stream = ilEntry(desc, IL_COL_STREAM);
  const streamValues = ilEntry(desc, IL_COL_VALUES);
  // The d mod 4 shortest columns one by one, then the groups.
  const rest = d & 3;
  for (let g = 0; g < rest; g++) {
    const j = <usize>load<i32>(colOrder + (<usize>g << 2));
    const s = columnSum(load<f64>(out + (j << 3)), columnStart(colPtr, j, rowAddr), columnStart(colPtr, j, rowAddr, true), rowAddr, cscValues, binary);
    store<f64>(out + (j << 3), s);
  }
  for (let g = rest; g < d; g += 4) {
    const go = colOrder + (<usize>g << 2);
    const j0 = out + (<usize>load<i32>(go) << 3);
    const j1 = out + (<usize>load<i32>(go, 4) << 3);
    const j2 = out + (<usize>load<i32>(go, 8) << 3);
    const j3 = out + (<usize>load<i32>(go, 12) << 3);
    let s01 = v128.load64_lane(j1, v128.load64_zero(j0), 1);
    let s23 = v128.load64_lane(j3, v128.load64_zero(j2), 1);
    let p = <usize>load<i32>(groups + (<usize>(g - rest)));
    const end = <usize>load<i32>(groups + (<usize>(g - rest)), 4);
    for (; p < end; p += 16) {
      if (binary) {
        s01 = f64x2.add(s01, pairLow(p));
        s23 = f64x2.add(s23, pairHigh(p));
      } else {
        const q = streamValues + ((p - stream) << 1);
        s01 = f64x2.add(s01, f64x2.mul(pairLow(p), v128.load(q)));
        s23 = f64x2.add(s23, f64x2.mul(pairHigh(p), v128.load(q, 16)));
      }
    }
    v128.store64_lane(j0, s01, 0);
    v128.store64_lane(j1, s01, 1);
    v128.store64_lane(j2, s23, 0);
    v128.store64_lane(j3, s23, 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Sweep 2: σ(z) (and the loss), two rows at a time. The hot loops hold no calls: the rare lanes
// that need a scalar fallback (exp of y < −708, log1p of a NaN) are only flagged there and fixed
// up afterwards with the same operations, so the bits are those of the one-loop form. (A call in
// the loop made V8 spill around it on every iteration: ~15% slower; exp and log1p in one loop
// were ~1.7× slower than in two, so the loss has its own sweep.)

/** σ(z) = 1/(1+e) when z > 0 else e/(1+e), e = exp(−|z|): one division of the selected numerator. */
@inline
function sigma2(z: v128, e: v128): v128 {
  const one = v128.load(EXP_C, 256);
  return f64x2.div(v128.bitselect(one, e, f64x2.gt(z, f64x2.splat(0))), f64x2.add(one, e));
}

/**
 * For the count rows of z (padded to a whole pair): e_i = exp(−|z_i|) into `e` when `storeE`;
 * with `gradient`, σ(z_i) into `coef`, times −b_i·scale when `coefficients` (full sweeps, b in row
 * order): then `coef` holds the rows' gradient coefficients, (−b·σ)·scale as in the scalar loop.
 */
@inline
function sigmaSweep(
  count: i32, z: usize, coef: usize, e: usize, b: usize, scale: f64, storeE: bool, gradient: bool, coefficients: bool,
): void {
  const scaleV = f64x2.splat(scale);
  let fallback = f64x2.splat(0);
  // Eight pairs per iteration, all loads first and all stores last: V8 emits the code in this order,
  // and sixteen rows of independent exp chains between the loads and the stores ran 1.7× faster
  // than one pair per iteration (measured; a pair-by-pair unrolled body was no faster than one pair).
  let i = 0;
  for (; i + 16 <= count; i += 16) {
    const at = <usize>i << 3;
    const z0 = v128.load(z + at, 0);
    const z1 = v128.load(z + at, 16);
    const z2 = v128.load(z + at, 32);
    const z3 = v128.load(z + at, 48);
    const z4 = v128.load(z + at, 64);
    const z5 = v128.load(z + at, 80);
    const z6 = v128.load(z + at, 96);
    const z7 = v128.load(z + at, 112);
    const y0 = f64x2.neg(f64x2.abs(z0));
    const y1 = f64x2.neg(f64x2.abs(z1));
    const y2 = f64x2.neg(f64x2.abs(z2));
    const y3 = f64x2.neg(f64x2.abs(z3));
    const y4 = f64x2.neg(f64x2.abs(z4));
    const y5 = f64x2.neg(f64x2.abs(z5));
    const y6 = f64x2.neg(f64x2.abs(z6));
    const y7 = f64x2.neg(f64x2.abs(z7));
    const e0 = expCore(y0);
    const e1 = expCore(y1);
    const e2 = expCore(y2);
    const e3 = expCore(y3);
    const e4 = expCore(y4);
    const e5 = expCore(y5);
    const e6 = expCore(y6);
    const e7 = expCore(y7);
    fallback = v128.or(fallback, v128.or(
      v128.or(v128.or(expNeedsFallback(y0), expNeedsFallback(y1)), v128.or(expNeedsFallback(y2), expNeedsFallback(y3))),
      v128.or(v128.or(expNeedsFallback(y4), expNeedsFallback(y5)), v128.or(expNeedsFallback(y6), expNeedsFallback(y7))),
    ));
    if (storeE) {
      v128.store(e + at, e0, 0);
      v128.store(e + at, e1, 16);
      v128.store(e + at, e2, 32);
      v128.store(e + at, e3, 48);
      v128.store(e + at, e4, 64);
      v128.store(e + at, e5, 80);
      v128.store(e + at, e6, 96);
      v128.store(e + at, e7, 112);
    }
    if (gradient) {
      const s0 = sigma2(z0, e0);
      const s1 = sigma2(z1, e1);
      const s2 = sigma2(z2, e2);
      const s3 = sigma2(z3, e3);
      const s4 = sigma2(z4, e4);
      const s5 = sigma2(z5, e5);
      const s6 = sigma2(z6, e6);
      const s7 = sigma2(z7, e7);
      if (coefficients) {
        const b0 = v128.load(b + at, 0);
        const b1 = v128.load(b + at, 16);
        const b2 = v128.load(b + at, 32);
        const b3 = v128.load(b + at, 48);
        const b4 = v128.load(b + at, 64);
        const b5 = v128.load(b + at, 80);
        const b6 = v128.load(b + at, 96);
        const b7 = v128.load(b + at, 112);
        v128.store(coef + at, f64x2.mul(f64x2.mul(f64x2.neg(b0), s0), scaleV), 0);
        v128.store(coef + at, f64x2.mul(f64x2.mul(f64x2.neg(b1), s1), scaleV), 16);
        v128.store(coef + at, f64x2.mul(f64x2.mul(f64x2.neg(b2), s2), scaleV), 32);
        v128.store(coef + at, f64x2.mul(f64x2.mul(f64x2.neg(b3), s3), scaleV), 48);
        v128.store(coef + at, f64x2.mul(f64x2.mul(f64x2.neg(b4), s4), scaleV), 64);
        v128.store(coef + at, f64x2.mul(f64x2.mul(f64x2.neg(b5), s5), scaleV), 80);
        v128.store(coef + at, f64x2.mul(f64x2.mul(f64x2.neg(b6), s6), scaleV), 96);
        v128.store(coef + at, f64x2.mul(f64x2.mul(f64x2.neg(b7), s7), scaleV), 112);
      } else {
        v128.store(coef + at, s0, 0);
        v128.store(coef + at, s1, 16);
        v128.store(coef + at, s2, 32);
        v128.store(coef + at, s3, 48);
        v128.store(coef + at, s4, 64);
        v128.store(coef + at, s5, 80);
        v128.store(coef + at, s6, 96);
        v128.store(coef + at, s7, 112);
      }
    }
  }
  for (; i < count; i += 2) {
    const at = <usize>i << 3;
    const zz = v128.load(z + at);
    const y = f64x2.neg(f64x2.abs(zz));
    const ee = expCore(y);
    fallback = v128.or(fallback, expNeedsFallback(y));
    if (storeE) v128.store(e + at, ee);
    if (gradient) {
      const s = sigma2(zz, ee);
      v128.store(coef + at, coefficients ? f64x2.mul(f64x2.mul(f64x2.neg(v128.load(b + at)), s), scaleV) : s);
    }
  }
  if (!v128.any_true(fallback)) return;
  for (let i = 0; i < count; i++) {
    const at = <usize>i << 3;
    const zi = load<f64>(z + at);
    const y = -Math.abs(zi);
    if (!(y < EXP_MIN_ARG)) continue;
    const ee = Math.exp(y);
    if (storeE) store<f64>(e + at, ee);
    if (gradient) {
      const s = (zi > 0 ? 1 : ee) / (1 + ee);
      store<f64>(coef + at, coefficients ? -load<f64>(b + at) * s * scale : s);
    }
  }
}

/** softplus(z) = max(z, 0) + log1p(e) of the pair, per lane, without branches. */
@inline
function softplus2(zz: v128, l: v128): v128 {
  return v128.bitselect(f64x2.add(zz, l), l, f64x2.gt(zz, f64x2.splat(0)));
}

/** The pair of rows i, i + 1 of `v` (z or e): at i·8 in list order, or, with posOf ≠ 0, at their positions. */
@inline
function rowPair(v: usize, i: i32, posOf: usize): v128 {
  if (posOf == 0) return v128.load(v + (<usize>i << 3));
  const a = load<u64>(posOf + (<usize>i << 2));
  return v128.load64_lane(v + (<usize>(a >>> 32) << 3), v128.load64_zero(v + (<usize><u32>a << 3)), 1);
}

/**
 * Σ_i softplus(z_i) over the count rows, in row order, from z and e = exp(−|z|) (both padded to a pair):
 * row i at index i, or (posOf ≠ 0, the full passes) at position posOf[i] — the same additions either way.
 */
@inline
function softplusSum(count: i32, z: usize, e: usize, posOf: usize): f64 {
  let sum: f64 = 0;
  let fallback = f64x2.splat(0);
  let i = 0;
  for (; i + 2 <= count; i += 2) {
    const ee = rowPair(e, i, posOf);
    const t = softplus2(rowPair(z, i, posOf), log1pCore(ee));
    fallback = v128.or(fallback, log1pNeedsFallback(ee));
    sum += f64x2.extract_lane(t, 0);
    sum += f64x2.extract_lane(t, 1);
  }
  if (v128.any_true(fallback)) {
    sum = 0;
    for (i = 0; i + 2 <= count; i += 2) {
      const t = softplus2(rowPair(z, i, posOf), log1p2(rowPair(e, i, posOf)));
      sum += f64x2.extract_lane(t, 0);
      sum += f64x2.extract_lane(t, 1);
    }
  }
  if (i < count) {
    const at = posOf == 0 ? <usize>i << 3 : <usize>load<i32>(posOf + (<usize>i << 2)) << 3;
    sum += f64x2.extract_lane(softplus2(v128.load64_zero(z + at), log1p2(v128.load64_zero(e + at))), 0);
  }
  return sum;
}

/** softplusSum of the full passes (rows at their positions), its own function so that each form compiles alone. */
function softplusSumByRow(count: i32, z: usize, e: usize, posOf: usize): f64 {
  return softplusSum(count, z, e, posOf);
}

// ---------------------------------------------------------------------------------------------
// Sweep 3: the gradient.

@inline
function gatherTerm(p: usize, rowAddr: usize, cscValues: usize, binary: bool): f64 {
  const c = load<f64>(<usize>load<i32>(p));
  return binary ? c : c * valueAt(p, rowAddr, cscValues);
}

@inline
function columnSum(s: f64, p: usize, end: usize, rowAddr: usize, cscValues: usize, binary: bool): f64 {
  for (; p < end; p += 4) s += gatherTerm(p, rowAddr, cscValues, binary);
  return s;
}

/** Address of column j's first rowAddr entry; with `next`, of column j + 1's. */
@inline
function columnStart(colPtr: usize, j: usize, rowAddr: usize, next: bool = false): usize {
  return rowAddr + (<usize>(next ? load<i32>(colPtr + (j << 2), 4) : load<i32>(colPtr + (j << 2))) << 2);
}

/** out += c·a_r for each listed row (minibatches): the scatter of the reference loop. */
@inline
function listScatter(
  count: i32, rowList: usize, rowPtr: usize, colAddr: usize, values: usize, b: usize, x: usize, out: usize,
  sigma: usize, scale: f64, binary: bool,
): void {
  const toOut = out - x; // colAddr entries point into x; out is indexed alike
  for (let i = 0; i < count; i++) {
    const r = <usize>load<i32>(rowList + (<usize>i << 2));
    const c = -load<f64>(b + (r << 3)) * load<f64>(sigma + (<usize>i << 3)) * scale;
    if (c != 0) {
      const end = rowStart(rowPtr, r, colAddr, true);
      for (let p = rowStart(rowPtr, r, colAddr); p < end; p += 4) {
        const at = <usize>load<i32>(p) + toOut;
        if (binary) store<f64>(at, load<f64>(at) + c);
        else store<f64>(at, load<f64>(at) + c * valueAt(p, colAddr, values));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Exports. Each sweep is its own exported function, specialised by compile-time flags: exported
// functions this large are not inlined by binaryen, so V8 compiles every loop nest as a function
// of its own. (With all variants inlined into one function, the same loops ran ~1.5× slower:
// V8's register allocation of one large function spilled in the hot loops.)
//
// Buffers (one f64 per row plus one, padding an odd count to a whole pair): z (margins −b·aᵀx),
// coef (σ or the gradient coefficients; the CSC rowAddr entries point here), e (exp(−|z|), for
// the loss).

export function interleavedDotsBinary(n: i32, rowOrder: usize, rowPtr: usize, colAddr: usize, b: usize, z: usize, desc: usize): void {
  interleavedRowDots(n, rowOrder, rowPtr, colAddr, 0, b, z, desc, true);
  store<f64>(z + (<usize>n << 3), 0);
}

export function interleavedDotsValued(n: i32, rowOrder: usize, rowPtr: usize, colAddr: usize, values: usize, b: usize, z: usize, desc: usize): void {
  interleavedRowDots(n, rowOrder, rowPtr, colAddr, values, b, z, desc, false);
  store<f64>(z + (<usize>n << 3), 0);
}

export function interleavedGatherBinary(d: i32, colOrder: usize, colPtr: usize, rowAddr: usize, out: usize, desc: usize): void {
  interleavedGather(d, colOrder, colPtr, rowAddr, 0, out, desc, true);
}

export function interleavedGatherValued(d: i32, colOrder: usize, colPtr: usize, rowAddr: usize, cscValues: usize, out: usize, desc: usize): void {
  interleavedGather(d, colOrder, colPtr, rowAddr, cscValues, out, desc, false);
}

export function columnDotsBinary(n: i32, d: i32, colPtr: usize, rowAddr: usize, x: usize, b: usize, z: usize, coef: usize): void {
  columnDots(n, d, colPtr, rowAddr, 0, x, b, z, z - coef, true);
  store<f64>(z + (<usize>n << 3), 0);
}

export function columnDotsValued(n: i32, d: i32, colPtr: usize, rowAddr: usize, cscValues: usize, x: usize, b: usize, z: usize, coef: usize): void {
  columnDots(n, d, colPtr, rowAddr, cscValues, x, b, z, z - coef, false);
  store<f64>(z + (<usize>n << 3), 0);
}

export function listDotsBinary(count: i32, rowList: usize, rowPtr: usize, colAddr: usize, b: usize, z: usize): void {
  listDots(count, rowList, rowPtr, colAddr, 0, b, z, true);
  store<f64>(z + (<usize>count << 3), 0);
}

export function listDotsValued(count: i32, rowList: usize, rowPtr: usize, colAddr: usize, values: usize, b: usize, z: usize): void {
  listDots(count, rowList, rowPtr, colAddr, values, b, z, false);
  store<f64>(z + (<usize>count << 3), 0);
}

/** coef_i = (−b_i·σ(z_i))·scale. */
export function coefficients(n: i32, z: usize, coef: usize, b: usize, scale: f64): void {
  sigmaSweep(n, z, coef, 0, b, scale, false, true, true);
}

/** The same, and e_i = exp(−|z_i|) for the loss. */
export function coefficientsAndExp(n: i32, z: usize, coef: usize, e: usize, b: usize, scale: f64): void {
  sigmaSweep(n, z, coef, e, b, scale, true, true, true);
}

/** σ(z_i) (minibatches: b is not in list order) and e_i. */
export function sigmasAndExp(count: i32, z: usize, sigma: usize, e: usize): void {
  sigmaSweep(count, z, sigma, e, 0, 0, true, true, false);
}

/** e_i = exp(−|z_i|) only. */
export function expOnly(n: i32, z: usize, e: usize): void {
  sigmaSweep(n, z, 0, e, 0, 0, true, false, false);
}

/** Σ_i softplus(z_i) in row order. */
export function softplusTotal(n: i32, z: usize, e: usize): f64 {
  return softplusSum(n, z, e, 0);
}

export function listScatterBinary(count: i32, rowList: usize, rowPtr: usize, colAddr: usize, b: usize, x: usize, out: usize, sigma: usize, scale: f64): void {
  listScatter(count, rowList, rowPtr, colAddr, 0, b, x, out, sigma, scale, true);
}

export function listScatterValued(count: i32, rowList: usize, rowPtr: usize, colAddr: usize, values: usize, b: usize, x: usize, out: usize, sigma: usize, scale: f64): void {
  listScatter(count, rowList, rowPtr, colAddr, values, b, x, out, sigma, scale, false);
}

/** How allDots computes z (the same bits every way; the loader picks the fastest, see wasm.ts). */
export const DOTS_ROWS = 0;
export const DOTS_COLUMNS = 1;

/**
 * z for all rows, in position order (see "Positions"): by rows (the interleaved groups at `il`) or
 * down the CSC columns.
 */
function allDots(
  n: i32, rowOrder: usize, rowPtr: usize, colAddr: usize, values: usize, b: usize, x: usize, z: usize, coef: usize,
  binary: bool, dots: i32, d: i32, colPtr: usize, rowAddr: usize, cscValues: usize, il: usize,
): void {
  if (dots == DOTS_COLUMNS) {
    if (binary) columnDotsBinary(n, d, colPtr, rowAddr, x, b, z, coef);
    else columnDotsValued(n, d, colPtr, rowAddr, cscValues, x, b, z, coef);
  } else if (binary) interleavedDotsBinary(n, rowOrder, rowPtr, colAddr, b, z, il);
  else interleavedDotsValued(n, rowOrder, rowPtr, colAddr, values, b, z, il);
}

/** Σ_r softplus(−b_r a_rᵀx) over all rows. */
export function loss(
  n: i32, rowOrder: usize, rowPtr: usize, colAddr: usize, values: usize, b: usize, x: usize, z: usize, coef: usize, e: usize,
  binary: bool, dots: i32, d: i32, colPtr: usize, rowAddr: usize, cscValues: usize, il: usize,
): f64 {
  allDots(n, rowOrder, rowPtr, colAddr, values, b, x, z, coef, binary, dots, d, colPtr, rowAddr, cscValues, il);
  expOnly(n, z, e);
  return softplusSumByRow(n, z, e, ilEntry(il, IL_POS_OF));
}

/** Regulariser gradients written into out before the rows are added (LogregShard's writeRegulariserGradient). */
export const REGULARISER_NONE = 0;
export const REGULARISER_L2 = 1;
export const REGULARISER_NONCONVEX = 2;

/**
 * out = ∇r(x): λ·x_j (L2) or 2λ·x_j/(1 + x_j²)² (non-convex), the JS expressions' operations in their
 * order ((2λ)·x_j, then divided by s·s); nothing for REGULARISER_NONE (out keeps what the caller wrote).
 */
export function regulariserGradient(d: i32, x: usize, out: usize, lambda: f64, kind: i32): void {
  if (kind == REGULARISER_L2) {
    const l = f64x2.splat(lambda);
    let j = 0;
    for (; j + 2 <= d; j += 2) v128.store(out + (<usize>j << 3), f64x2.mul(l, v128.load(x + (<usize>j << 3))));
    if (j < d) store<f64>(out + (<usize>j << 3), lambda * load<f64>(x + (<usize>j << 3)));
  } else if (kind == REGULARISER_NONCONVEX) {
    const twoLambda = 2 * lambda;
    for (let j = 0; j < d; j++) {
      const xj = load<f64>(x + (<usize>j << 3));
      const s = 1 + xj * xj;
      store<f64>(out + (<usize>j << 3), (twoLambda * xj) / (s * s));
    }
  }
}

/**
 * out = ∇r(x) (see regulariserGradient; with REGULARISER_NONE out keeps the caller's values) plus
 * Σ_r (−b_r σ(z_r)·scale) a_r over all rows, the gradient gathered down the columns of the shard's CSC
 * copy (colPtr, rowAddr, cscValues; d columns in colOrder); returns Σ_r softplus(z_r) when
 * `withLoss`, else 0.
 */
export function gradient(
  n: i32, rowOrder: usize, rowPtr: usize, colAddr: usize, values: usize, b: usize, x: usize, out: usize,
  z: usize, coef: usize, e: usize, scale: f64, binary: bool, dots: i32, d: i32, colOrder: usize, colPtr: usize,
  rowAddr: usize, cscValues: usize, withLoss: bool, lambda: f64, regulariser: i32, il: usize,
): f64 {
  regulariserGradient(d, x, out, lambda, regulariser);
  allDots(n, rowOrder, rowPtr, colAddr, values, b, x, z, coef, binary, dots, d, colPtr, rowAddr, cscValues, il);
  if (withLoss) coefficientsAndExp(n, z, coef, e, b, scale);
  else coefficients(n, z, coef, b, scale);
  if (binary) interleavedGatherBinary(d, colOrder, colPtr, rowAddr, out, il);
  else interleavedGatherValued(d, colOrder, colPtr, rowAddr, cscValues, out, il);
  return withLoss ? softplusSumByRow(n, z, e, ilEntry(il, IL_POS_OF)) : 0;
}

/** The same over the `count` local rows listed at `rowList`, scattered row by row; returns the softplus sum. */
export function batchGradient(
  count: i32, rowList: usize, rowPtr: usize, colAddr: usize, values: usize, b: usize, x: usize, out: usize,
  z: usize, sigma: usize, e: usize, scale: f64, binary: bool,
): f64 {
  if (binary) listDotsBinary(count, rowList, rowPtr, colAddr, b, z);
  else listDotsValued(count, rowList, rowPtr, colAddr, values, b, z);
  sigmasAndExp(count, z, sigma, e);
  const sum = softplusTotal(count, z, e);
  if (binary) listScatterBinary(count, rowList, rowPtr, colAddr, b, x, out, sigma, scale);
  else listScatterValued(count, rowList, rowPtr, colAddr, values, b, x, out, sigma, scale);
  return sum;
}

// ---------------------------------------------------------------------------------------------
// Importance compressor (a).

/**
 * Data term of f_i(x) − f_i(x − eta·v_j·e_j) for every column j (mirror of
 * LogregShard.referenceCoordinateDecrease, which adds the regulariser and the 1/N_i scale):
 * first pass: p_r = −m_r, σ(p_r), softplus(p_r) per row; then per column of the signed CSC
 * (b_r·a_rj stored), colSum[j] = Σ_r softplus(p_r) − softplus(p_r + u), u = b_r a_rj δ, δ = eta·v_j,
 * computed as −log1p(σ(p_r)·expm1(u)) when |u| ≤ 1. colSum[j] is 0 when δ = 0.
 *
 * With `signs` (every signed value is ±1: binary features, labels ±1), u is ±δ, so a column needs
 * only expm1(δ) and expm1(−δ), and when |δ| ≤ 1 its terms are summed two at a time: the two
 * arguments σ·expm1(±δ) by one f64x2 multiply, their log1p by log1p2, then subtracted from the sum
 * one after the other in row order — the scalar loop's operations, so the same bits.
 */
@inline
function coordinatePass(
  n: i32, rowPtr: usize, colAddr: usize, values: usize, b: usize,
  p: usize, rowSigma: usize, rowSoftplus: usize,
  d: i32, colPtr: usize, rowIdx: usize, signedValues: usize, v: usize, eta: f64, colSum: usize, binary: bool, signs: bool,
): void {
  for (let r = 0; r < n; r++) {
    const dot = rowDot(0, rowStart(rowPtr, r, colAddr), rowStart(rowPtr, r, colAddr, true), colAddr, values, binary);
    const z = -load<f64>(b + (<usize>r << 3)) * dot;
    const at = <usize>r << 3;
    store<f64>(p + at, z);
    if (z > 0) {
      const e = Math.exp(-z);
      store<f64>(rowSoftplus + at, z + Math.log1p(e));
      store<f64>(rowSigma + at, 1 / (1 + e));
    } else {
      const e = Math.exp(z);
      store<f64>(rowSoftplus + at, Math.log1p(e));
      store<f64>(rowSigma + at, e / (1 + e));
    }
  }
  for (let j = 0; j < d; j++) {
    const delta = eta * load<f64>(v + (<usize>j << 3));
    if (delta == 0) {
      store<f64>(colSum + (<usize>j << 3), 0);
      continue;
    }
    let sum: f64 = 0;
    const cp = colPtr + (<usize>j << 2);
    let k = load<i32>(cp);
    const end = load<i32>(cp, 4);
    if (signs && delta <= 1 && delta >= -1) {
      const emPlus = f64x2.splat(Math.expm1(delta));
      const emMinus = f64x2.splat(Math.expm1(-delta));
      const zero = f64x2.splat(0);
      for (; k + 2 <= end; k += 2) {
        const sigmas = v128.load64_lane(
          rowSigma + (<usize>load<i32>(rowIdx + (<usize>k << 2), 4) << 3),
          v128.load64_zero(rowSigma + (<usize>load<i32>(rowIdx + (<usize>k << 2)) << 3)),
          1,
        );
        const em = v128.bitselect(emMinus, emPlus, f64x2.lt(v128.load(signedValues + (<usize>k << 3)), zero));
        const l = log1p2(f64x2.mul(sigmas, em));
        sum -= f64x2.extract_lane(l, 0);
        sum -= f64x2.extract_lane(l, 1);
      }
      if (k < end) {
        const em = load<f64>(signedValues + (<usize>k << 3)) < 0 ? f64x2.extract_lane(emMinus, 0) : f64x2.extract_lane(emPlus, 0);
        sum -= Math.log1p(load<f64>(rowSigma + (<usize>load<i32>(rowIdx + (<usize>k << 2)) << 3)) * em);
      }
      store<f64>(colSum + (<usize>j << 3), sum);
      continue;
    }
    // Binary features make b_r·a_rj take two values per column: remember the last two expm1(u).
    let sv1: f64 = NaN;
    let em1: f64 = 0;
    let sv2: f64 = NaN;
    let em2: f64 = 0;
    for (; k < end; k++) {
      const at = <usize>load<i32>(rowIdx + (<usize>k << 2)) << 3;
      const sv = load<f64>(signedValues + (<usize>k << 3));
      const u = sv * delta;
      if (u <= 1 && u >= -1) {
        let em: f64;
        if (sv == sv1) em = em1;
        else if (sv == sv2) em = em2;
        else {
          em = Math.expm1(u);
          sv2 = sv1;
          em2 = em1;
          sv1 = sv;
          em1 = em;
        }
        sum -= Math.log1p(load<f64>(rowSigma + at) * em);
      } else {
        const z = load<f64>(p + at) + u;
        sum += load<f64>(rowSoftplus + at) - (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
      }
    }
    store<f64>(colSum + (<usize>j << 3), sum);
  }
}

export function coordinateDecreaseSigns(
  n: i32, rowPtr: usize, colAddr: usize, values: usize, b: usize, p: usize, rowSigma: usize, rowSoftplus: usize,
  d: i32, colPtr: usize, rowIdx: usize, signedValues: usize, v: usize, eta: f64, colSum: usize,
): void {
  coordinatePass(n, rowPtr, colAddr, values, b, p, rowSigma, rowSoftplus, d, colPtr, rowIdx, signedValues, v, eta, colSum, true, true);
}

export function coordinateDecreaseBinary(
  n: i32, rowPtr: usize, colAddr: usize, values: usize, b: usize, p: usize, rowSigma: usize, rowSoftplus: usize,
  d: i32, colPtr: usize, rowIdx: usize, signedValues: usize, v: usize, eta: f64, colSum: usize,
): void {
  coordinatePass(n, rowPtr, colAddr, values, b, p, rowSigma, rowSoftplus, d, colPtr, rowIdx, signedValues, v, eta, colSum, true, false);
}

export function coordinateDecreaseValued(
  n: i32, rowPtr: usize, colAddr: usize, values: usize, b: usize, p: usize, rowSigma: usize, rowSoftplus: usize,
  d: i32, colPtr: usize, rowIdx: usize, signedValues: usize, v: usize, eta: f64, colSum: usize,
): void {
  coordinatePass(n, rowPtr, colAddr, values, b, p, rowSigma, rowSoftplus, d, colPtr, rowIdx, signedValues, v, eta, colSum, false, false);
}
