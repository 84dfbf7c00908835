/**
 * Monte Carlo estimation of compressor class constants (seed 000 Definitions 1–4, spec §3), the
 * engine of `dcomp compressors --check`. Pure: takes compressor instances and test vectors, returns
 * numbers; the CLI wires data and prints.
 *
 * Classes, for every x:
 *   U(ζ):    E C(x) = x and E‖C(x)‖² ≤ ζ‖x‖²
 *   B¹(α,β): α‖x‖² ≤ E‖C(x)‖² ≤ β⟨E C(x), x⟩
 *   B²(γ,β): max{γ‖x‖², E‖C(x)‖²/β} ≤ ⟨E C(x), x⟩
 *   B³(δ):   E‖C(x) − x‖² ≤ (1 − 1/δ)‖x‖²
 * Per test vector x we estimate, with S draws c_s = C(x) (one for a deterministic compressor):
 *   bias  = ‖E C(x) − x‖/‖x‖
 *   ζ̂ = α̂ = E‖C‖²/‖x‖²,  γ̂ = ⟨E C, x⟩/‖x‖²,  β̂ = E‖C‖²/⟨E C, x⟩,  ε̂ = E‖C − x‖²/‖x‖²,  δ̂ = 1/(1 − ε̂).
 * The smallest constant that makes a class hold on the test set is the worst case over the vectors:
 *   ζ, β, δ (upper bounds on C's size/error): the MAX over vectors;  α, γ (lower bounds): the MIN;
 *   bias: the max (U needs it to be 0 for every x).
 * Intervals: per vector, normal-approximation intervals from the per-sample values (delta method for
 * the ratio β̂), two-sided, Bonferroni-corrected over the V vectors (level (1 − confidence)/V each), so
 * the worst-case interval [max_x low_x, max_x high_x] (min for α, γ) covers the worst case over the
 * test vectors with at least the stated confidence. The bias uses a χ² tail bound instead (its
 * estimate ‖mean − x‖ is not normal): with the sample mean approximately normal, the weighted χ²
 * S‖mean − E C‖²/tr Cov exceeds 1 + 2√u + 2u with probability ≤ e^{−u} (Laurent & Massart 2000),
 * u = ln(1/a); by the triangle inequality ‖E C − x‖ lies within that radius of ‖mean − x‖.
 * A known bound is violated when the whole interval lies on the wrong side of it (plus a relative
 * 1e-9 slack for rounding). Monte Carlo over finitely many vectors can show that a bound fails, or
 * estimate how tight it is on those vectors; it can never prove that a bound holds for all x.
 */
import type { Rng } from '../core/rng.js';
import type { Compressor, CompressContext, KnownClasses, WireMessage } from './types.js';

export interface CheckVector {
  /** Shown in the table as the worst-case vector, e.g. 'gaussian' or 'grad f(0)'. */
  readonly label: string;
  readonly x: Float64Array;
  /** Context for compressors that need f_i, the point and η (importance compressors). */
  readonly ctx: CompressContext;
}

export interface Interval {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
}

/** Per-vector ratios (see the module comment). */
export interface VectorEstimate {
  readonly label: string;
  readonly samples: number;
  readonly normSq: number;
  readonly bias: Interval;
  /** E‖C‖²/‖x‖²: ζ̂ and α̂. */
  readonly secondMoment: Interval;
  /** ⟨E C, x⟩/‖x‖²: γ̂. */
  readonly gamma: Interval;
  /** E‖C‖²/⟨E C, x⟩: β̂ (∞ when ⟨E C, x⟩ ≤ 0 < E‖C‖²). */
  readonly beta: Interval;
  /** E‖C − x‖²/‖x‖²: ε̂. */
  readonly error: Interval;
  /** 1/(1 − ε̂), ∞ when ε̂ ≥ 1. */
  readonly delta: Interval;
}

export type ClassName = 'U' | 'B1' | 'B2' | 'B3';
export type ConstantName = 'bias' | 'zeta' | 'alpha' | 'beta' | 'gamma' | 'delta';
export type CheckStatus = 'ok' | 'violated' | 'unknown';

export interface ConstantRow {
  readonly className: ClassName;
  readonly constant: ConstantName;
  /** Which way is worse for this constant: the class constant is the max (or min) over vectors. */
  readonly worst: 'max' | 'min';
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
  /** Label of the vector that attains the worst point estimate. */
  readonly worstVector: string;
  /** The lemma's value (for 'bias' 0 when the compressor is claimed unbiased), if any. */
  readonly known: number | undefined;
  readonly status: CheckStatus;
}

export interface CompressorCheck {
  readonly compressor: string;
  readonly randomized: boolean;
  readonly samples: number;
  readonly confidence: number;
  readonly vectors: readonly VectorEstimate[];
  readonly rows: readonly ConstantRow[];
  /** One sentence per violated known bound; empty when none. */
  readonly violations: readonly string[];
}

export interface CheckOptions {
  /** Draws per vector for a randomized compressor (≥ 2); deterministic ones use 1. */
  readonly samples: number;
  /** Joint confidence of the worst-case intervals, in (0, 1), e.g. 0.99. */
  readonly confidence: number;
  readonly randomized: boolean;
}

/** Relative slack for rounding when comparing with a known bound. */
const ROUNDING_SLACK = 1e-9;

/** Φ(z) for z ≥ 0 by composite Simpson on the density (accurate to ~1e-11, no tabled coefficients). */
function normalCdfNonNegative(z: number): number {
  if (z > 9) return 1;
  const n = 4000;
  const h = z / n;
  let s = 1 + Math.exp(-0.5 * z * z);
  for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * Math.exp(-0.5 * (i * h) ** 2);
  return 0.5 + (s * h) / 3 / Math.sqrt(2 * Math.PI);
}

/** Standard normal quantile Φ⁻¹(p) for p in [0.5, 1), by bisection on Φ. */
export function normalQuantile(p: number): number {
  if (!(p >= 0.5 && p < 1)) throw new RangeError(`normalQuantile: p must be in [0.5, 1), got ${p}`);
  let lo = 0;
  let hi = 9;
  for (let it = 0; it < 60; it++) {
    const mid = 0.5 * (lo + hi);
    if (normalCdfNonNegative(mid) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** Accumulates the decoded vector C(x) of a message into `out` (dense, length d). */
export function decodeMessage(message: WireMessage, out: Float64Array): void {
  if (message.format === 'dense') {
    out.set(message.values.subarray(0, out.length));
    return;
  }
  out.fill(0);
  for (let t = 0; t < message.nnz; t++) out[message.indices[t]] += message.values[t];
}

const deltaOf = (eps: number): number => (eps < 1 ? 1 / (1 - eps) : Infinity);

/**
 * Estimates the per-vector ratios for one vector. `z` is the normal quantile of the two-sided
 * per-vector level a, and `a` that level (for the Chebyshev bias bound).
 */
export function estimateVector(compressor: Compressor, vector: CheckVector, samples: number, z: number, a: number): VectorEstimate {
  const { x, ctx, label } = vector;
  const d = x.length;
  let normSq = 0;
  for (let i = 0; i < d; i++) normSq += x[i] * x[i];
  if (!(normSq > 0) || !Number.isFinite(normSq)) throw new RangeError(`class check: vector '${label}' must be finite and non-zero`);
  const c = new Float64Array(d);
  const mean = new Float64Array(d);
  // Welford running means and co-moments of a = ‖c‖², b = ⟨c, x⟩, e = ‖c − x‖².
  let ma = 0, mb = 0, me = 0, saa = 0, sbb = 0, sab = 0, see = 0;
  for (let s = 1; s <= samples; s++) {
    decodeMessage(compressor.compress(x, ctx), c);
    let av = 0, bv = 0, ev = 0;
    for (let i = 0; i < d; i++) {
      const ci = c[i];
      av += ci * ci;
      bv += ci * x[i];
      const r = ci - x[i];
      ev += r * r;
      mean[i] += (ci - mean[i]) / s;
    }
    const da = av - ma, db = bv - mb, de = ev - me;
    ma += da / s;
    mb += db / s;
    me += de / s;
    saa += da * (av - ma);
    sbb += db * (bv - mb);
    sab += da * (bv - mb);
    see += de * (ev - me);
  }
  const n = samples;
  const varOf = (m2: number) => (n > 1 ? Math.max(0, m2 / (n - 1)) : 0);
  const seA = Math.sqrt(varOf(saa) / n);
  const seB = Math.sqrt(varOf(sbb) / n);
  const seE = Math.sqrt(varOf(see) / n);

  const interval = (estimate: number, se: number): Interval => ({ estimate, low: estimate - z * se, high: estimate + z * se });

  // bias: ‖mean − x‖ ± sqrt(tr Cov/(S·a)), tr Cov from the same draws
  let biasSq = 0, meanSq = 0;
  for (let i = 0; i < d; i++) {
    biasSq += (mean[i] - x[i]) ** 2;
    meanSq += mean[i] * mean[i];
  }
  const traceCov = n > 1 ? Math.max(0, ((ma - meanSq) * n) / (n - 1)) : 0;
  const xNorm = Math.sqrt(normSq);
  const biasEst = Math.sqrt(biasSq) / xNorm;
  // ‖mean − E C‖² ≈ (tr Cov/S)·Σλ_i z_i²/Σλ_i (CLT), and a weighted χ² exceeds its mean by the
  // Laurent–Massart bound 2√u + 2u (relative, worst case of one dominant λ) with probability ≤ e^{−u}
  const u = Math.log(1 / a);
  const biasHalf = n > 1 ? Math.sqrt((traceCov / n) * (1 + 2 * Math.sqrt(u) + 2 * u)) / xNorm : 0;
  const bias: Interval = { estimate: biasEst, low: Math.max(0, biasEst - biasHalf), high: biasEst + biasHalf };

  const secondMoment = interval(ma / normSq, seA / normSq);
  const gamma = interval(mb / normSq, seB / normSq);
  const error = interval(me / normSq, seE / normSq);
  const delta: Interval = { estimate: deltaOf(error.estimate), low: deltaOf(error.low), high: deltaOf(error.high) };

  // β̂ = ā/b̄; delta method: Var(ā/b̄) ≈ Var(a − R b)/(n b̄²)
  let beta: Interval;
  if (mb > 0) {
    const R = ma / mb;
    const varDiff = varOf(saa) - 2 * R * (n > 1 ? sab / (n - 1) : 0) + R * R * varOf(sbb);
    const se = Math.sqrt(Math.max(0, varDiff) / n) / mb;
    const denomLow = mb - z * seB;
    // a denominator not significantly positive leaves β unbounded above
    beta = { estimate: R, low: Math.max(0, R - z * se), high: denomLow > 0 ? R + z * se : Infinity };
  } else {
    beta = ma > 0 ? { estimate: Infinity, low: mb + z * seB > 0 ? Math.max(0, ma - z * seA) / (mb + z * seB) : Infinity, high: Infinity } : { estimate: NaN, low: NaN, high: NaN };
  }
  return { label, samples, normSq, bias, secondMoment, gamma, beta, error, delta };
}

interface RowSpec {
  className: ClassName;
  constant: ConstantName;
  worst: 'max' | 'min';
  pick: (v: VectorEstimate) => Interval;
  known: number | undefined;
  /** The interval's side that must clear the known value for a violation. */
  violated: (lowOrHigh: { low: number; high: number }, known: number) => boolean;
  describe: string;
}

const above = (iv: { low: number }, k: number) => iv.low > k * (1 + ROUNDING_SLACK) + ROUNDING_SLACK * (k === 0 ? 1 : 0);
const below = (iv: { high: number }, k: number) => iv.high < k * (1 - ROUNDING_SLACK);

/**
 * Estimates every class constant of one compressor instance over the test vectors and compares them
 * with the lemmas' known values. Deterministic given the compressor's own RNG state.
 */
export function checkCompressor(name: string, compressor: Compressor, vectors: readonly CheckVector[], known: KnownClasses | undefined, options: CheckOptions): CompressorCheck {
  if (vectors.length === 0) throw new RangeError('class check: no test vectors');
  if (!(options.confidence > 0 && options.confidence < 1)) throw new RangeError(`class check: confidence must be in (0, 1), got ${options.confidence}`);
  const samples = options.randomized ? options.samples : 1;
  if (options.randomized && !(Number.isInteger(samples) && samples >= 2)) throw new RangeError(`class check: a randomized compressor needs at least 2 samples, got ${samples}`);
  // Bonferroni over vectors: each per-vector interval has level a = (1 − confidence)/V.
  const a = (1 - options.confidence) / vectors.length;
  const z = normalQuantile(1 - a / 2);
  const perVector = vectors.map((v) => estimateVector(compressor, v, samples, z, a));

  const specs: RowSpec[] = [
    { className: 'U', constant: 'bias', worst: 'max', pick: (v) => v.bias, known: known?.U ? 0 : undefined, violated: above, describe: '‖E C(x) − x‖/‖x‖ > 0: not unbiased' },
    { className: 'U', constant: 'zeta', worst: 'max', pick: (v) => v.secondMoment, known: known?.U?.zeta, violated: above, describe: 'E‖C(x)‖²/‖x‖² exceeds ζ' },
    { className: 'B1', constant: 'alpha', worst: 'min', pick: (v) => v.secondMoment, known: known?.B1?.alpha, violated: below, describe: 'E‖C(x)‖²/‖x‖² is below α' },
    { className: 'B1', constant: 'beta', worst: 'max', pick: (v) => v.beta, known: known?.B1?.beta, violated: above, describe: 'E‖C(x)‖²/⟨E C(x), x⟩ exceeds β' },
    { className: 'B2', constant: 'gamma', worst: 'min', pick: (v) => v.gamma, known: known?.B2?.gamma, violated: below, describe: '⟨E C(x), x⟩/‖x‖² is below γ' },
    { className: 'B2', constant: 'beta', worst: 'max', pick: (v) => v.beta, known: known?.B2?.beta, violated: above, describe: 'E‖C(x)‖²/⟨E C(x), x⟩ exceeds β' },
    { className: 'B3', constant: 'delta', worst: 'max', pick: (v) => v.delta, known: known?.B3?.delta, violated: above, describe: 'E‖C(x) − x‖² exceeds (1 − 1/δ)‖x‖²' },
  ];

  const rows: ConstantRow[] = [];
  const violations: string[] = [];
  for (const spec of specs) {
    let estimate = spec.worst === 'max' ? -Infinity : Infinity;
    let low = estimate;
    let high = estimate;
    let worstVector = perVector[0].label;
    for (const v of perVector) {
      const iv = spec.pick(v);
      if (Number.isNaN(iv.estimate)) continue;
      const better = spec.worst === 'max' ? iv.estimate > estimate : iv.estimate < estimate;
      if (better) {
        estimate = iv.estimate;
        worstVector = v.label;
      }
      low = spec.worst === 'max' ? Math.max(low, iv.low) : Math.min(low, iv.low);
      high = spec.worst === 'max' ? Math.max(high, iv.high) : Math.min(high, iv.high);
    }
    let status: CheckStatus = 'unknown';
    if (spec.known !== undefined) {
      // B³ is compared through ε = 1 − 1/δ, which stays finite when δ̂ is infinite
      const bad =
        spec.constant === 'delta'
          ? perVector.some((v) => v.error.low > 1 - 1 / spec.known! + ROUNDING_SLACK)
          : spec.violated({ low, high }, spec.known);
      status = bad ? 'violated' : 'ok';
      if (bad) {
        const cls = { U: 'U(ζ)', B1: 'B¹(α,β)', B2: 'B²(γ,β)', B3: 'B³(δ)' }[spec.className];
        violations.push(
          `${name}: ${cls}: ${spec.describe}: ${SYMBOL[spec.constant]} = ${fmt(estimate)} [${fmt(low)}, ${fmt(high)}] vs known ${SYMBOL[spec.constant]} = ${fmt(spec.known)} (worst vector: ${worstVector})`,
        );
      }
    }
    rows.push({ className: spec.className, constant: spec.constant, worst: spec.worst, estimate, low, high, worstVector, known: spec.known, status });
  }
  return { compressor: name, randomized: options.randomized, samples, confidence: options.confidence, vectors: perVector, rows, violations };
}

const SYMBOL: Record<ConstantName, string> = { bias: 'bias', zeta: 'ζ', alpha: 'α', beta: 'β', gamma: 'γ', delta: 'δ' };

function fmt(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? '∞' : '−∞';
  return Number(v.toPrecision(6)).toString();
}

/**
 * Synthetic test vectors of dimension d, chosen to stress different compressors:
 * gaussian (typical), heavy-tailed (Cauchy: a few coordinates dominate, Top-k's best case),
 * sparse (~10% non-zeros: Rand-k's variance worst case among these), and equal magnitudes with
 * random signs (the case where Top-k and the biased sparsifiers meet their bounds with equality).
 */
export function syntheticVectors(d: number, rng: Rng): { label: string; x: Float64Array }[] {
  const gaussian = new Float64Array(d);
  const heavy = new Float64Array(d);
  const sparse = new Float64Array(d);
  const equal = new Float64Array(d);
  for (let i = 0; i < d; i++) gaussian[i] = rng.normal();
  for (let i = 0; i < d; i++) {
    let den = 0;
    while (den === 0) den = rng.normal();
    heavy[i] = rng.normal() / den;
  }
  let nnz = 0;
  for (let i = 0; i < d; i++) {
    if (rng.float() < 0.1) {
      sparse[i] = rng.normal();
      if (sparse[i] !== 0) nnz++;
    }
  }
  if (nnz === 0) sparse[rng.int(d)] = 1;
  for (let i = 0; i < d; i++) equal[i] = rng.float() < 0.5 ? -1 : 1;
  return [
    { label: 'gaussian', x: gaussian },
    { label: 'heavy-tailed', x: heavy },
    { label: 'sparse', x: sparse },
    { label: 'equal-magnitude', x: equal },
  ];
}
