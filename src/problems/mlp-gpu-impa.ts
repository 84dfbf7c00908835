/**
 * The accuracy contract of imp-a's scores on the gpu mlp (one hidden layer; --backend gpu with
 * --compressor imp-a): at x⁰, with v = each worker's float64 gradient and η = the run's step, the
 * float32 scores must be within GPU_MLP_SCORE_TOLERANCE of the float64 ones (MlpShard.coordinateDecrease)
 * relative to the magnitude of what they add up:
 *
 *   max_s |w32_s − w64_s| / max_s (Σ_r |softplus(q_r) − softplus(q_r + u_rs)| / N_i + |(λ/2)·δ_s(2x_s − δ_s)|).
 *
 * Float32 summation errs relative to the summed magnitudes, not to the result: the rows' changes have
 * both signs and the scores of small moves cancel (≈ δ_s·∂f_i/∂x_s), so the largest score alone
 * would be too small a yardstick. No ReLU-kink allowance is needed (see mlp-impa-kernels.ts).
 */
import { DcompError } from '../core/errors.js';
import { maxRelativeError } from '../backends/accuracy.js';
import type { MlpProblem, MlpShard } from './mlp.js';
import type { GpuMlpProblem } from './mlp-gpu.js';

/**
 * Largest accepted error of the float32 imp-a scores at x⁰ relative to the summed magnitudes; the
 * gradients' bound. Measured ≤ 1.1e-6 (WebGPU, a9a; docs/backends.md), while a dropped row or a
 * wrong index moves a score by a whole row's term, of the order of 1/N_i of the scale (2.5e-3 to
 * 4e-4 for mushrooms to w8a split 20 ways).
 */
export const GPU_MLP_SCORE_TOLERANCE = 1e-4;

function softplus64(q: number): number {
  return q > 0 ? q + Math.log1p(Math.exp(-q)) : Math.log1p(Math.exp(q));
}

/** |softplus(q) − softplus(q + u)|, without cancellation for small u. */
function absChange(q: number, u: number): number {
  if (u === 0) return 0;
  if (Math.abs(u) <= 1) {
    const s = q > 0 ? 1 / (1 + Math.exp(-q)) : Math.exp(q) / (1 + Math.exp(q));
    return Math.abs(Math.log1p(s * Math.expm1(u)));
  }
  return Math.abs(softplus64(q) - softplus64(q + u));
}

/**
 * max_s of the summed magnitudes above for shard `shard` at x, moves η v (float64, O(nnz·h + N·h),
 * computed here independently of MlpShard's loops).
 */
export function mlpScoreScale(problem: MlpProblem, shard: MlpShard, x: Float64Array, v: Float64Array, eta: number): number {
  const { sizes, weightOffset, biasOffset } = problem.layout;
  if (sizes.length !== 3) throw new RangeError(`gpu mlp imp-a: one hidden layer expected, the network has ${sizes.length - 2}`);
  const p = sizes[0];
  const h = sizes[1];
  const w1 = weightOffset[0];
  const b1 = biasOffset[0];
  const w2 = weightOffset[1];
  const b2 = biasOffset[1];
  const d = problem.d;
  const { A, b } = shard;
  const sums = new Float64Array(d);
  const z = new Float64Array(h);
  for (let r = 0; r < A.rows; r++) {
    const start = A.rowPtr[r];
    const end = A.rowPtr[r + 1];
    let logit = x[b2];
    for (let u = 0; u < h; u++) {
      let s = x[b1 + u];
      for (let k = start; k < end; k++) s += A.values[k] * x[w1 + u * p + A.colIdx[k]];
      z[u] = s;
      if (s > 0) logit += x[w2 + u] * s;
    }
    const q = -b[r] * logit;
    const relu = (t: number) => (t > 0 ? t : 0);
    for (let u = 0; u < h; u++) {
      // first-layer weights of unit u on this row's features, and the hidden bias (input 1)
      for (let k = start; k <= end; k++) {
        const s = k < end ? w1 + u * p + A.colIdx[k] : b1 + u;
        const a = k < end ? A.values[k] : 1;
        const st = eta * v[s];
        if (st === 0) continue;
        const da = relu(z[u] - st * a) - relu(z[u]);
        sums[s] += absChange(q, -b[r] * x[w2 + u] * da);
      }
      const so = w2 + u;
      if (z[u] > 0 && eta * v[so] !== 0) sums[so] += absChange(q, b[r] * eta * v[so] * z[u]);
    }
    if (eta * v[b2] !== 0) sums[b2] += absChange(q, b[r] * eta * v[b2]);
  }
  let max = 0;
  const inv = 1 / A.rows;
  for (let s = 0; s < d; s++) {
    const step = eta * v[s];
    const m = sums[s] * inv + Math.abs(0.5 * shard.lambda * step * (2 * x[s] - step));
    if (m > max) max = m;
  }
  return max;
}

export interface ScoreCheck {
  /** Largest error over the workers relative to the summed magnitudes. */
  readonly maxScaledError: number;
  /** The same difference relative to the largest score, for the record. */
  readonly maxRelativeError: number;
  readonly worker: number;
  readonly tolerance: number;
}

/**
 * Compares every worker's float32 imp-a scores with the float64 ones at x (v = the worker's float64
 * gradient at x, η = eta); throws a DcompError (exit 1) naming the worker, the error and the
 * tolerance beyond it. Requires problem.coordinateKernels.
 */
export function checkGpuMlpScores(problem: GpuMlpProblem, x: Float64Array, eta: number, tolerance = GPU_MLP_SCORE_TOLERANCE): ScoreCheck {
  if (!problem.coordinateKernels) throw new Error('gpu mlp imp-a: no device kernels to check');
  const reference = problem.reference;
  const d = problem.d;
  const v = new Float64Array(d);
  const w32 = new Float64Array(d);
  const w64 = new Float64Array(d);
  let worst = 0;
  let worstRelative = 0;
  let worker = 0;
  for (let i = 0; i < problem.workers.length; i++) {
    reference.workers[i].gradient(x, v);
    problem.workers[i].coordinateDecrease(x, v, eta, w32);
    reference.workers[i].coordinateDecrease(x, v, eta, w64);
    const scale = mlpScoreScale(reference, reference.workers[i], x, v, eta);
    let diff = 0;
    for (let s = 0; s < d; s++) {
      const e = Math.abs(w32[s] - w64[s]);
      if (Number.isNaN(e)) {
        diff = Number.NaN;
        break;
      }
      if (e > diff) diff = e;
    }
    const e = scale > 0 ? diff / scale : diff === 0 ? 0 : Number.POSITIVE_INFINITY;
    worstRelative = Math.max(worstRelative, maxRelativeError(w32, w64));
    if (!(e <= worst)) {
      worst = e;
      worker = i;
      if (Number.isNaN(e)) break;
    }
  }
  if (!(worst <= tolerance)) {
    const { backend, device } = problem.label;
    throw new DcompError(
      `gpu backend (${backend} on ${device}): the float32 imp-a scores of worker ${worker} differ from the float64 ones by ` +
        `${worst.toExponential(2)} of the summed terms' magnitude, beyond the tolerance ${tolerance.toExponential(0)}; ` +
        'the device computed a wrong result. Use --backend cpu (docs/backends.md, "Accuracy contract")',
    );
  }
  return { maxScaledError: worst, maxRelativeError: worstRelative, worker, tolerance };
}
