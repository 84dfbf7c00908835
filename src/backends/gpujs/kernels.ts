/**
 * The gpu.js kernel functions. Each is the body gpu.js runs for one output cell (`this.thread.x`);
 * gpu.js translates its source text (Function.prototype.toString) to WGSL, GLSL, WebAssembly or JS,
 * so these bodies keep to gpu.js's kernel subset: numbers only (every array is float32 inside a
 * kernel, indices included: exact below 2^24, which layout.ts checks), loops whose trip count the
 * data bounds (loopMaxIterations is set to the longest row or column: gpu.js silently stops a loop
 * at that cap), no closures. Loop counters that start from a value read from an array are floats in
 * the generated code, and WGSL has no ++ on floats: such loops step with `k += 1.0`.
 *
 * The arithmetic mirrors the float64 reference loops of src/problems/logreg.ts term for term and in
 * the same order (rows in order within a column, entries in order within a row; long column sums in
 * blocks, see below), so the float32 results differ from float64 by rounding only (docs/backends.md
 * has the measured errors).
 *
 * Data arrays are kernel *constants*: gpu.js uploads them once, when the kernel is built (WebGPU
 * storage buffers, GL textures, the wasm memory), and never again. Only the per-call vectors (x,
 * row weights, v) are arguments.
 */

/** What `this` is inside a kernel (the part used here). */
export interface KernelThis {
  readonly thread: { readonly x: number };
  readonly constants: Readonly<Record<string, number & ArrayLike<number>>>;
}

// ---------------------------------------------------------------------------------------------
// Helpers, added to every kernel with `functions`. log(1+u) and e^u − 1 in float32 lose all
// relative accuracy for small |u| when written naively (gpu.js's own WGSL log1p/expm1 are the naive
// formulas), and the classic correction log(w)·u/(w − 1) does not help on GPUs: WGSL only bounds
// log's *absolute* error near 1 (2^-21), so log(1 + 1e-4) may be off by 1 %. Small arguments
// (|u| < 1/16) therefore use the Taylor series (Horner, truncation below 2^-32 relative), which needs
// nothing but + and ×; larger ones the plain formula, whose error there is a few 1e-6 at most.
// ---------------------------------------------------------------------------------------------

/** log(1 + u), accurate for small |u| on any device. */
export function log1pAccurate(u: number): number {
  if (u < 0.0625 && u > -0.0625) {
    // u − u²/2 + u³/3 − … − u⁸/8
    return u * (1.0 - u * (0.5 - u * (0.3333333333333333 - u * (0.25 - u * (0.2 - u * (0.16666666666666666 - u * (0.14285714285714285 - u * 0.125)))))));
  }
  return Math.log(1.0 + u);
}

/** e^u − 1, accurate for small |u| on any device. */
export function expm1Accurate(u: number): number {
  if (u < 0.0625 && u > -0.0625) {
    // u + u²/2! + … + u⁸/8!
    return u * (1.0 + u * (0.5 + u * (0.16666666666666666 + u * (0.041666666666666664 + u * (0.008333333333333333 + u * (0.001388888888888889 + u * (0.0001984126984126984 + u * 0.0000248015873015873)))))));
  }
  return Math.exp(u) - 1.0;
}

/** softplus(z) = log(1 + e^z), overflow-free (the reference's branch). */
export function softplusOf(z: number): number {
  if (z > 0.0) {
    return z + log1pAccurate(Math.exp(-z));
  }
  return log1pAccurate(Math.exp(z));
}

/** σ(z) = 1/(1 + e^{−z}); exp only of a non-positive number (the reference's branch). */
export function sigmoidOf(z: number): number {
  if (z > 0.0) {
    return 1.0 / (1.0 + Math.exp(-z));
  }
  const e = Math.exp(z);
  return e / (1.0 + e);
}

export const HELPER_FUNCTIONS = [log1pAccurate, expm1Accurate, softplusOf, sigmoidOf];

// ---------------------------------------------------------------------------------------------
// Margins and residuals. m_r = a_rᵀx; the loss argument is z_r = −b_r m_r; the data-term gradient
// of worker i is Σ_r c_r a_r with c_r = −b_r σ(z_r) · w_r (w_r = 1/N_i, or a minibatch weight).
// ---------------------------------------------------------------------------------------------

/** c_r for every row of every shard, CSR layout (constants rowPtr, colIdx, values, labels, rowScale). */
export function rowCoefficientsCsr(this: KernelThis, x: number[]): number {
  const r = this.thread.x;
  const start = this.constants.rowPtr[r];
  const end = this.constants.rowPtr[r + 1];
  let dot = 0.0;
  for (let k = start; k < end; k += 1.0) {
    dot += this.constants.values[k] * x[this.constants.colIdx[k]];
  }
  const b = this.constants.labels[r];
  return -b * sigmoidOf(-b * dot) * this.constants.rowScale[r];
}

/**
 * c_r for every row, ELL layout: row r's s-th entry at s·R + r (column-major, so neighbouring threads
 * read neighbouring addresses), padded to `width` entries with column d (x has a trailing 0 there)
 * and value 0. Padding adds exact zeros after the row's real entries, so the sum is the CSR one.
 */
export function rowCoefficientsEll(this: KernelThis, x: number[]): number {
  const r = this.thread.x;
  const rows = this.constants.totalRows;
  let dot = 0.0;
  for (let s = 0; s < this.constants.width; s++) {
    dot += this.constants.ellValues[s * rows + r] * x[this.constants.ellCols[s * rows + r]];
  }
  const b = this.constants.labels[r];
  return -b * sigmoidOf(-b * dot) * this.constants.rowScale[r];
}

/**
 * c_r for the rows of one shard (rows rowOffset … rowOffset + count − 1 of the concatenation), with
 * per-call weights (1/N_i for a full local gradient at a worker-specific point, multiplicity/b for a
 * minibatch). Cells past `count` are 0.
 */
export function shardRowCoefficients(this: KernelThis, x: number[], weight: number[], rowOffset: number, count: number): number {
  const t = this.thread.x;
  if (t >= count) {
    return 0.0;
  }
  const r = rowOffset + t;
  const start = this.constants.rowPtr[r];
  const end = this.constants.rowPtr[r + 1];
  let dot = 0.0;
  for (let k = start; k < end; k += 1.0) {
    dot += this.constants.values[k] * x[this.constants.colIdx[k]];
  }
  const b = this.constants.labels[r];
  return -b * sigmoidOf(-b * dot) * weight[t];
}

/** softplus(z_r) per row of every shard (the loss terms; summed per shard in float64 on the host). */
export function rowLoss(this: KernelThis, x: number[]): number {
  const r = this.thread.x;
  const start = this.constants.rowPtr[r];
  const end = this.constants.rowPtr[r + 1];
  let dot = 0.0;
  for (let k = start; k < end; k += 1.0) {
    dot += this.constants.values[k] * x[this.constants.colIdx[k]];
  }
  return softplusOf(-this.constants.labels[r] * dot);
}

/** z_r = −b_r a_rᵀx for the rows of one shard (cells past `count` are 0): the imp-a first pass. */
export function shardLossArguments(this: KernelThis, x: number[], rowOffset: number, count: number): number {
  const t = this.thread.x;
  if (t >= count) {
    return 0.0;
  }
  const r = rowOffset + t;
  const start = this.constants.rowPtr[r];
  const end = this.constants.rowPtr[r + 1];
  let dot = 0.0;
  for (let k = start; k < end; k += 1.0) {
    dot += this.constants.values[k] * x[this.constants.colIdx[k]];
  }
  return -this.constants.labels[r] * dot;
}

// ---------------------------------------------------------------------------------------------
// Aᵀc. Column j of worker i is cell i·d + j; its entries are the CSC slice colPtr[i·d + j] …
// colPtr[i·d + j + 1] with global row indices, rows ascending (the reference's scatter order).
// Columns hold up to all N_i rows, and a float32 running sum of m terms errs by up to ~m·2^-24 of
// their magnitude (1.5e-4 measured on w8a with one worker): the sums run in blocks of 256 terms
// whose partial sums are then added, which bounds it by ~(256 + m/256)·2^-24 — a plain change of
// order that no compiler optimisation can undo (unlike compensated summation, whose correction
// term fast-math reassociation may delete).
// ---------------------------------------------------------------------------------------------

/** (A_iᵀ c)_j for every worker i and column j in one dispatch (output n·d). */
export function columnSums(this: KernelThis, c: number[]): number {
  const t = this.thread.x;
  const start = this.constants.colPtr[t];
  const end = this.constants.colPtr[t + 1];
  let sum = 0.0;
  for (let block = start; block < end; block += 256.0) {
    const stop = Math.min(block + 256.0, end);
    let part = 0.0;
    for (let k = block; k < stop; k += 1.0) {
      part += this.constants.cscValues[k] * c[this.constants.rowIdx[k]];
    }
    sum += part;
  }
  return sum;
}

/** (A_iᵀ c)_j for one worker (colBase = i·d); c holds that shard's rows from rowOffset on. */
export function shardColumnSums(this: KernelThis, c: number[], colBase: number, rowOffset: number): number {
  const t = colBase + this.thread.x;
  const start = this.constants.colPtr[t];
  const end = this.constants.colPtr[t + 1];
  let sum = 0.0;
  for (let block = start; block < end; block += 256.0) {
    const stop = Math.min(block + 256.0, end);
    let part = 0.0;
    for (let k = block; k < stop; k += 1.0) {
      part += this.constants.cscValues[k] * c[this.constants.rowIdx[k] - rowOffset];
    }
    sum += part;
  }
  return sum;
}

/**
 * imp-a, second pass: Σ over column j's rows of softplus(z_r) − softplus(z_r + u), u = b_r a_rj δ,
 * δ = η v_j (0 when δ = 0), as −log1p(σ(z_r)·expm1(u)) for |u| ≤ 1 so that small decreases keep
 * their relative accuracy (the reference's formula). z holds the shard's loss arguments.
 */
export function shardCoordinateDecrease(this: KernelThis, z: number[], v: number[], eta: number, colBase: number, rowOffset: number): number {
  const j = this.thread.x;
  const delta = eta * v[j];
  if (delta == 0.0) {
    return 0.0;
  }
  const t = colBase + j;
  const start = this.constants.colPtr[t];
  const end = this.constants.colPtr[t + 1];
  let sum = 0.0;
  for (let block = start; block < end; block += 256.0) {
    const stop = Math.min(block + 256.0, end);
    let part = 0.0;
    for (let k = block; k < stop; k += 1.0) {
      const r = this.constants.rowIdx[k];
      const p = z[r - rowOffset];
      const u = this.constants.labels[r] * this.constants.cscValues[k] * delta;
      if (u <= 1.0 && u >= -1.0) {
        part -= log1pAccurate(sigmoidOf(p) * expm1Accurate(u));
      } else {
        part += softplusOf(p) - softplusOf(p + u);
      }
    }
    sum += part;
  }
  return sum;
}

// The top-k threshold (a radix search over the key bits) is in topk-kernels.ts.
