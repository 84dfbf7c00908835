import { UsageError } from '../core/errors.js';
import type { MethodSpec } from './types.js';
import { gdSpec } from './gd.js';
import { cgdSpec } from './cgd.js';
import { efSpec } from './ef.js';
import { ef21Spec } from './ef21.js';
import { topkSsgdSpec } from './topk-ssgd.js';
import { gtopkSpec } from './gtopk.js';

/** Name → factory. A new method is one file plus one line here; the contract tests pick it up. */
export const METHODS: ReadonlyMap<string, MethodSpec> = new Map(
  [gdSpec, cgdSpec, efSpec, ef21Spec, topkSsgdSpec, gtopkSpec].map((s) => [s.name, s]),
);

export function methodSpec(name: string): MethodSpec {
  const spec = METHODS.get(name);
  if (!spec) throw new UsageError(`--method: unknown method "${name}"; known: ${[...METHODS.keys()].join(', ')}`);
  return spec;
}
