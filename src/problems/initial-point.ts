/** x⁰ from a problem's own seeded initialisation (spec §1), or zeros when it has none. */
import { createRng } from '../core/rng.js';
import type { Problem } from './types.js';

/** The initialisation's stream: `createRng(seed, INIT_RNG_STREAM)`, independent of every other draw. */
export const INIT_RNG_STREAM = 'init';

/** A new x⁰ of length problem.d: `problem.initialize` from the run's seed, or zeros without it. */
export function initialPoint(problem: Problem, seed: number): Float64Array {
  const x = new Float64Array(problem.d);
  problem.initialize?.(createRng(seed, INIT_RNG_STREAM), x);
  return x;
}
