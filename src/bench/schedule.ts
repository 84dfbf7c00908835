/**
 * Which iterations a run logs (spec §5): 0, every `logEvery`-th, and always the last (`iters`). One
 * definition for the runner that writes the rows and for the checks (resume, merge) that read them back.
 */

/** True when iteration t (0 ≤ t ≤ iters) is logged. */
export function isLoggedIteration(t: number, iters: number, logEvery: number): boolean {
  return t % logEvery === 0 || t === iters;
}

/** The logged iterations of a run of `iters` iterations, ascending: 0, m, 2m, …, and `iters` once. */
export function loggedIterations(iters: number, logEvery: number): number[] {
  if (!(Number.isInteger(iters) && iters >= 0 && Number.isInteger(logEvery) && logEvery >= 1)) {
    throw new RangeError(`loggedIterations: iters ${iters} and logEvery ${logEvery} must be integers ≥ 0 and ≥ 1`);
  }
  const out: number[] = [];
  for (let t = 0; t < iters; t += logEvery) out.push(t);
  out.push(iters);
  return out;
}
