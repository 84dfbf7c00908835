/**
 * The accuracy contract of `--backend gpu` (docs/backends.md): at the first iterate, every worker's
 * float32 gradient must be within `tolerance` of the float64 one, relative to the magnitude of the
 * terms summed; per entry an `allowance` may be subtracted first (the mlp's rows at a ReLU kink).
 * One check for every gpu problem; each supplies its own bounds.
 */
import { DcompError } from '../core/errors.js';
import { maxRelativeError } from '../backends/accuracy.js';
import type { BackendLabel } from '../backends/types.js';
import type { LocalObjective } from './types.js';

export interface GradientCheck {
  /** Largest error over the workers relative to the terms' magnitude. */
  readonly maxScaledError: number;
  /** The same difference relative to the largest gradient entry (maxRelativeError), for the record. */
  readonly maxRelativeError: number;
  /** The worker where it occurred. */
  readonly worker: number;
  readonly tolerance: number;
}

export interface CheckBounds {
  /** The magnitude of the terms summed (the error is divided by it). */
  readonly scale: number;
  /** Per entry, a difference that is not counted as error (absent: none). */
  readonly allowance?: Float64Array;
}

/** max_j (|a_j − r_j| − allowance_j)⁺ / scale; NaN when any difference is NaN. */
function scaledError(a: Float64Array, r: Float64Array, { scale, allowance }: CheckBounds): number {
  let diff = 0;
  for (let j = 0; j < r.length; j++) {
    const e = Math.abs(a[j] - r[j]) - (allowance === undefined ? 0 : allowance[j]);
    if (Number.isNaN(e)) return Number.NaN;
    if (e > diff) diff = e;
  }
  return scale > 0 ? diff / scale : diff === 0 ? 0 : Number.POSITIVE_INFINITY;
}

/**
 * Compares each gpu worker's gradient with its float64 reference at x; throws a DcompError (exit 1)
 * naming the worker, the error and the tolerance beyond it. One float64 and one gpu gradient per worker.
 */
export function checkAgainstReference(
  gpu: readonly { gradientOnly(x: Float64Array, out: Float64Array): void }[],
  reference: readonly LocalObjective[],
  x: Float64Array,
  label: BackendLabel,
  what: string,
  tolerance: number,
  bounds: (worker: number) => CheckBounds,
): GradientCheck {
  const d = x.length;
  const g32 = new Float64Array(d);
  const g64 = new Float64Array(d);
  let worst = 0;
  let worstRelative = 0;
  let worker = 0;
  for (let i = 0; i < gpu.length; i++) {
    gpu[i].gradientOnly(x, g32);
    reference[i].gradient(x, g64);
    const e = scaledError(g32, g64, bounds(i));
    worstRelative = Math.max(worstRelative, maxRelativeError(g32, g64));
    if (!(e <= worst)) {
      worst = e;
      worker = i;
      if (Number.isNaN(e)) break;
    }
  }
  if (!(worst <= tolerance)) {
    throw new DcompError(
      `gpu backend (${label.backend} on ${label.device}): the float32 ${what} of worker ${worker} differs from ` +
        `the float64 one by ${worst.toExponential(2)} of the summed terms' magnitude, beyond the tolerance ${tolerance.toExponential(0)}; ` +
        'the device computed a wrong result. Use --backend cpu (docs/backends.md, "Accuracy contract")',
    );
  }
  return { maxScaledError: worst, maxRelativeError: worstRelative, worker, tolerance };
}
