/**
 * Run configuration: defaults of spec §6, validation with messages that name the option, and the
 * stable run id (same configuration → same id).
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../core/errors.js';
import { SPLIT_MODES, type SplitMode } from '../data/types.js';
import { COMPRESSORS } from '../compressors/registry.js';
import { METHODS } from '../methods/registry.js';
import { PROBLEMS } from '../problems/registry.js';
import type { RunConfig } from './types.js';

export type PartialRunConfig = Partial<RunConfig> & Pick<RunConfig, 'dataset' | 'method'>;

/** Fills spec §6 defaults and validates every field; throws UsageError naming the option. */
export function normalizeConfig(input: PartialRunConfig): RunConfig {
  const method = input.method;
  const methodSpec = METHODS.get(method);
  if (!methodSpec) throw new UsageError(`--method: unknown method "${method}"; known: ${[...METHODS.keys()].join(', ')}`);
  const problem = input.problem ?? 'logreg';
  if (!PROBLEMS.has(problem)) throw new UsageError(`--problem: unknown problem "${problem}"; known: ${[...PROBLEMS.keys()].join(', ')}`);
  // Top-k S-SGD methods sparsify with Top-k by definition, so that is their default compressor.
  const compressor = input.compressor ?? (methodSpec.compressorUse === 'topk' ? 'topk' : 'identity');
  const compressorSpec = COMPRESSORS.get(compressor);
  if (!compressorSpec) throw new UsageError(`--compressor: unknown compressor "${compressor}"; known: ${[...COMPRESSORS.keys()].join(', ')}`);
  if (methodSpec.compressorUse === 'none' && compressor !== 'identity') {
    throw new UsageError(`--compressor: method ${method} sends uncompressed gradients and accepts only "identity" (got "${compressor}"); use cgd, ef or ef21 to compress`);
  }
  if (methodSpec.compressorUse === 'topk' && compressor !== 'topk') {
    throw new UsageError(`--compressor: method ${method} sparsifies with Top-k by definition and accepts only "topk" (got "${compressor}")`);
  }
  const config: RunConfig = {
    dataset: requireString(input.dataset, '--dataset'),
    problem,
    method,
    compressor,
    workers: intAtLeast(input.workers ?? 1, 1, '--workers'),
    split: splitMode(input.split ?? 'iid'),
    seed: intAtLeast(input.seed ?? 0, 0, '--seed'),
    step: stepText(input.step ?? 'theory'),
    iters: intAtLeast(input.iters ?? 100, 0, '--iters'),
    logEvery: intAtLeast(input.logEvery ?? 1, 1, '--log-every'),
    floatBits: intAtLeast(input.floatBits ?? 32, 1, '--float-bits'),
    x0: x0Text(input.x0 ?? 'zeros'),
    backend: backend(input.backend ?? 'cpu'),
  };
  if (compressorSpec.requiresK || methodSpec.compressorUse === 'topk') {
    if (input.k === undefined) throw new UsageError(`--k: compressor ${compressor} needs --k, an integer with 1 ≤ k ≤ d`);
    config.k = intAtLeast(input.k, 1, '--k');
  } else if (input.k !== undefined) {
    config.k = intAtLeast(input.k, 1, '--k');
  }
  if (input.l2 !== undefined) config.l2 = nonNegative(input.l2, '--l2');
  if (input.batch !== undefined) config.batch = intAtLeast(input.batch, 1, '--batch');
  if (input.ranks !== undefined) config.ranks = input.ranks.map((r) => intAtLeast(r, 1, '--ranks'));
  if (input.dims !== undefined) config.dims = input.dims.map((r) => intAtLeast(r, 1, '--dims'));
  if (input.test !== undefined) config.test = requireString(input.test, '--test');
  if (input.features !== undefined) config.features = intAtLeast(input.features, 1, '--features');
  if (input.innerSteps !== undefined) config.innerSteps = intAtLeast(input.innerSteps, 1, '--inner-steps');
  if (input.innerStep !== undefined) {
    if (!(input.innerStep > 0 && Number.isFinite(input.innerStep))) throw new UsageError(`--inner-step: expected a positive number, got ${input.innerStep}`);
    config.innerStep = input.innerStep;
  }
  if (input.impCScale) config.impCScale = true;
  return config;
}

function requireString(v: unknown, option: string): string {
  if (typeof v !== 'string' || v === '') throw new UsageError(`${option}: required (a dataset name or a path)`);
  return v;
}

function intAtLeast(v: unknown, min: number, option: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new UsageError(`${option}: expected an integer ≥ ${min}, got ${String(v)}`);
  return v;
}

function nonNegative(v: unknown, option: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new UsageError(`${option}: expected a number ≥ 0, got ${String(v)}`);
  return v;
}

function splitMode(v: unknown): SplitMode {
  if (!SPLIT_MODES.includes(v as SplitMode)) throw new UsageError(`--split: expected one of ${SPLIT_MODES.join(', ')}, got "${String(v)}"`);
  return v as SplitMode;
}

const STEP_PATTERN = /^(theory(\*[0-9.eE+-]+)?|[0-9.eE+-]+)$/;
function stepText(v: unknown): string {
  const s = String(v).trim();
  if (!STEP_PATTERN.test(s)) throw new UsageError(`--step: expected a positive number, "theory" or "theory*M" (M > 0), got "${s}"`);
  const numeric = s.startsWith('theory') ? (s.includes('*') ? Number(s.slice(7)) : 1) : Number(s);
  if (!(numeric > 0 && Number.isFinite(numeric))) throw new UsageError(`--step: expected a positive number, "theory" or "theory*M" (M > 0), got "${s}"`);
  return s;
}

function x0Text(v: unknown): string {
  const s = String(v);
  if (s === 'zeros' || s === 'normal') return s;
  const m = /^normal:(.+)$/.exec(s);
  if (m && Number(m[1]) > 0 && Number.isFinite(Number(m[1]))) return s;
  throw new UsageError(`--x0: expected "zeros", "normal" or "normal:σ" with σ > 0, got "${s}"`);
}

function backend(v: unknown): 'cpu' | 'gpu' {
  if (v === 'cpu' || v === 'gpu') return v;
  throw new UsageError(`--backend: expected cpu or gpu, got "${String(v)}"`);
}

/** Canonical JSON (sorted keys, undefined dropped) of the configuration. */
export function canonicalConfig(config: RunConfig): string {
  const entries = Object.entries(config).filter(([, v]) => v !== undefined && v !== false).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(entries));
}

/** Stable id of a configuration: the first 12 hex digits of the SHA-256 of its canonical JSON. */
export function runId(config: RunConfig): string {
  return createHash('sha256').update(canonicalConfig(config)).digest('hex').slice(0, 12);
}
