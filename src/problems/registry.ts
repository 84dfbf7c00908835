import { UsageError } from '../core/errors.js';
import type { ProblemSpec } from './types.js';
import { logregSpec, logregNonconvexSpec } from './logreg.js';

/** Name → factory (the `mlp` problem of the roadmap joins here behind the same interface). */
export const PROBLEMS: ReadonlyMap<string, ProblemSpec> = new Map([logregSpec, logregNonconvexSpec].map((s) => [s.name, s]));

export function problemSpec(name: string): ProblemSpec {
  const spec = PROBLEMS.get(name);
  if (!spec) throw new UsageError(`--problem: unknown problem "${name}"; known: ${[...PROBLEMS.keys()].join(', ')}`);
  return spec;
}
