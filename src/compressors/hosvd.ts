/**
 * Truncated HOSVD compressor (seed 001; spec §3). x is zero-padded to Π I_m, reshaped row-major to
 * I_1×…×I_m, each mode's factor U_m is the r_m leading left singular vectors of the mode-m unfolding
 * (= leading eigenvectors of its I_m×I_m Gram matrix, by our allocation-free Jacobi solver, see
 * tensor.ts), the core is G = X ×₁ U_1ᵀ … ×_m U_mᵀ and C(x) is the first d entries of
 * G ×₁ U_1 … ×_m U_m. The wire carries the core and the factors: F·(Π r_m + Σ I_m r_m) bits; the
 * message's dense `values` is the receiver's reconstruction C(x).
 *
 * C(x) = (U_1U_1ᵀ ⊗ … ⊗ U_mU_mᵀ) x is an orthogonal projection of x (the factors depend on x), so
 * flipping the sign of any singular vector leaves it unchanged and ‖C(x)‖ ≤ ‖x‖.
 */
import type { Compressor, CompressorOptions, CompressorSpec, CompressContext, WireMessage } from './types.js';
import { JacobiEigen, balancedDims, modeProduct, productOf, unfoldingGram, validateDims, validateRanks } from './tensor.js';

export class HosvdCompressor implements Compressor {
  readonly name = 'hosvd';
  readonly dims: readonly number[];
  readonly ranks: readonly number[];
  private readonly padded: Float64Array;
  private readonly bufA: Float64Array;
  private readonly bufB: Float64Array;
  private readonly gram: Float64Array;
  private readonly eigen: JacobiEigen;
  /** U_m (I_m×r_m, row-major) and U_mᵀ (r_m×I_m) per mode, rewritten on every call. */
  private readonly factors: Float64Array[];
  private readonly factorsT: Float64Array[];
  private readonly shape: Int32Array;
  private readonly message: WireMessage;

  constructor(readonly d: number, dims: readonly number[], ranks: readonly number[], floatBits: number) {
    this.dims = dims.slice();
    this.ranks = ranks.slice();
    const size = productOf(dims);
    const maxDim = Math.max(...dims);
    this.padded = new Float64Array(size);
    this.bufA = new Float64Array(size);
    this.bufB = new Float64Array(size);
    this.gram = new Float64Array(maxDim * maxDim);
    this.eigen = new JacobiEigen(maxDim);
    this.factors = dims.map((n, m) => new Float64Array(n * ranks[m]));
    this.factorsT = dims.map((n, m) => new Float64Array(n * ranks[m]));
    this.shape = new Int32Array(dims.length);
    let sumIr = 0;
    for (let m = 0; m < dims.length; m++) sumIr += dims[m] * ranks[m];
    this.message = {
      format: 'dense',
      nnz: d,
      indices: new Int32Array(0),
      values: new Float64Array(d),
      bits: floatBits * (productOf(ranks) + sumIr),
    };
  }

  /** U_m (I_m×r_m, row-major) from the last call, for tests and diagnostics. */
  factor(mode: number): Float64Array {
    return this.factors[mode];
  }

  compress(v: Float64Array, _ctx?: CompressContext): WireMessage {
    const d = this.d;
    const dims = this.dims;
    const ranks = this.ranks;
    const order = dims.length;
    const X = this.padded;
    // entries d..Π I_m are the zero padding and are never written
    for (let i = 0; i < d; i++) X[i] = v[i];

    // Factors: r_m leading eigenvectors of X_(m) X_(m)ᵀ (their signs do not affect C(x)).
    for (let m = 0; m < order; m++) {
      const n = dims[m];
      const r = ranks[m];
      unfoldingGram(X, dims, m, this.gram);
      this.eigen.solve(this.gram, n);
      const vecs = this.eigen.vectors;
      const U = this.factors[m];
      const Ut = this.factorsT[m];
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < r; j++) {
          const u = vecs[i * n + j];
          U[i * r + j] = u;
          Ut[j * n + i] = u;
        }
      }
    }

    // Core G = X ×₁ U_1ᵀ … ×_m U_mᵀ, then G ×₁ U_1 … ×_m U_m; ping-pong between two buffers.
    const shape = this.shape;
    for (let m = 0; m < order; m++) shape[m] = dims[m];
    let src = X;
    let dst = this.bufA;
    for (let m = 0; m < order; m++) {
      modeProduct(src, shape, m, this.factorsT[m], ranks[m], dst);
      shape[m] = ranks[m];
      src = dst;
      dst = src === this.bufA ? this.bufB : this.bufA;
    }
    for (let m = 0; m < order; m++) {
      modeProduct(src, shape, m, this.factors[m], dims[m], dst);
      shape[m] = dims[m];
      src = dst;
      dst = src === this.bufA ? this.bufB : this.bufA;
    }
    const out = this.message.values;
    for (let i = 0; i < d; i++) out[i] = src[i];
    return this.message;
  }
}

/** Dims actually used for dimension d: `--dims` validated, or the balanced order-3 default of §3. */
export function hosvdDims(d: number, dims?: readonly number[]): number[] {
  return dims !== undefined ? validateDims(dims, d) : balancedDims(d, 3);
}

export const hosvdSpec: CompressorSpec = {
  name: 'hosvd',
  description: 'truncated HOSVD of x reshaped to a tensor (--dims, default the most balanced order-3 dims) at multilinear ranks --ranks',
  params: ['ranks', 'dims'],
  bitsFormula: 'F·(Π r_m + Σ I_m r_m)',
  requiresK: false,
  needsObjective: false,
  randomized: false,
  // No theory step and no known class constants: the contraction depends on x (spec §4).
  create(options: CompressorOptions): Compressor {
    const dims = hosvdDims(options.d, options.dims);
    const ranks = validateRanks(options.ranks, dims);
    return new HosvdCompressor(options.d, dims, ranks, options.floatBits);
  },
};
