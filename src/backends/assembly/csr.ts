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
function dotTerm(k: i32, colIdx: usize, values: usize, x: usize, binary: bool): f64 {
  const xj = load<f64>(x + (<usize>load<i32>(colIdx + (<usize>k << 2)) << 3));
  return binary ? xj : load<f64>(values + (<usize>k << 3)) * xj;
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

/** z_i = −b_r a_rᵀx for the count rows (listed at rowList when `batch`) into scratch, row by row. */
@inline
function rowDots(
  count: i32, rowList: usize, rowPtr: usize, colIdx: usize, values: usize, b: usize, x: usize, scratch: usize,
  binary: bool, batch: bool,
): void {
  // Two rows side by side: two independent add chains hide the add latency; each row's dot is
  // still summed in its own order, so the result is bitwise that of one row at a time.
  let i = 0;
  for (; i + 2 <= count; i += 2) {
    const r0: i32 = batch ? load<i32>(rowList + (<usize>i << 2)) : i;
    const r1: i32 = batch ? load<i32>(rowList + (<usize>i << 2), 4) : i + 1;
    const rp0 = rowPtr + (<usize>r0 << 2);
    const rp1 = rowPtr + (<usize>r1 << 2);
    let k0 = load<i32>(rp0);
    let k1 = load<i32>(rp1);
    const e0 = load<i32>(rp0, 4);
    const e1 = load<i32>(rp1, 4);
    const common = min(e0 - k0, e1 - k1);
    let dot0: f64 = 0;
    let dot1: f64 = 0;
    for (let t = 0; t < common; t++) {
      dot0 += dotTerm(k0 + t, colIdx, values, x, binary);
      dot1 += dotTerm(k1 + t, colIdx, values, x, binary);
    }
    k0 += common;
    k1 += common;
    for (; k0 < e0; k0++) dot0 += dotTerm(k0, colIdx, values, x, binary);
    for (; k1 < e1; k1++) dot1 += dotTerm(k1, colIdx, values, x, binary);
    store<f64>(scratch + (<usize>i << 3), -load<f64>(b + (<usize>r0 << 3)) * dot0);
    store<f64>(scratch + (<usize>i << 3), -load<f64>(b + (<usize>r1 << 3)) * dot1, 8);
  }
  if (i < count) {
    const r: i32 = batch ? load<i32>(rowList + (<usize>i << 2)) : i;
    const rp = rowPtr + (<usize>r << 2);
    const dot = rowDot(load<i32>(rp), load<i32>(rp, 4), colIdx, values, x, binary);
    store<f64>(scratch + (<usize>i << 3), -load<f64>(b + (<usize>r << 3)) * dot);
  }
}

/**
 * z_r = −b_r a_rᵀx for all rows, by scattering x_j down the columns of the CSC copy in ascending j.
 * When every CSR row lists its columns in non-decreasing order (the loader checks; `cscDot`), each
 * row's dot receives the same terms in the same order as rowDots, so the bits are the same; but no
 * loop ends per row (rows of varying length mispredict every loop exit) and the adds of one column
 * go to distinct rows, so they do not wait on each other.
 */
@inline
function columnDots(
  n: i32, d: i32, colPtr: usize, rowIdx: usize, cscValues: usize, x: usize, b: usize, scratch: usize, binary: bool,
): void {
  memory.fill(scratch, 0, <usize>n << 3);
  for (let j = 0; j < d; j++) {
    const cp = colPtr + (<usize>j << 2);
    const end = load<i32>(cp, 4);
    const xj = load<f64>(x + (<usize>j << 3));
    for (let k = load<i32>(cp); k < end; k++) {
      const p = scratch + (<usize>load<i32>(rowIdx + (<usize>k << 2)) << 3);
      if (binary) store<f64>(p, load<f64>(p) + xj);
      else store<f64>(p, load<f64>(p) + load<f64>(cscValues + (<usize>k << 3)) * xj);
    }
  }
  for (let r = 0; r < n; r++) {
    const p = scratch + (<usize>r << 3);
    store<f64>(p, -load<f64>(b + (<usize>r << 3)) * load<f64>(p));
  }
}

/**
 * One sweep over `count` rows (rows 0..count−1, or the i32 row list at `rowList` when `batch`), in
 * three passes so that the exps vectorise: (1) z_i = −b_r a_rᵀx into `scratch` (count + 1 f64s;
 * an odd count is padded with a 0), row by row (rowDots) or, for full sweeps with `cscDot`, down
 * the columns of the CSC copy (columnDots; the same bits); (2) two rows at a time, e = exp(−|z|),
 * σ(z) = 1/(1+e) when z > 0 else e/(1+e), written over z_i (softplus(z) = max(z, 0) + log1p(e)
 * summed in row order when `withLoss`); (3) with `gradient`: out += Σ_r (−b_r σ(z_r) · scale) a_r,
 * gathered down the CSC columns for full sweeps (columnGather), scattered row by row for batches —
 * the same additions onto each out[j] in the same order either way. Returns the softplus sum when
 * `withLoss` (else 0). The flags binary/withLoss/gradient/batch are compile-time constants at every
 * call site, so each exported kernel is a specialised loop; all of them share passes 1–2, so σ and
 * the loss are bitwise the same whichever export computes them.
 */
@inline
function pass(
  count: i32, rowList: usize, rowPtr: usize, colIdx: usize, values: usize, b: usize, x: usize, out: usize,
  scratch: usize, scale: f64, withLoss: bool, gradient: bool, binary: bool, batch: bool,
  cscDot: bool = false, d: i32 = 0, colOrder: usize = 0, colPtr: usize = 0, rowIdx: usize = 0, cscValues: usize = 0,
): f64 {
  if (!batch && cscDot) {
    columnDots(count, d, colPtr, rowIdx, cscValues, x, b, scratch, binary);
  } else {
    rowDots(count, rowList, rowPtr, colIdx, values, b, x, scratch, binary, batch);
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
      // σ(z) = 1/(1+e) when z > 0 else e/(1+e): one division of the selected numerator.
      v128.store(at, f64x2.div(v128.bitselect(one, e, positive), f64x2.add(one, e)));
    }
  }
  if (!gradient) return sum;
  if (batch) {
    for (let i = 0; i < count; i++) {
      const r: i32 = load<i32>(rowList + (<usize>i << 2));
      const c = -load<f64>(b + (<usize>r << 3)) * load<f64>(scratch + (<usize>i << 3)) * scale;
      if (c != 0) {
        const rp = rowPtr + (<usize>r << 2);
        rowScatter(load<i32>(rp), load<i32>(rp, 4), colIdx, values, c, out, binary);
      }
    }
    return sum;
  }
  for (let i = 0; i < count; i++) {
    const at = scratch + (<usize>i << 3);
    store<f64>(at, -load<f64>(b + (<usize>i << 3)) * load<f64>(at) * scale);
  }
  columnGather(d, colOrder, colPtr, rowIdx, cscValues, scratch, out, binary);
  return sum;
}

@inline
function gatherTerm(k: i32, rowIdx: usize, cscValues: usize, coef: usize, binary: bool): f64 {
  const c = load<f64>(coef + (<usize>load<i32>(rowIdx + (<usize>k << 2)) << 3));
  return binary ? c : c * load<f64>(cscValues + (<usize>k << 3));
}

/**
 * out[j] += Σ_k coef[row_k]·a_kj down each column of the CSC copy, rows ascending: for every j the
 * additions onto out[j] happen in the same order as a row-by-row scatter, so the result is bitwise
 * the scatter's (up to the sign of a zero), but the sum stays in a register. Four columns run
 * side by side so that four independent add chains hide the add latency; `colOrder` lists the
 * columns by length, so the four of a group have similar lengths and little runs alone.
 */
@inline
function columnGather(
  d: i32, colOrder: usize, colPtr: usize, rowIdx: usize, cscValues: usize, coef: usize, out: usize, binary: bool,
): void {
  let g = 0;
  for (; g + 4 <= d; g += 4) {
    const go = colOrder + (<usize>g << 2);
    const j0 = <usize>load<i32>(go);
    const j1 = <usize>load<i32>(go, 4);
    const j2 = <usize>load<i32>(go, 8);
    const j3 = <usize>load<i32>(go, 12);
    let k0 = load<i32>(colPtr + (j0 << 2));
    let k1 = load<i32>(colPtr + (j1 << 2));
    let k2 = load<i32>(colPtr + (j2 << 2));
    let k3 = load<i32>(colPtr + (j3 << 2));
    const e0 = load<i32>(colPtr + (j0 << 2), 4);
    const e1 = load<i32>(colPtr + (j1 << 2), 4);
    const e2 = load<i32>(colPtr + (j2 << 2), 4);
    const e3 = load<i32>(colPtr + (j3 << 2), 4);
    let s0 = load<f64>(out + (j0 << 3));
    let s1 = load<f64>(out + (j1 << 3));
    let s2 = load<f64>(out + (j2 << 3));
    let s3 = load<f64>(out + (j3 << 3));
    const common = min(min(e0 - k0, e1 - k1), min(e2 - k2, e3 - k3));
    for (let t = 0; t < common; t++) {
      s0 += gatherTerm(k0 + t, rowIdx, cscValues, coef, binary);
      s1 += gatherTerm(k1 + t, rowIdx, cscValues, coef, binary);
      s2 += gatherTerm(k2 + t, rowIdx, cscValues, coef, binary);
      s3 += gatherTerm(k3 + t, rowIdx, cscValues, coef, binary);
    }
    k0 += common;
    k1 += common;
    k2 += common;
    k3 += common;
    for (; k0 < e0; k0++) s0 += gatherTerm(k0, rowIdx, cscValues, coef, binary);
    for (; k1 < e1; k1++) s1 += gatherTerm(k1, rowIdx, cscValues, coef, binary);
    for (; k2 < e2; k2++) s2 += gatherTerm(k2, rowIdx, cscValues, coef, binary);
    for (; k3 < e3; k3++) s3 += gatherTerm(k3, rowIdx, cscValues, coef, binary);
    store<f64>(out + (j0 << 3), s0);
    store<f64>(out + (j1 << 3), s1);
    store<f64>(out + (j2 << 3), s2);
    store<f64>(out + (j3 << 3), s3);
  }
  for (; g < d; g++) {
    const j = <usize>load<i32>(colOrder + (<usize>g << 2));
    const end = load<i32>(colPtr + (j << 2), 4);
    let s = load<f64>(out + (j << 3));
    for (let k = load<i32>(colPtr + (j << 2)); k < end; k++) s += gatherTerm(k, rowIdx, cscValues, coef, binary);
    store<f64>(out + (j << 3), s);
  }
}

/** Σ_r softplus(−b_r a_rᵀx) over all rows. */
export function loss(
  n: i32, rowPtr: usize, colIdx: usize, values: usize, b: usize, x: usize, scratch: usize, binary: bool,
): f64 {
  return binary
    ? pass(n, 0, rowPtr, colIdx, values, b, x, 0, scratch, 0, true, false, true, false)
    : pass(n, 0, rowPtr, colIdx, values, b, x, 0, scratch, 0, true, false, false, false);
}

/**
 * out += data-term gradient · scale-weighted rows; returns Σ_r softplus (the loss pass in the same sweep).
 * The gradient is gathered down the columns of the shard's CSC copy (colPtr, rowIdx, cscValues; d columns).
 */
export function lossGradient(
  n: i32, rowPtr: usize, colIdx: usize, values: usize, b: usize, x: usize, out: usize, scratch: usize, scale: f64,
  binary: bool, cscDot: bool, d: i32, colOrder: usize, colPtr: usize, rowIdx: usize, cscValues: usize,
): f64 {
  return binary
    ? pass(n, 0, rowPtr, colIdx, values, b, x, out, scratch, scale, true, true, true, false, cscDot, d, colOrder, colPtr, rowIdx, cscValues)
    : pass(n, 0, rowPtr, colIdx, values, b, x, out, scratch, scale, true, true, false, false, cscDot, d, colOrder, colPtr, rowIdx, cscValues);
}

/** As lossGradient without the loss (no log1p): the gradient is bitwise the same. */
export function gradient(
  n: i32, rowPtr: usize, colIdx: usize, values: usize, b: usize, x: usize, out: usize, scratch: usize, scale: f64,
  binary: bool, cscDot: bool, d: i32, colOrder: usize, colPtr: usize, rowIdx: usize, cscValues: usize,
): void {
  if (binary) pass(n, 0, rowPtr, colIdx, values, b, x, out, scratch, scale, false, true, true, false, cscDot, d, colOrder, colPtr, rowIdx, cscValues);
  else pass(n, 0, rowPtr, colIdx, values, b, x, out, scratch, scale, false, true, false, false, cscDot, d, colOrder, colPtr, rowIdx, cscValues);
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
