/**
 * Float64 CSR kernels for logistic regression, compiled by AssemblyScript to WebAssembly
 * (`npm run build`; loaded by ../wasm.ts). They reproduce the JS reference loops in
 * src/problems/logreg.ts: same row order, same summation order, same branches; only exp/log1p/expm1
 * differ from V8's (our SIMD exp below for σ and softplus, AssemblyScript's deterministic musl-derived
 * float64 log1p/expm1/exp elsewhere), so results agree with the JS path to rounding, and bit for bit
 * between runs and machines. Built with `--enable simd`.
 *
 * Memory is owned by the JS side: every argument is a byte offset into this instance's memory,
 * laid out once by the loader after `heapBase()`. Nothing here allocates (stub runtime), so the
 * memory never grows after set-up and the loader's typed-array views stay valid.
 *
 * `values == 0` would be a valid offset only below the heap, so the loader instead passes the
 * `binary` flag for matrices whose values are all 1: those loops skip the value loads
 * (multiplying by 1 is exact, so the results are bitwise those of the general loops).
 */

/** First byte the JS side may use (after static data such as exp's lookup table). */
export function heapBase(): usize {
  return __heap_base;
}

@inline
function rowDot(start: i32, end: i32, colIdx: usize, values: usize, x: usize, binary: bool): f64 {
  let dot: f64 = 0;
  for (let k = start; k < end; k++) {
    const xj = load<f64>(x + (<usize>load<i32>(colIdx + (<usize>k << 2)) << 3));
    if (binary) dot += xj;
    else dot += load<f64>(values + (<usize>k << 3)) * xj;
  }
  return dot;
}

@inline
function rowScatter(start: i32, end: i32, colIdx: usize, values: usize, c: f64, out: usize, binary: bool): void {
  for (let k = start; k < end; k++) {
    const p = out + (<usize>load<i32>(colIdx + (<usize>k << 2)) << 3);
    if (binary) store<f64>(p, load<f64>(p) + c);
    else store<f64>(p, load<f64>(p) + c * load<f64>(values + (<usize>k << 3)));
  }
}

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

@inline
function expNonPositive2(y: v128): v128 {
  const t = f64x2.add(f64x2.mul(y, f64x2.splat(LOG2E)), f64x2.splat(ROUND_SHIFTER));
  const k = f64x2.sub(t, f64x2.splat(ROUND_SHIFTER));
  const r = f64x2.sub(f64x2.sub(y, f64x2.mul(k, f64x2.splat(LN2_HI))), f64x2.mul(k, f64x2.splat(LN2_LO)));
  // Horner for 1/2! + r/3! + … + r^11/13!, then exp(r) = 1 + (r + r²·q).
  let q = f64x2.splat(1 / 6227020800.0); // 1/13!
  q = f64x2.add(f64x2.mul(q, r), f64x2.splat(1 / 479001600.0)); // 1/12!
  q = f64x2.add(f64x2.mul(q, r), f64x2.splat(1 / 39916800.0)); // 1/11!
  q = f64x2.add(f64x2.mul(q, r), f64x2.splat(1 / 3628800.0)); // 1/10!
  q = f64x2.add(f64x2.mul(q, r), f64x2.splat(1 / 362880.0)); // 1/9!
  q = f64x2.add(f64x2.mul(q, r), f64x2.splat(1 / 40320.0)); // 1/8!
  q = f64x2.add(f64x2.mul(q, r), f64x2.splat(1 / 5040.0)); // 1/7!
  q = f64x2.add(f64x2.mul(q, r), f64x2.splat(1 / 720.0)); // 1/6!
  q = f64x2.add(f64x2.mul(q, r), f64x2.splat(1 / 120.0)); // 1/5!
  q = f64x2.add(f64x2.mul(q, r), f64x2.splat(1 / 24.0)); // 1/4!
  q = f64x2.add(f64x2.mul(q, r), f64x2.splat(1 / 6.0)); // 1/3!
  q = f64x2.add(f64x2.mul(q, r), f64x2.splat(0.5)); // 1/2!
  const p = f64x2.add(f64x2.splat(1), f64x2.add(r, f64x2.mul(f64x2.mul(r, r), q)));
  // t's low bits hold k (two's complement): shifting them to the exponent field and adding the
  // bias gives the bits of 2^k (exact for −1022 ≤ k ≤ 0).
  const scale = i64x2.add(i64x2.shl(t, 52), i64x2.splat(<i64>1023 << 52));
  let e = f64x2.mul(p, scale);
  if (v128.any_true(f64x2.lt(y, f64x2.splat(EXP_MIN_ARG)))) {
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

/**
 * One sweep over `count` rows (rows 0..count−1, or the i32 row list at `rowList` when `batch`), in
 * three passes so that the exps vectorise: (1) z_i = −b_r a_rᵀx into `scratch` (count + 1 f64s;
 * an odd count is padded with a 0); (2) two rows at a time, e = exp(−|z|), σ(z) = 1/(1+e) when
 * z > 0 else e/(1+e), written over z_i (softplus(z) = max(z, 0) + log1p(e) summed in row order when
 * `withLoss`); (3) with `gradient`: out += Σ_r (−b_r σ(z_r) · scale) a_r. Returns the softplus sum
 * when `withLoss` (else 0). The flags are compile-time constants at every call site, so each
 * exported kernel is a specialised loop; all of them share passes 1–2, so σ and the loss are bitwise
 * the same whichever export computes them.
 */
@inline
function pass(
  count: i32, rowList: usize, rowPtr: usize, colIdx: usize, values: usize, b: usize, x: usize, out: usize,
  scratch: usize, scale: f64, withLoss: bool, gradient: bool, binary: bool, batch: bool,
): f64 {
  for (let i = 0; i < count; i++) {
    const r: i32 = batch ? load<i32>(rowList + (<usize>i << 2)) : i;
    const rp = rowPtr + (<usize>r << 2);
    const dot = rowDot(load<i32>(rp), load<i32>(rp, 4), colIdx, values, x, binary);
    store<f64>(scratch + (<usize>i << 3), -load<f64>(b + (<usize>r << 3)) * dot);
  }
  store<f64>(scratch + (<usize>count << 3), 0);
  let sum: f64 = 0;
  const zero = f64x2.splat(0);
  const one = f64x2.splat(1);
  for (let i = 0; i < count; i += 2) {
    const at = scratch + (<usize>i << 3);
    const z = v128.load(at);
    const e = expNonPositive2(f64x2.neg(f64x2.abs(z)));
    const positive = f64x2.gt(z, zero);
    if (withLoss) {
      const z0 = f64x2.extract_lane(z, 0);
      const l0 = Math.log1p(f64x2.extract_lane(e, 0));
      sum += z0 > 0 ? z0 + l0 : l0;
      if (i + 1 < count) {
        const z1 = f64x2.extract_lane(z, 1);
        const l1 = Math.log1p(f64x2.extract_lane(e, 1));
        sum += z1 > 0 ? z1 + l1 : l1;
      }
    }
    if (gradient) {
      const onePlusE = f64x2.add(one, e);
      v128.store(at, v128.bitselect(f64x2.div(one, onePlusE), f64x2.div(e, onePlusE), positive));
    }
  }
  if (!gradient) return sum;
  for (let i = 0; i < count; i++) {
    const r: i32 = batch ? load<i32>(rowList + (<usize>i << 2)) : i;
    const c = -load<f64>(b + (<usize>r << 3)) * load<f64>(scratch + (<usize>i << 3)) * scale;
    if (c != 0) {
      const rp = rowPtr + (<usize>r << 2);
      rowScatter(load<i32>(rp), load<i32>(rp, 4), colIdx, values, c, out, binary);
    }
  }
  return sum;
}

/** Σ_r softplus(−b_r a_rᵀx) over all rows. */
export function loss(
  n: i32, rowPtr: usize, colIdx: usize, values: usize, b: usize, x: usize, scratch: usize, binary: bool,
): f64 {
  return binary
    ? pass(n, 0, rowPtr, colIdx, values, b, x, 0, scratch, 0, true, false, true, false)
    : pass(n, 0, rowPtr, colIdx, values, b, x, 0, scratch, 0, true, false, false, false);
}

/** out += data-term gradient · scale-weighted rows; returns Σ_r softplus (the loss pass in the same sweep). */
export function lossGradient(
  n: i32, rowPtr: usize, colIdx: usize, values: usize, b: usize, x: usize, out: usize, scratch: usize, scale: f64,
  binary: bool,
): f64 {
  return binary
    ? pass(n, 0, rowPtr, colIdx, values, b, x, out, scratch, scale, true, true, true, false)
    : pass(n, 0, rowPtr, colIdx, values, b, x, out, scratch, scale, true, true, false, false);
}

/** As lossGradient without the loss (no log1p): the gradient is bitwise the same. */
export function gradient(
  n: i32, rowPtr: usize, colIdx: usize, values: usize, b: usize, x: usize, out: usize, scratch: usize, scale: f64,
  binary: bool,
): void {
  if (binary) pass(n, 0, rowPtr, colIdx, values, b, x, out, scratch, scale, false, true, true, false);
  else pass(n, 0, rowPtr, colIdx, values, b, x, out, scratch, scale, false, true, false, false);
}

/** lossGradient over the `count` local rows listed at `rowList`. */
export function batchLossGradient(
  count: i32, rowList: usize, rowPtr: usize, colIdx: usize, values: usize, b: usize, x: usize, out: usize,
  scratch: usize, scale: f64, binary: bool,
): f64 {
  return binary
    ? pass(count, rowList, rowPtr, colIdx, values, b, x, out, scratch, scale, true, true, true, true)
    : pass(count, rowList, rowPtr, colIdx, values, b, x, out, scratch, scale, true, true, false, true);
}

/**
 * Importance compressor (a), data term of f_i(x) − f_i(x − eta·v_j·e_j) for every column j
 * (mirror of LogregShard.coordinateDecrease, which adds the regulariser and the 1/N_i scale):
 * first pass: p_r = −m_r, σ(p_r), softplus(p_r) per row; then per column of the signed CSC
 * (b_r·a_rj stored), colSum[j] = Σ_r softplus(p_r) − softplus(p_r + u), u = b_r a_rj δ, δ = eta·v_j,
 * computed as −log1p(σ(p_r)·expm1(u)) when |u| ≤ 1. colSum[j] is 0 when δ = 0.
 */
@inline
function coordinatePass(
  n: i32, rowPtr: usize, colIdx: usize, values: usize, b: usize, x: usize,
  p: usize, rowSigma: usize, rowSoftplus: usize,
  d: i32, colPtr: usize, rowIdx: usize, signedValues: usize, v: usize, eta: f64, colSum: usize, binary: bool,
): void {
  for (let r = 0; r < n; r++) {
    const rp = rowPtr + (<usize>r << 2);
    const dot = rowDot(load<i32>(rp), load<i32>(rp, 4), colIdx, values, x, binary);
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
    const end = load<i32>(cp, 4);
    // Binary features make b_r·a_rj take two values per column: remember the last two expm1(u).
    let sv1: f64 = NaN;
    let em1: f64 = 0;
    let sv2: f64 = NaN;
    let em2: f64 = 0;
    for (let k = load<i32>(cp); k < end; k++) {
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

export function coordinateDecrease(
  n: i32, rowPtr: usize, colIdx: usize, values: usize, b: usize, x: usize,
  p: usize, rowSigma: usize, rowSoftplus: usize,
  d: i32, colPtr: usize, rowIdx: usize, signedValues: usize, v: usize, eta: f64, colSum: usize, binary: bool,
): void {
  if (binary) {
    coordinatePass(n, rowPtr, colIdx, values, b, x, p, rowSigma, rowSoftplus, d, colPtr, rowIdx, signedValues, v, eta, colSum, true);
  } else {
    coordinatePass(n, rowPtr, colIdx, values, b, x, p, rowSigma, rowSoftplus, d, colPtr, rowIdx, signedValues, v, eta, colSum, false);
  }
}
