import { UsageError } from '../core/errors.js';
import type { CompressorSpec } from './types.js';
import { identitySpec } from './identity.js';
import { topkSpec } from './topk.js';
import { randkSpec } from './randk.js';
import { brandkSpec } from './brandk.js';
import { adaptiveSpec } from './adaptive.js';
import { importanceASpec } from './importance-a.js';
import { importanceBSpec } from './importance-b.js';
import { importanceCSpec } from './importance-c.js';
import { hosvdSpec } from './hosvd.js';

/** Name → factory. A new compressor is one file plus one line here; the contract tests pick it up. */
export const COMPRESSORS: ReadonlyMap<string, CompressorSpec> = new Map(
  [identitySpec, topkSpec, randkSpec, brandkSpec, adaptiveSpec, importanceASpec, importanceBSpec, importanceCSpec, hosvdSpec].map((s) => [s.name, s]),
);

export function compressorSpec(name: string): CompressorSpec {
  const spec = COMPRESSORS.get(name);
  if (!spec) throw new UsageError(`--compressor: unknown compressor "${name}"; known: ${[...COMPRESSORS.keys()].join(', ')}`);
  return spec;
}
