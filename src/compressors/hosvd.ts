/**
 * Truncated HOSVD compressor (seed 001; spec §3). x is zero-padded to Π I_m, reshaped row-major to
 * I_1×…×I_m, each mode's factor U_m is the r_m leading left singular vectors of the mode-m unfolding
 * (= leading eigenvectors of its I_m×I_m Gram matrix, by our allocation-free tridiagonal QL solver,
 * see tensor.ts), the core is G = X ×₁ U_1ᵀ … ×_m U_mᵀ and C(x) is the first d entries of
 * G ×₁ U_1 … ×_m U_m. The wire carries the core and the factors: F·(Π r_m + Σ I_m r_m) bits; the
 * message's dense `values` is the receiver's reconstruction C(x).
 *
 * C(x) = (U_1U_1ᵀ ⊗ … ⊗ U_mU_mᵀ) x is an orthogonal projection of x (the factors depend on x), so
 * flipping the sign of any singular vector leaves it unchanged and ‖C(x)‖ ≤ ‖x‖.
 */
import type { Compressor, CompressorOptions, CompressorSpec, CompressContext, WireMessage } from './types.js';
import { DIMS_OPTION, RANKS_OPTION } from './options.js';
import { SymmetricEigen, balancedDims, modeProduct, productOf, unfoldingGram, validateDims, validateRanks } from './tensor.js';

export class HosvdCompressor implements Compressor {
  readonly name = 'hosvd';
  readonly dims: readonly number[];
  readonly ranks: readonly number[];
  private readonly padded: Float64Array;
  private readonly bufA: Float64Array;
  private readonly bufB: Float64Array;
  private readonly gram: Float64Array;
  private readonly eigen: SymmetricEigen;
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
    this.eigen = new SymmetricEigen(maxDim);
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
    return this.dims.length === 3 ? this.compressOrder3(v) : this.compressGeneric(v);
  }

  /**
   * The default order 3 with direct triple loops (no stride arithmetic, no per-fibre calls): the same
   * Gram matrices, factors, core and reconstruction as compressGeneric, in the same summation order
   * up to the association of the mode products.
   */
  private compressOrder3(v: Float64Array): WireMessage {
    const d = this.d;
    const A = this.dims[0];
    const B = this.dims[1];
    const C = this.dims[2];
    const BC = B * C;
    const X = this.padded;
    // entries d..ABC are the zero padding and are never written
    for (let i = 0; i < d; i++) X[i] = v[i];
    const gram = this.gram;

    // mode 1: G[a][a'] = ⟨slab a, slab a'⟩ over contiguous slabs of length BC
    for (let a = 0; a < A; a++) {
      const sa = a * BC;
      for (let a2 = a; a2 < A; a2++) {
        const sb = a2 * BC;
        // two accumulators halve the dependency chain of the sum (the loops are latency bound)
        let s0 = 0;
        let s1 = 0;
        let t = 0;
        for (; t + 1 < BC; t += 2) {
          s0 += X[sa + t] * X[sb + t];
          s1 += X[sa + t + 1] * X[sb + t + 1];
        }
        if (t < BC) s0 += X[sa + t] * X[sb + t];
        const s = s0 + s1;
        gram[a * A + a2] = s;
        gram[a2 * A + a] = s;
      }
    }
    this.setFactor(0, A);

    // mode 2: G[b][b'] = Σ_a ⟨row (a,b), row (a,b')⟩ over contiguous rows of length C, accumulated
    // in a register (a memory accumulator would chain every update through a store and a load)
    for (let b = 0; b < B; b++) {
      for (let b2 = b; b2 < B; b2++) {
        let s0 = 0;
        let s1 = 0;
        let a = 0;
        for (; a + 1 < A; a += 2) {
          const rb = a * BC + b * C;
          const rb2 = a * BC + b2 * C;
          for (let c = 0; c < C; c++) {
            s0 += X[rb + c] * X[rb2 + c];
            s1 += X[rb + BC + c] * X[rb2 + BC + c];
          }
        }
        if (a < A) {
          const rb = a * BC + b * C;
          const rb2 = a * BC + b2 * C;
          for (let c = 0; c < C; c++) s0 += X[rb + c] * X[rb2 + c];
        }
        const s = s0 + s1;
        gram[b * B + b2] = s;
        gram[b2 * B + b] = s;
      }
    }
    this.setFactor(1, B);

    // mode 3: G[c][c'] = Σ over the A·B rows of row[c]·row[c'] (strided dot products)
    const rowsAB = A * B;
    for (let c = 0; c < C; c++) {
      for (let c2 = c; c2 < C; c2++) {
        let s0 = 0;
        let s1 = 0;
        let row = 0;
        for (; row + 1 < rowsAB; row += 2) {
          s0 += X[row * C + c] * X[row * C + c2];
          s1 += X[row * C + C + c] * X[row * C + C + c2];
        }
        if (row < rowsAB) s0 += X[row * C + c] * X[row * C + c2];
        const s = s0 + s1;
        gram[c * C + c2] = s;
        gram[c2 * C + c] = s;
      }
    }
    this.setFactor(2, C);

    const r0 = this.ranks[0];
    const r1 = this.ranks[1];
    const r2 = this.ranks[2];
    const U0 = this.factors[0];
    const U1 = this.factors[1];
    const U2 = this.factors[2];
    const t1 = this.bufA;
    const t2 = this.bufB;

    // core: contract mode 3, then 2, then 1. t1[a][b][k] = Σ_c X[a][b][c]·U2[c][k]
    // (innermost loop over the rows: independent updates instead of one short dependent sum)
    for (let k = 0; k < r2; k++) {
      const u0 = U2[k];
      for (let row = 0; row < rowsAB; row++) t1[row * r2 + k] = X[row * C] * u0;
      for (let c = 1; c < C; c++) {
        const u = U2[c * r2 + k];
        for (let row = 0; row < rowsAB; row++) t1[row * r2 + k] += X[row * C + c] * u;
      }
    }
    // t2[a][j][k] = Σ_b U1[b][j]·t1[a][b][k]
    const r12 = r1 * r2;
    for (let a = 0; a < A; a++) {
      const ib = a * B * r2;
      const ob = a * r12;
      for (let j = 0; j < r1; j++) {
        for (let k = 0; k < r2; k++) {
          let s = 0;
          for (let b = 0; b < B; b++) s += U1[b * r1 + j] * t1[ib + b * r2 + k];
          t2[ob + j * r2 + k] = s;
        }
      }
    }
    // core[i][jk] = Σ_a U0[a][i]·t2[a][jk]  (into bufA: t1 is no longer needed)
    const core = this.bufA;
    for (let i = 0; i < r0; i++) {
      const ob = i * r12;
      for (let jk = 0; jk < r12; jk++) {
        let s = 0;
        for (let a = 0; a < A; a++) s += U0[a * r0 + i] * t2[a * r12 + jk];
        core[ob + jk] = s;
      }
    }

    // reconstruction: expand mode 3, then 2, then 1. s1[i][j][c] = Σ_k core[i][j][k]·U2[c][k]
    const s1 = this.bufB;
    const r01 = r0 * r1;
    for (let ij = 0; ij < r01; ij++) {
      const ib = ij * r2;
      const ob = ij * C;
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let k = 0; k < r2; k++) s += core[ib + k] * U2[c * r2 + k];
        s1[ob + c] = s;
      }
    }
    // s2[i][b][c] = Σ_j U1[b][j]·s1[i][j][c]  (into bufA: the core is no longer needed)
    const s2 = this.bufA;
    for (let i = 0; i < r0; i++) {
      const ib = i * r1 * C;
      const ob = i * BC;
      for (let b = 0; b < B; b++) {
        const dst = ob + b * C;
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let j = 0; j < r1; j++) s += U1[b * r1 + j] * s1[ib + j * C + c];
          s2[dst + c] = s;
        }
      }
    }
    // out[a][bc] = Σ_i U0[a][i]·s2[i][bc], only the first d entries
    const out = this.message.values;
    for (let a = 0; a < A; a++) {
      const base = a * BC;
      if (base >= d) break;
      const lim = Math.min(BC, d - base);
      const u0 = U0[a * r0];
      for (let t = 0; t < lim; t++) out[base + t] = u0 * s2[t];
      for (let i = 1; i < r0; i++) {
        const u = U0[a * r0 + i];
        const sb = i * BC;
        for (let t = 0; t < lim; t++) out[base + t] += u * s2[sb + t];
      }
    }
    return this.message;
  }

  /** U_m (and U_mᵀ) = the r_m leading eigenvectors of the n×n Gram matrix in this.gram. */
  private setFactor(m: number, n: number): void {
    const r = this.ranks[m];
    this.eigen.solve(this.gram, n, r);
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

  /** Any order, with the generic strided kernels of tensor.ts. */
  private compressGeneric(v: Float64Array): WireMessage {
    const d = this.d;
    const dims = this.dims;
    const ranks = this.ranks;
    const order = dims.length;
    const X = this.padded;
    // entries d..Π I_m are the zero padding and are never written
    for (let i = 0; i < d; i++) X[i] = v[i];

    // Factors: r_m leading eigenvectors of X_(m) X_(m)ᵀ (their signs do not affect C(x)).
    for (let m = 0; m < order; m++) {
      unfoldingGram(X, dims, m, this.gram);
      this.setFactor(m, dims[m]);
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
  options: [RANKS_OPTION, DIMS_OPTION],
  bitsFormula: 'F·(Π r_m + Σ I_m r_m)',
  needsObjective: false,
  randomized: false,
  // No theory step and no known class constants: the contraction depends on x (spec §4).
  create(options: CompressorOptions): Compressor {
    const dims = hosvdDims(options.d, options.values.dims as readonly number[] | undefined);
    const ranks = validateRanks(options.values.ranks as readonly number[] | undefined, dims);
    return new HosvdCompressor(options.d, dims, ranks, options.floatBits);
  },
};
