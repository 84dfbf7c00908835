/**
 * The options compressors declare (spec §3, §6). Declared here once; a compressor lists the ones it
 * reads in its spec's `options`, and flags, YAML keys, help, validation, run ids and the CSV are
 * derived from those lists. `k` is shared by every sparsifier; its bound k ≤ d is checked by `requireK`
 * when d is known.
 */
import { balancedDims } from './tensor.js';
import { declare, flag, integer, integerList, OptionError, real, type OptionValues } from '../core/options.js';

export const K_OPTION = declare('k', integer(1), {
  required: true,
  help: 'coordinates kept, 1 ≤ k ≤ d',
  record: 'column',
});

export const RANKS_OPTION = declare('ranks', integerList(1), {
  required: true,
  help: 'hosvd multilinear ranks: one for all modes or one per mode, e.g. 2 or 2,3,2',
  record: 'params',
});

export const DIMS_OPTION = declare('dims', integerList(1, 'x'), {
  defaultText: 'the most balanced order-3 dims of d',
  derive: ({ d }) => balancedDims(d, 3),
  help: 'hosvd tensor dims, e.g. 5,5,5 (their product must be ≥ d)',
  record: 'params',
});

export const INNER_STEPS_OPTION = declare('inner_steps', integer(1), {
  default: 20,
  help: 'imp-b/imp-c: inner solver steps M',
  record: 'params',
});

export const INNER_STEP_OPTION = declare('inner_step', real({ min: 0, exclusive: true }), {
  default: 1,
  help: 'imp-b/imp-c: inner step τ₀ (τ = τ₀ / ‖∇g(w⁰)‖_∞)',
  record: 'params',
});

export const IMP_C_SCALE_OPTION = declare('imp_c_scale', flag(), {
  default: false,
  help: 'imp-c: send w_j·v_j instead of v_j',
  record: 'params',
});

/** A declared integer value (present: the run's options were filled from the declarations). */
export function intValue(values: OptionValues, name: string): number | undefined {
  const v = values[name];
  return typeof v === 'number' ? v : undefined;
}

/** k, checked against d: an integer with 1 ≤ k ≤ d (spec §6). */
export function requireK(values: OptionValues, d: number, compressorName: string): number {
  const k = values.k;
  if (k === undefined) throw new OptionError('k', `compressor ${compressorName} needs k, an integer with 1 ≤ k ≤ d = ${d}`);
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > d) {
    throw new OptionError('k', `compressor ${compressorName} accepts an integer with 1 ≤ k ≤ d = ${d}; got ${String(k)}`);
  }
  return k;
}
