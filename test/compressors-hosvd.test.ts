import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix, SingularValueDecomposition, EigenvalueDecomposition } from 'ml-matrix';
import { hosvdSpec, HosvdCompressor } from '../src/compressors/hosvd.js';
import { SymmetricEigen, balancedDims, ceilRoot, modeProduct } from '../src/compressors/tensor.js';
import { createRng, type Rng } from '../src/core/rng.js';
import { UsageError } from '../src/core/errors.js';
import type { CompressContext } from '../src/compressors/types.js';

// hosvd ignores the context; the compressor interface still takes one.
const ctx = {} as CompressContext;

function randomVector(rng: Rng, d: number): Float64Array {
  const x = new Float64Array(d);
  for (let i = 0; i < d; i++) x[i] = rng.normal();
  return x;
}

function norm(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

function dot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s) / Math.max(norm(b), 1e-300);
}

function make(d: number, ranks: number[], dims?: number[], floatBits = 32): HosvdCompressor {
  return hosvdSpec.create({ d, floatBits, rng: createRng(0, 'unused'), values: { ranks: ranks, dims: dims } }) as HosvdCompressor;
}

/** Mode-m unfolding (I_m × rest) of a row-major tensor, as an ml-matrix Matrix (independent of tensor.ts). */
function unfold(t: Float64Array, dims: number[], m: number): Matrix {
  const P = t.length;
  const rows = dims[m];
  const out = new Matrix(rows, P / rows);
  const colCount = new Array<number>(rows).fill(0);
  const idx = new Array<number>(dims.length).fill(0);
  for (let flat = 0; flat < P; flat++) {
    let rem = flat;
    for (let l = dims.length - 1; l >= 0; l--) {
      idx[l] = rem % dims[l];
      rem = Math.floor(rem / dims[l]);
    }
    const i = idx[m];
    out.set(i, colCount[i]++, t[flat]);
  }
  return out;
}

/** Reference HOSVD by ml-matrix SVDs and explicit projectors P_m = U_m U_mᵀ applied per mode. */
function referenceHosvd(x: Float64Array, dims: number[], ranks: number[]): Float64Array {
  const P = dims.reduce((a, b) => a * b, 1);
  let t = new Float64Array(P);
  t.set(x);
  // every factor comes from the original tensor X, then the projectors are applied mode by mode
  const X = t.slice();
  const projectors: Matrix[] = [];
  for (let m = 0; m < dims.length; m++) {
    const A = unfold(X, dims, m);
    // SVD of the tall transpose: its right singular vectors are A's left singular vectors
    const svd = new SingularValueDecomposition(A.transpose());
    const V = svd.rightSingularVectors.subMatrix(0, dims[m] - 1, 0, ranks[m] - 1);
    projectors.push(V.mmul(V.transpose()));
  }
  for (let m = 0; m < dims.length; m++) {
    const next = new Float64Array(P);
    modeProductReference(t, dims, m, projectors[m], next);
    t = next;
  }
  return t.slice(0, x.length);
}

/** out = t ×_m M by explicit multi-index arithmetic (independent of tensor.ts's strided loops). */
function modeProductReference(t: Float64Array, dims: number[], m: number, M: Matrix, out: Float64Array): void {
  const strides = dims.map((_, l) => dims.slice(l + 1).reduce((a, b) => a * b, 1));
  for (let flat = 0; flat < t.length; flat++) {
    const im = Math.floor(flat / strides[m]) % dims[m];
    const baseFlat = flat - im * strides[m];
    let s = 0;
    for (let j = 0; j < dims[m]; j++) s += M.get(im, j) * t[baseFlat + j * strides[m]];
    out[flat] = s;
  }
}

/** Q (n×r) with orthonormal columns from a random Gaussian matrix (modified Gram–Schmidt, twice). */
function randomOrthonormal(rng: Rng, n: number, r: number): Float64Array {
  const q = new Float64Array(n * r);
  for (let i = 0; i < n * r; i++) q[i] = rng.normal();
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < r; j++) {
      for (let k = 0; k < j; k++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += q[i * r + j] * q[i * r + k];
        for (let i = 0; i < n; i++) q[i * r + j] -= s * q[i * r + k];
      }
      let s = 0;
      for (let i = 0; i < n; i++) s += q[i * r + j] ** 2;
      s = Math.sqrt(s);
      for (let i = 0; i < n; i++) q[i * r + j] /= s;
    }
  }
  return q;
}

test('default dims are the most balanced order-3 tuple: 112→5×5×5, 68→3×5×5, 20958→27×28×28, 123→5×5×5, 300→7×7×7', () => {
  assert.deepEqual(balancedDims(112), [5, 5, 5]);
  assert.deepEqual(balancedDims(68), [3, 5, 5]);
  assert.deepEqual(balancedDims(20958), [27, 28, 28]);
  assert.deepEqual(balancedDims(123), [5, 5, 5]);
  assert.deepEqual(balancedDims(300), [7, 7, 7]);
  assert.deepEqual(balancedDims(1), [1, 1, 1]);
  // 9: largest dim 3 forced (2³ = 8 < 9), and 1·3·3 = 9 is the smallest product ≥ 9
  assert.deepEqual(balancedDims(9), [1, 3, 3]);
});

test('default dims agree with a brute-force search over all triples for d = 1..600', () => {
  for (let d = 1; d <= 600; d++) {
    let best: number[] | undefined;
    // 9³ = 729 ≥ 600, so no triple with a dim above 9 can be the most balanced
    for (let a = 1; a <= 9; a++)
      for (let b = a; b <= 9; b++)
        for (let c = b; c <= 9; c++) {
          if (a * b * c < d) continue;
          const cand = [a, b, c];
          if (!best) { best = cand; continue; }
          const key = (t: number[]) => [t[2], t[0] * t[1] * t[2], t[0], t[1], t[2]];
          const kc = key(cand), kb = key(best);
          for (let i = 0; i < kc.length; i++) {
            if (kc[i] !== kb[i]) { if (kc[i] < kb[i]) best = cand; break; }
          }
        }
    assert.deepEqual(balancedDims(d), best, `d = ${d}`);
  }
});

test('the integer cube root is exact at and next to perfect cubes, where floating point cbrt can be off by one', () => {
  for (let n = 1; n <= 3000; n++) {
    assert.equal(ceilRoot(n ** 3, 3), n);
    assert.equal(ceilRoot(n ** 3 + 1, 3), n + 1);
    if (n > 1) assert.equal(ceilRoot(n ** 3 - 1, 3), n);
  }
  for (const n of [99999, 100000, 208063]) {
    assert.equal(ceilRoot(n ** 3, 3), n);
    assert.equal(ceilRoot(n ** 3 + 1, 3), n + 1);
  }
});

test('the eigensolver matches ml-matrix on random symmetric matrices: A·v = λ·v, orthonormal, descending, largest component positive', () => {
  const rng = createRng(7, 'jacobi');
  const solver = new SymmetricEigen(30);
  for (const n of [1, 2, 3, 5, 12, 30]) {
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
    solver.solve(a, n);
    const ref = new EigenvalueDecomposition(new Matrix(Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, i * n + n)))), { assumeSymmetric: true });
    const refVals = ref.realEigenvalues.slice().sort((p, q) => q - p);
    const scale = Math.max(...refVals.map(Math.abs));
    for (let j = 0; j < n; j++) {
      assert.ok(Math.abs(solver.values[j] - refVals[j]) <= 1e-13 * scale, `n=${n} λ${j}`);
      if (j > 0) assert.ok(solver.values[j] <= solver.values[j - 1]);
      let big = 0;
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let k = 0; k < n; k++) av += a[i * n + k] * solver.vectors[k * n + j];
        assert.ok(Math.abs(av - solver.values[j] * solver.vectors[i * n + j]) <= 1e-13 * scale);
        if (Math.abs(solver.vectors[i * n + j]) > Math.abs(solver.vectors[big * n + j])) big = i;
      }
      assert.ok(solver.vectors[big * n + j] > 0, 'sign convention');
      for (let k = 0; k <= j; k++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += solver.vectors[i * n + j] * solver.vectors[i * n + k];
        assert.ok(Math.abs(s - (j === k ? 1 : 0)) <= 1e-14, `orthonormality n=${n}`);
      }
    }
  }
});

test('full ranks reproduce x to 1e-12 relative, with zero padding, unbalanced dims and order 2 and 4', () => {
  const rng = createRng(1, 'full');
  const cases: { d: number; dims?: number[] }[] = [
    { d: 112 }, // 5×5×5, 13 padded zeros
    { d: 125 },
    { d: 68 },
    { d: 300 },
    { d: 20, dims: [4, 5] },
    { d: 30, dims: [2, 3, 5] },
    { d: 100, dims: [2, 3, 4, 5] },
    { d: 1 },
  ];
  for (const { d, dims } of cases) {
    const used = dims ?? balancedDims(d);
    const c = make(d, used, dims);
    const x = randomVector(rng, d);
    const out = c.compress(x, ctx);
    assert.equal(out.format, 'dense');
    assert.equal(out.values.length, d);
    assert.ok(relDiff(out.values, x) <= 1e-12, `d=${d} dims=${used} rel err ${relDiff(out.values, x)}`);
  }
});

test('a tensor of exact multilinear rank (2,3,2) is reproduced to 1e-10 at ranks (2,3,2), and not at smaller ranks', () => {
  const rng = createRng(2, 'lowrank');
  const dims = [5, 6, 7];
  const ranks = [2, 3, 2];
  const core = randomVector(rng, ranks[0] * ranks[1] * ranks[2]);
  let t = core;
  const shape = ranks.slice();
  for (let m = 0; m < 3; m++) {
    const U = randomOrthonormal(rng, dims[m], ranks[m]);
    const next = new Float64Array((t.length / shape[m]) * dims[m]);
    modeProduct(t, shape, m, U, dims[m], next);
    shape[m] = dims[m];
    t = next;
  }
  const x = t; // d = 210 = Π dims, no padding
  const out = make(x.length, ranks, dims).compress(x, ctx);
  assert.ok(relDiff(out.values, x) <= 1e-10, `rel err ${relDiff(out.values, x)}`);
  const truncated = make(x.length, [2, 2, 2], dims).compress(x, ctx);
  assert.ok(relDiff(truncated.values, x) > 1e-3, 'rank (2,2,2) cannot hold a rank-3 mode');
});

test('C(x) matches an independent HOSVD built from ml-matrix SVDs and explicit projectors', () => {
  const rng = createRng(3, 'reference');
  const cases: { d: number; ranks: number[]; dims?: number[] }[] = [
    { d: 112, ranks: [2] },
    { d: 112, ranks: [1, 3, 2] },
    { d: 123, ranks: [3] },
    { d: 300, ranks: [2, 5, 4] },
    { d: 60, ranks: [2, 1, 3, 2], dims: [2, 3, 3, 4] },
  ];
  for (const { d, ranks, dims } of cases) {
    const used = dims ?? balancedDims(d);
    const x = randomVector(rng, d);
    const out = make(d, ranks, dims).compress(x, ctx);
    const ref = referenceHosvd(x, used, ranks.length === 1 ? used.map(() => ranks[0]) : ranks);
    assert.ok(relDiff(out.values, ref) <= 1e-10, `d=${d} ranks=${ranks}: ${relDiff(out.values, ref)}`);
  }
});

test('C is invariant to the signs of the singular vectors: C(−x) = −C(x), C(c·x) = c·C(x), flipped factor columns reconstruct the same C(x)', () => {
  const rng = createRng(4, 'signs');
  const d = 112;
  const dims = balancedDims(d);
  const c = make(d, [2]);
  const x = randomVector(rng, d);
  const cx = Float64Array.from(c.compress(x, ctx).values);
  // the Gram matrices of −x equal those of x exactly, so the result is the exact negation
  const neg = Float64Array.from(x, (v) => -v);
  assert.deepEqual(Array.from(c.compress(neg, ctx).values), Array.from(cx, (v) => -v));
  for (const scale of [3.7, -0.01, 1e6]) {
    const sx = Float64Array.from(x, (v) => scale * v);
    const out = c.compress(sx, ctx).values;
    assert.ok(relDiff(out, Float64Array.from(cx, (v) => scale * v)) <= 1e-12, `scale ${scale}`);
  }
  // reconstruct with the factors of x, once as computed and once with every other column negated
  c.compress(x, ctx);
  const factors = dims.map((_, m) => Float64Array.from(c.factor(m)));
  const reconstruct = (fs: Float64Array[]): Float64Array => {
    let t = new Float64Array(125);
    t.set(x);
    const shape = dims.slice();
    for (let m = 0; m < 3; m++) {
      const Ut = new Float64Array(2 * dims[m]);
      for (let i = 0; i < dims[m]; i++) for (let j = 0; j < 2; j++) Ut[j * dims[m] + i] = fs[m][i * 2 + j];
      const next = new Float64Array((t.length / shape[m]) * 2);
      modeProduct(t, shape, m, Ut, 2, next);
      shape[m] = 2;
      t = next;
    }
    for (let m = 0; m < 3; m++) {
      const next = new Float64Array((t.length / shape[m]) * dims[m]);
      modeProduct(t, shape, m, fs[m], dims[m], next);
      shape[m] = dims[m];
      t = next;
    }
    return t.slice(0, d);
  };
  const flipped = factors.map((f) => Float64Array.from(f, (v, idx) => (idx % 2 === 0 ? -v : v)));
  assert.ok(relDiff(reconstruct(factors), cx) <= 1e-14);
  assert.ok(relDiff(reconstruct(flipped), cx) <= 1e-14);
});

test('C(x) is an orthogonal projection of the padded x: ‖C(x)‖ ≤ ‖x‖ and ⟨C(x), x⟩ ≥ ‖C(x)‖² (equality without padding)', () => {
  const rng = createRng(5, 'projection');
  for (const [d, r] of [[112, 1], [112, 3], [125, 2], [300, 4]] as const) {
    const c = make(d, [r]);
    for (let rep = 0; rep < 5; rep++) {
      const x = randomVector(rng, d);
      const cx = c.compress(x, ctx).values;
      const n2 = dot(cx, cx);
      const inner = dot(cx, x);
      assert.ok(n2 <= dot(x, x) * (1 + 1e-12));
      assert.ok(inner >= n2 * (1 - 1e-12), `d=${d}`);
      if (d === 125) assert.ok(Math.abs(inner - n2) <= 1e-12 * n2);
    }
  }
});

test('without padding C is idempotent: the reconstruction has multilinear rank ≤ r, so its own leading subspaces reproduce it', () => {
  const rng = createRng(6, 'idempotent');
  const c = make(125, [2, 3, 1]);
  const x = randomVector(rng, 125);
  const once = Float64Array.from(c.compress(x, ctx).values);
  const twice = c.compress(once, ctx).values;
  assert.ok(relDiff(twice, once) <= 1e-10);
});

test('bits are F·(Π r_m + Σ I_m r_m): 5×5×5 at rank 2 with F=32 is 1216, 3×5×8 at ranks (1,2,3) with F=64 is 2752', () => {
  assert.equal(make(112, [2]).compress(new Float64Array(112).fill(1), ctx).bits, 32 * (8 + 3 * 10));
  assert.equal(make(112, [2]).compress(new Float64Array(112).fill(1), ctx).bits, 1216);
  assert.equal(make(120, [1, 2, 3], [3, 5, 8], 64).compress(new Float64Array(120).fill(1), ctx).bits, 2752);
});

test('the zero vector compresses to zero, the input is not modified, and the message buffer is reused', () => {
  const c = make(68, [2]);
  const zero = new Float64Array(68);
  const m1 = c.compress(zero, ctx);
  assert.ok(m1.values.every((v) => v === 0));
  const x = randomVector(createRng(8, 'x'), 68);
  const copy = Float64Array.from(x);
  const m2 = c.compress(x, ctx);
  assert.deepEqual(Array.from(x), Array.from(copy));
  assert.equal(m1, m2);
  assert.equal(m1.values, m2.values);
});

test('invalid --ranks and --dims are usage errors naming the option and the accepted range', () => {
  const bad = (ranks: number[] | undefined, dims: number[] | undefined, d: number, pattern: RegExp) =>
    assert.throws(() => hosvdSpec.create({ d, floatBits: 32, rng: createRng(0), values: { ranks: ranks, dims: dims } }), (e: unknown) => e instanceof UsageError && pattern.test(e.message));
  bad(undefined, undefined, 112, /--ranks: required/);
  bad([0], undefined, 112, /--ranks: .*mode 1: 1\.\.5, mode 2: 1\.\.5, mode 3: 1\.\.5/);
  bad([6], undefined, 112, /--ranks: rank 6 is out of range for mode 1/);
  bad([1, 2, 6], [5, 5, 5], 112, /--ranks: rank 6 is out of range for mode 3/);
  bad([1.5], undefined, 112, /--ranks/);
  bad([1, 2], undefined, 112, /--ranks: expected 1 or 3 values/);
  bad([1], [4, 5, 5], 112, /--dims: .*4×5×5 = 100.*≥ d = 112/);
  bad([1], [0, 5, 5], 112, /--dims: each dim must be an integer ≥ 1/);
  bad([1], [], 112, /--dims/);
});

/**
 * Checks an eigensolver result against ml-matrix on a: eigenvalues to tol·‖A‖, residuals ‖Av − λv‖,
 * orthonormality, descending order and the sign convention.
 */
function checkEigen(solver: SymmetricEigen, a: Float64Array, n: number, label: string, expected?: number[]): void {
  const refVals =
    expected ??
    new EigenvalueDecomposition(new Matrix(Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, i * n + n)))), { assumeSymmetric: true }).realEigenvalues
      .slice()
      .sort((p, q) => q - p);
  const scale = Math.max(1e-300, ...refVals.map(Math.abs));
  for (let j = 0; j < n; j++) {
    assert.ok(Math.abs(solver.values[j] - refVals[j]) <= 1e-13 * scale, `${label} λ${j}: ${solver.values[j]} vs ${refVals[j]}`);
    if (j > 0) assert.ok(solver.values[j] <= solver.values[j - 1], `${label} descending`);
    let big = 0;
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let k = 0; k < n; k++) av += a[i * n + k] * solver.vectors[k * n + j];
      assert.ok(Math.abs(av - solver.values[j] * solver.vectors[i * n + j]) <= 1e-13 * scale, `${label} residual`);
      if (Math.abs(solver.vectors[i * n + j]) > Math.abs(solver.vectors[big * n + j])) big = i;
    }
    assert.ok(solver.vectors[big * n + j] > 0, `${label} sign convention`);
    for (let k = 0; k <= j; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += solver.vectors[i * n + j] * solver.vectors[i * n + k];
      assert.ok(Math.abs(s - (j === k ? 1 : 0)) <= 1e-14, `${label} orthonormality`);
    }
  }
}

/** B Bᵀ for a random n×rank B: symmetric PSD of rank min(n, rank). */
function randomGram(rng: Rng, n: number, rank: number): Float64Array {
  const b = new Float64Array(n * rank);
  for (let i = 0; i < b.length; i++) b[i] = rng.normal();
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let t = 0; t < rank; t++) s += b[i * rank + t] * b[j * rank + t];
      a[i * n + j] = a[j * n + i] = s;
    }
  return a;
}

test('the tridiagonal QL eigensolver matches ml-matrix on random symmetric PSD matrices of sizes 1..30, full rank and rank-deficient', () => {
  const rng = createRng(9, 'tql');
  const solver = new SymmetricEigen(30);
  for (let n = 1; n <= 30; n++) {
    for (const rank of [n, Math.max(1, Math.floor(n / 2)), 1, n + 3]) {
      const a = randomGram(rng, n, rank);
      solver.solve(a, n);
      checkEigen(solver, a, n, `n=${n} rank=${rank}`);
      if (rank < n) {
        // the n − rank zero eigenvalues come out at rounding level
        for (let j = rank; j < n; j++) assert.ok(Math.abs(solver.values[j]) <= 1e-13 * solver.values[0], `n=${n} zero λ${j}`);
      }
    }
  }
});

test('the tridiagonal QL eigensolver matches ml-matrix on indefinite matrices, repeated eigenvalues, diagonal, zero and badly scaled matrices', () => {
  const rng = createRng(10, 'tql-hard');
  const solver = new SymmetricEigen(12);
  for (const n of [1, 2, 3, 5, 12]) {
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
    solver.solve(a, n);
    checkEigen(solver, a, n, `indefinite n=${n}`);
    // Q diag(3,3,3,1,1,…) Qᵀ: a repeated eigenvalue with a random eigenbasis
    const q = randomOrthonormal(rng, n, n);
    const rep = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += q[i * n + k] * (k < 3 ? 3 : 1) * q[j * n + k];
        rep[i * n + j] = s;
      }
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) rep[i * n + j] = rep[j * n + i];
    solver.solve(rep, n);
    checkEigen(solver, rep, n, `repeated n=${n}`);
    for (const factor of [1e-150, 1e150]) {
      const scaled = Float64Array.from(a, (v) => v * factor);
      solver.solve(scaled, n);
      checkEigen(solver, scaled, n, `scaled ${factor} n=${n}`);
    }
    // where squares underflow or overflow (ml-matrix itself loses accuracy at 1e-170): the
    // eigenvalues scale with the matrix, and residuals, orthonormality and signs still hold
    solver.solve(a, n);
    const unscaled = Array.from(solver.values.subarray(0, n));
    for (const factor of [1e-170, 1e-200, 1e200]) {
      const scaled = Float64Array.from(a, (v) => v * factor);
      solver.solve(scaled, n);
      checkEigen(solver, scaled, n, `scaled ${factor} n=${n}`, unscaled.map((v) => v * factor));
    }
  }
  const diag = Float64Array.from([2, 0, 0, 0, -1, 0, 0, 0, 5]);
  solver.solve(diag, 3);
  assert.deepEqual(Array.from(solver.values.subarray(0, 3)), [5, 2, -1]);
  assert.deepEqual(Array.from(solver.vectors.subarray(0, 9)), [0, 1, 0, 0, 0, 1, 1, 0, 0]);
  const eye = new Float64Array(16);
  for (let i = 0; i < 4; i++) eye[i * 5] = 2;
  solver.solve(eye, 4);
  assert.deepEqual(Array.from(solver.values.subarray(0, 4)), [2, 2, 2, 2]);
  solver.solve(new Float64Array(16), 4);
  assert.deepEqual(Array.from(solver.values.subarray(0, 4)), [0, 0, 0, 0]);
  for (let j = 0; j < 4; j++) assert.equal(norm(Array.from({ length: 4 }, (_, i) => solver.vectors[i * 4 + j])), 1);
});

test('the leading eigenvectors of HOSVD Gram matrices equal those of ml-matrix, up to the sign convention', () => {
  const rng = createRng(11, 'tql-jacobi');
  const tql = new SymmetricEigen(8);
  for (const n of [5, 7, 8]) {
    for (let rep = 0; rep < 20; rep++) {
      const a = randomGram(rng, n, n * n);
      tql.solve(a, n);
      const ref = new EigenvalueDecomposition(new Matrix(Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, i * n + n)))), { assumeSymmetric: true });
      const order = ref.realEigenvalues.map((v, i) => [v, i] as const).sort((p, q) => q[0] - p[0]).map(([, i]) => i);
      const V = ref.eigenvectorMatrix;
      for (let j = 0; j < 2; j++) {
        const col = Array.from({ length: n }, (_, i) => V.get(i, order[j]));
        let big = 0;
        for (let i = 1; i < n; i++) if (Math.abs(col[i]) > Math.abs(col[big])) big = i;
        const sign = col[big] > 0 ? 1 : -1;
        for (let i = 0; i < n; i++) assert.ok(Math.abs(tql.vectors[i * n + j] - sign * col[i]) <= 1e-10, `n=${n} v${j}`);
      }
    }
  }
});
