/**
 * Float64 CSR kernels for logistic regression, compiled by AssemblyScript to WebAssembly
 * (`npm run build`; loaded by ../wasm.ts). They reproduce the JS reference loops in
 * src/problems/logreg.ts operation for operation: same row order, same summation order, same
 * branches; only exp/log1p/expm1 come from AssemblyScript's deterministic float64 implementations
 * (musl-derived) instead of V8's, so results agree with the JS path to rounding, and bit for bit
 * between runs and machines.
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

/**
 * One pass over `count` rows (rows 0..count−1, or the i32 row list at `rowList` when `batch`).
 * With `gradient`: out += Σ_r (−b_r σ(z_r) · scale) a_r, z_r = −b_r a_rᵀx. Returns Σ_r softplus(z_r)
 * when `withLoss` (else 0). The flags are compile-time constants at every call site, so each
 * exported kernel is a specialised loop.
 */
@inline
function pass(
  count: i32, rowList: usize, rowPtr: usize, colIdx: usize, values: usize, b: usize, x: usize, out: usize,
  scale: f64, withLoss: bool, gradient: bool, binary: bool, batch: bool,
): f64 {
  let sum: f64 = 0;
  for (let i = 0; i < count; i++) {
    const r: i32 = batch ? load<i32>(rowList + (<usize>i << 2)) : i;
    const rp = rowPtr + (<usize>r << 2);
    const start = load<i32>(rp);
    const end = load<i32>(rp, 4);
    const dot = rowDot(start, end, colIdx, values, x, binary);
    const br = load<f64>(b + (<usize>r << 3));
    const z = -br * dot;
    if (!gradient) {
      sum += z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
      continue;
    }
    // One exp serves both softplus(z) and σ(z); it is only ever taken of a non-positive number.
    let sig: f64;
    if (z > 0) {
      const e = Math.exp(-z);
      if (withLoss) sum += z + Math.log1p(e);
      sig = 1 / (1 + e);
    } else {
      const e = Math.exp(z);
      if (withLoss) sum += Math.log1p(e);
      sig = e / (1 + e);
    }
    const c = -br * sig * scale;
    if (c != 0) rowScatter(start, end, colIdx, values, c, out, binary);
  }
  return sum;
}

/** Σ_r softplus(−b_r a_rᵀx) over all rows. */
export function loss(n: i32, rowPtr: usize, colIdx: usize, values: usize, b: usize, x: usize, binary: bool): f64 {
  return binary
    ? pass(n, 0, rowPtr, colIdx, values, b, x, 0, 0, true, false, true, false)
    : pass(n, 0, rowPtr, colIdx, values, b, x, 0, 0, true, false, false, false);
}

/** out += data-term gradient · scale-weighted rows; returns Σ_r softplus (the loss pass in the same sweep). */
export function lossGradient(
  n: i32, rowPtr: usize, colIdx: usize, values: usize, b: usize, x: usize, out: usize, scale: f64, binary: bool,
): f64 {
  return binary
    ? pass(n, 0, rowPtr, colIdx, values, b, x, out, scale, true, true, true, false)
    : pass(n, 0, rowPtr, colIdx, values, b, x, out, scale, true, true, false, false);
}

/** As lossGradient without the loss (no log1p): the gradient is bitwise the same. */
export function gradient(
  n: i32, rowPtr: usize, colIdx: usize, values: usize, b: usize, x: usize, out: usize, scale: f64, binary: bool,
): void {
  if (binary) pass(n, 0, rowPtr, colIdx, values, b, x, out, scale, false, true, true, false);
  else pass(n, 0, rowPtr, colIdx, values, b, x, out, scale, false, true, false, false);
}

/** lossGradient over the `count` local rows listed at `rowList`. */
export function batchLossGradient(
  count: i32, rowList: usize, rowPtr: usize, colIdx: usize, values: usize, b: usize, x: usize, out: usize,
  scale: f64, binary: bool,
): f64 {
  return binary
    ? pass(count, rowList, rowPtr, colIdx, values, b, x, out, scale, true, true, true, true)
    : pass(count, rowList, rowPtr, colIdx, values, b, x, out, scale, true, true, false, true);
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
