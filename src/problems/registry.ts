import { UsageError } from '../core/errors.js';
import type { ProblemSpec } from './types.js';
import { logregSpec, logregNonconvexSpec } from './logreg.js';
import { mlpSpec } from './mlp.js';

/** Name → factory (a new problem is one file plus one line here; the contract tests pick it up). */
export const PROBLEMS: ReadonlyMap<string, ProblemSpec> = new Map([logregSpec, logregNonconvexSpec, mlpSpec].map((s) => [s.name, s]));

export function problemSpec(name: string): ProblemSpec {
  const spec = PROBLEMS.get(name);
  if (!spec) throw new UsageError(`--problem: unknown problem "${name}"; known: ${[...PROBLEMS.keys()].join(', ')}`);
  return spec;
}
