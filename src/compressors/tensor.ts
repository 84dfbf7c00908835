/**
 * Small dense tensor kernels for the HOSVD compressor (spec §3): the default dims rule, the Gram
 * matrix of a mode-m unfolding, mode-m products, and eigensolvers for the small symmetric Gram
 * matrices (SymmetricEigen). Tensors are Float64Arrays in row-major order (last index fastest).
 * Nothing here allocates per call: callers pass preallocated buffers.
 */
import { OptionError } from '../core/options.js';

/** Π shape[l] for l in [from, to). */
export function productOf(shape: ArrayLike<number>, from = 0, to = shape.length): number {
  let p = 1;
  for (let l = from; l < to; l++) p *= shape[l];
  return p;
}

/** Smallest integer L ≥ 1 with L^order ≥ d, by integer checks (Math.cbrt/pow can be off by one ulp). */
export function ceilRoot(d: number, order: number): number {
  let L = Math.max(1, Math.round(Math.pow(d, 1 / order)));
  while (L > 1 && (L - 1) ** order >= d) L--;
  while (L ** order < d) L++;
  return L;
}

/**
 * The default HOSVD dims of spec §3: the most balanced tuple of `order` dims whose product is ≥ d.
 * Criteria in order: smallest largest dim (= ⌈d^{1/order}⌉), then the smallest product ≥ d, then the
 * lexicographically smallest ascending tuple. Returned ascending, e.g. 68 → [3, 5, 5].
 */
export function balancedDims(d: number, order = 3): number[] {
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`balancedDims: d must be a positive integer, got ${d}`);
  if (!Number.isInteger(order) || order < 1) throw new RangeError(`balancedDims: order must be a positive integer, got ${order}`);
  const L = ceilRoot(d, order);
  let best: number[] | undefined;
  let bestProduct = Infinity;
  const tuple = new Array<number>(order);
  // Depth-first over ascending tuples with entries ≤ L; the last entry is the smallest one that
  // reaches d. Ascending enumeration means the first tuple found with a given product is the
  // lexicographically smallest, so only a strictly smaller product replaces it.
  const visit = (pos: number, min: number, prod: number): void => {
    if (pos === order - 1) {
      const last = Math.max(min, Math.ceil(d / prod));
      // Math.ceil on a float quotient: correct it with integer checks.
      let c = last;
      while (c > min && (c - 1) * prod >= d) c--;
      while (c * prod < d) c++;
      if (c > L) return;
      const p = prod * c;
      if (p < bestProduct) {
        tuple[pos] = c;
        bestProduct = p;
        best = tuple.slice();
      }
      return;
    }
    for (let a = min; a <= L; a++) {
      // the remaining order-pos entries are each ≤ L: skip prefixes that cannot reach d
      if (prod * a * L ** (order - pos - 1) < d) continue;
      tuple[pos] = a;
      visit(pos + 1, a, prod * a);
    }
  };
  visit(0, 1, 1);
  return best!;
}

/** Parses and validates `--dims` against d: integers ≥ 1 whose product is ≥ d. */
export function validateDims(dims: readonly number[], d: number): number[] {
  if (dims.length === 0) throw new OptionError('dims', 'expected a comma-separated list of positive integers, e.g. 5,5,5');
  for (const n of dims) {
    if (!Number.isInteger(n) || n < 1) throw new OptionError('dims', `each dim must be an integer ≥ 1, got ${dims.join(',')}`);
  }
  const p = productOf(dims);
  if (p < d) throw new OptionError('dims', `the product of the dims (${dims.join('×')} = ${p}) must be ≥ d = ${d}`);
  return dims.slice();
}

/**
 * Validates `--ranks` for the given dims: one rank for every mode, or one per mode, each an integer
 * with 1 ≤ r_m ≤ I_m. Returns one rank per mode.
 */
export function validateRanks(ranks: readonly number[] | undefined, dims: readonly number[]): number[] {
  const accepted = dims.map((n, m) => `mode ${m + 1}: 1..${n}`).join(', ');
  if (ranks === undefined || ranks.length === 0) {
    throw new OptionError('ranks', `required by hosvd (one integer for all modes or one per mode; dims ${dims.join('×')} accept ${accepted})`);
  }
  if (ranks.length !== 1 && ranks.length !== dims.length) {
    throw new OptionError('ranks', `expected 1 or ${dims.length} values (one per mode of dims ${dims.join('×')}), got ${ranks.length}`);
  }
  const out = dims.map((_, m) => (ranks.length === 1 ? ranks[0] : ranks[m]));
  for (let m = 0; m < dims.length; m++) {
    const r = out[m];
    if (!Number.isInteger(r) || r < 1 || r > dims[m]) {
      throw new OptionError('ranks', `rank ${r} is out of range for mode ${m + 1}; accepted per mode: ${accepted}`);
    }
  }
  return out;
}

/**
 * out (n×n, row-major, n = shape[mode]) = X_(mode) X_(mode)ᵀ, the Gram matrix of the mode unfolding:
 * out[i][j] = Σ over all other indices of X[…i…]·X[…j…]. Costs Π shape · n / 2 multiply-adds.
 */
export function unfoldingGram(x: Float64Array, shape: ArrayLike<number>, mode: number, out: Float64Array): void {
  const n = shape[mode];
  const outer = productOf(shape, 0, mode);
  const inner = productOf(shape, mode + 1);
  out.fill(0, 0, n * n);
  if (inner >= n) {
    // long contiguous fibres: dot products of length `inner`
    for (let o = 0; o < outer; o++) {
      const base = o * n * inner;
      for (let i = 0; i < n; i++) {
        const bi = base + i * inner;
        for (let j = i; j < n; j++) {
          const bj = base + j * inner;
          let s = 0;
          for (let t = 0; t < inner; t++) s += x[bi + t] * x[bj + t];
          out[i * n + j] += s;
        }
      }
    }
  } else {
    // short fibres (the last modes): rank-one updates with the inner loop over j
    for (let o = 0; o < outer; o++) {
      const base = o * n * inner;
      for (let t = 0; t < inner; t++) {
        for (let i = 0; i < n; i++) {
          const xi = x[base + i * inner + t];
          if (xi === 0) continue;
          const row = i * n;
          for (let j = i; j < n; j++) out[row + j] += xi * x[base + j * inner + t];
        }
      }
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) out[i * n + j] = out[j * n + i];
}

/**
 * Mode-m product: output = input ×_mode M, where M is rows×n (row-major, n = shape[mode]):
 * output[o, q, t] = Σ_i M[q, i]·input[o, i, t]. The output has shape[mode] replaced by `rows`.
 * `input` and `output` must not overlap.
 */
export function modeProduct(
  input: Float64Array,
  shape: ArrayLike<number>,
  mode: number,
  matrix: Float64Array,
  rows: number,
  output: Float64Array,
): void {
  const n = shape[mode];
  const outer = productOf(shape, 0, mode);
  const inner = productOf(shape, mode + 1);
  if (inner === 1) {
    // last mode: contiguous dot products (and no per-fibre fill, which dominates at these sizes)
    for (let o = 0; o < outer; o++) {
      const inBase = o * n;
      const outBase = o * rows;
      for (let q = 0; q < rows; q++) {
        const mb = q * n;
        let s = 0;
        for (let i = 0; i < n; i++) s += matrix[mb + i] * input[inBase + i];
        output[outBase + q] = s;
      }
    }
    return;
  }
  output.fill(0, 0, outer * rows * inner);
  for (let o = 0; o < outer; o++) {
    const inBase = o * n * inner;
    const outBase = o * rows * inner;
    for (let q = 0; q < rows; q++) {
      const ob = outBase + q * inner;
      for (let i = 0; i < n; i++) {
        const mqi = matrix[q * n + i];
        if (mqi === 0) continue;
        const ib = inBase + i * inner;
        for (let t = 0; t < inner; t++) output[ob + t] += mqi * input[ib + t];
      }
    }
  }
}

/**
 * Symmetric eigensolver for small matrices (n ≤ a few dozen) by Householder tridiagonalisation
 * followed by the implicit QL iteration with Wilkinson shifts (the classic tred2/tql2 pair), every
 * buffer allocated once. Why not ml-matrix's EigenvalueDecomposition: it allocates Matrix objects and
 * arrays on every call, and HOSVD calls the solver m times per compressed vector, every iteration,
 * for every worker. Why not cyclic Jacobi (the first version of this solver): on the 5×5…30×30
 * Gram matrices of HOSVD it needs 5–8 sweeps of ≈ 3n³ flops each, while tridiagonalisation costs
 * ≈ (8/3)n³ and QL converges in one to two implicit steps per eigenvalue (measured: 1.2× faster at
 * n = 5, where the QL rotation chain is latency bound, 1.8× at n = 7, more for larger n). Both
 * are backward stable (eigenvalue errors ≤ cε‖A‖, eigenvector errors ≤ cε‖A‖/gap), and both give an
 * orthonormal basis even for repeated eigenvalues. ml-matrix is used in the tests as the reference.
 */
export class SymmetricEigen {
  /** Working copy of the matrix, then the accumulated transformations: row k = eigenvector k. */
  private readonly z: Float64Array;
  /** Householder vector scratch. */
  private readonly hv: Float64Array;
  private readonly hp: Float64Array;
  /** Diagonal and sub-diagonal of the tridiagonal matrix, then the (unsorted) eigenvalues. */
  private readonly diag: Float64Array;
  private readonly off: Float64Array;
  private readonly order: Int32Array;
  /** Eigenvalues in descending order (ties by the smaller unsorted index), valid after solve. */
  readonly values: Float64Array;
  /**
   * Eigenvectors, row-major n×n: vectors[i·n + j] = component i of the eigenvector of values[j].
   * Sign convention: the component of largest magnitude (smaller index on ties) is positive.
   */
  readonly vectors: Float64Array;
  /** Total QL iterations of the last solve (for tests and diagnostics). */
  iterations = 0;
  private n = 0;

  constructor(readonly capacity: number) {
    this.z = new Float64Array(capacity * capacity);
    this.hv = new Float64Array(capacity);
    this.hp = new Float64Array(capacity);
    this.diag = new Float64Array(capacity);
    this.off = new Float64Array(capacity);
    this.order = new Int32Array(capacity);
    this.values = new Float64Array(capacity);
    this.vectors = new Float64Array(capacity * capacity);
  }

  /** Size of the last solved matrix. */
  get size(): number {
    return this.n;
  }

  /**
   * Diagonalises the symmetric n×n matrix `matrix` (row-major; only read). All n eigenvalues are
   * computed; only the eigenvectors of the `leading` largest ones are written to `vectors` (columns
   * 0..leading−1; the other columns hold stale data).
   */
  solve(matrix: Float64Array, n: number, leading = n): void {
    if (n > this.capacity) throw new RangeError(`SymmetricEigen: matrix size ${n} exceeds capacity ${this.capacity}`);
    this.n = n;
    this.tridiagonalise(matrix, n);
    this.implicitQL(n);
    this.sortAndSign(n, Math.min(n, leading));
  }

  /**
   * A = Q T Qᵀ by Householder reflections H_k = I − β v vᵀ zeroing column k below the sub-diagonal.
   * The trailing block is updated as B ← B − v wᵀ − w vᵀ with p = βBv, w = p − (β vᵀp / 2) v.
   * On exit z holds Qᵀ (row i = column i of Q), diag/off the tridiagonal T (off[k] couples k, k+1).
   */
  private tridiagonalise(matrix: Float64Array, n: number): void {
    const a = this.vectors; // scratch: the working matrix (vectors is rewritten at the end)
    const q = this.z;
    const v = this.hv;
    const p = this.hp;
    const d = this.diag;
    const e = this.off;
    for (let i = 0; i < n * n; i++) a[i] = matrix[i];
    q.fill(0, 0, n * n);
    for (let i = 0; i < n; i++) q[i * n + i] = 1;
    for (let k = 0; k < n - 2; k++) {
      // x = A[k+1.., k]; reflect it onto α e_1 with α = −sign(x_0)‖x‖ (no cancellation in v_0)
      const m = n - k - 1;
      let sigma = 0;
      for (let j = 0; j < m; j++) {
        const xj = a[(k + 1 + j) * n + k];
        v[j] = xj;
        sigma += xj * xj;
      }
      d[k] = a[k * n + k];
      // ‖x‖² may have overflowed or underflowed: redo it on x / Σ|x_j|, and undo that scale at the end
      let scale = 1;
      if (!(sigma > 1e-280 && sigma < 1e280)) {
        scale = 0;
        for (let j = 0; j < m; j++) scale += Math.abs(v[j]);
        if (scale === 0) {
          // already tridiagonal in this column
          e[k] = 0;
          continue;
        }
        sigma = 0;
        for (let j = 0; j < m; j++) {
          const xj = v[j] / scale;
          v[j] = xj;
          sigma += xj * xj;
        }
      }
      const x0 = v[0];
      const alpha = x0 >= 0 ? -Math.sqrt(sigma) : Math.sqrt(sigma);
      e[k] = alpha * scale;
      v[0] = x0 - alpha;
      const vtv = sigma - x0 * x0 + v[0] * v[0];
      const beta = 2 / vtv;
      // p = β B v over the trailing block B = A[k+1.., k+1..] (full symmetric storage)
      let vtp = 0;
      for (let i = 0; i < m; i++) {
        const row = (k + 1 + i) * n + k + 1;
        let s = 0;
        for (let j = 0; j < m; j++) s += a[row + j] * v[j];
        s *= beta;
        p[i] = s;
        vtp += v[i] * s;
      }
      const K = 0.5 * beta * vtp;
      for (let i = 0; i < m; i++) p[i] -= K * v[i];
      for (let i = 0; i < m; i++) {
        const row = (k + 1 + i) * n + k + 1;
        const vi = v[i];
        const wi = p[i];
        for (let j = 0; j < m; j++) a[row + j] -= vi * p[j] + wi * v[j];
      }
      // Q ← Q H_k: columns k+1.. of Q are rows k+1.. of Qᵀ
      for (let c = 0; c < n; c++) {
        let s = 0;
        for (let j = 0; j < m; j++) s += q[(k + 1 + j) * n + c] * v[j];
        if (s === 0) continue;
        s *= beta;
        for (let j = 0; j < m; j++) q[(k + 1 + j) * n + c] -= s * v[j];
      }
    }
    if (n >= 2) {
      d[n - 2] = a[(n - 2) * n + n - 2];
      e[n - 2] = a[(n - 1) * n + n - 2];
    }
    d[n - 1] = a[(n - 1) * n + n - 1];
    e[n - 1] = 0;
  }

  /**
   * Implicit QL with Wilkinson shifts on T (diag, off), applying every Givens rotation to the
   * accumulated basis (rows of z). An off-diagonal entry is negligible once adding it to the sum of
   * its two diagonal neighbours changes nothing.
   */
  private implicitQL(n: number): void {
    const d = this.diag;
    const e = this.off;
    const z = this.z;
    let iterations = 0;
    for (let l = 0; l < n; l++) {
      for (let iter = 0; ; iter++) {
        let m = l;
        for (; m < n - 1; m++) {
          const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
          if (Math.abs(e[m]) + dd === dd) break;
        }
        if (m === l) break;
        if (iter === 60) throw new Error('SymmetricEigen: QL iteration did not converge');
        iterations++;
        // Wilkinson shift from the leading 2×2 block, folded into the first rotation's g
        let g = (d[l + 1] - d[l]) / (2 * e[l]);
        let r = hypot(g, 1);
        g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
        let s = 1;
        let c = 1;
        let p = 0;
        let i = m - 1;
        for (; i >= l; i--) {
          const f = s * e[i];
          const b = c * e[i];
          r = hypot(f, g);
          e[i + 1] = r;
          if (r === 0) {
            // underflow: the chase splits the matrix here; undo the shift on d[i+1] and retry
            d[i + 1] -= p;
            e[m] = 0;
            break;
          }
          s = f / r;
          c = g / r;
          g = d[i + 1] - p;
          r = (d[i] - g) * s + 2 * c * b;
          p = s * r;
          d[i + 1] = g + p;
          g = c * r - b;
          const zi = i * n;
          const zj = zi + n;
          for (let k = 0; k < n; k++) {
            const fz = z[zj + k];
            const gz = z[zi + k];
            z[zj + k] = s * gz + c * fz;
            z[zi + k] = c * gz - s * fz;
          }
        }
        if (r === 0 && i >= l) continue;
        d[l] -= p;
        e[l] = g;
        e[m] = 0;
      }
    }
    this.iterations = iterations;
  }

  private sortAndSign(n: number, leading: number): void {
    const d = this.diag;
    const z = this.z;
    // Sort descending by eigenvalue (insertion sort, n is small), ties by the smaller unsorted index.
    const ord = this.order;
    for (let j = 0; j < n; j++) ord[j] = j;
    for (let j = 1; j < n; j++) {
      const cur = ord[j];
      const val = d[cur];
      let i = j - 1;
      while (i >= 0 && d[ord[i]] < val) {
        ord[i + 1] = ord[i];
        i--;
      }
      ord[i + 1] = cur;
    }
    const vals = this.values;
    const vecs = this.vectors;
    for (let j = 0; j < n; j++) vals[j] = d[ord[j]];
    for (let j = 0; j < leading; j++) {
      const src = ord[j] * n;
      // deterministic sign: the largest-magnitude component positive (smaller index on ties)
      let big = 0;
      let bigAbs = -1;
      for (let i = 0; i < n; i++) {
        const m = Math.abs(z[src + i]);
        if (m > bigAbs) {
          bigAbs = m;
          big = i;
        }
      }
      const sign = z[src + big] < 0 ? -1 : 1;
      for (let i = 0; i < n; i++) vecs[i * n + j] = sign * z[src + i];
    }
  }
}

/** √(a² + b²), without Math.hypot's overhead when neither square can overflow or underflow. */
function hypot(a: number, b: number): number {
  const s = a * a + b * b;
  if (s > 1e-290 && s < 1e290) return Math.sqrt(s);
  return Math.hypot(a, b);
}
