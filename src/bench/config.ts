/**
 * One run's configuration, derived from the declarations: the run-level table (run-options.ts) and
 * the options the run's problem, compressor and method specs declare. Validation, defaults, the
 * "does not apply" rule of spec §6, the canonical form behind run_id and the CSV `params` column all
 * live here, once. Errors are OptionErrors naming the option; the CLI renders them as flags, the
 * experiment parser as YAML keys.
 */
import { createHash } from 'node:crypto';
import { OptionError, mergeDeclarations, readOption, type OptionDecl, type OptionValue } from '../core/options.js';
import type { SplitMode } from '../data/types.js';
import type { ShardSizes } from '../data/split.js';
import { COMPRESSORS } from '../compressors/registry.js';
import type { CompressorSpec } from '../compressors/types.js';
import { METHODS } from '../methods/registry.js';
import type { MethodSpec } from '../methods/types.js';
import { PROBLEMS } from '../problems/registry.js';
import type { ProblemSpec } from '../problems/types.js';
import { RUN_OPTIONS, RUN_OPTION_CONDITIONS } from './run-options.js';
import type { RunConfig } from './types.js';

/** Raw option values by declared name: strings from flags, YAML values, or already-typed values. */
export type RawOptions = Readonly<Record<string, unknown>>;

/** Every declaration of every registered spec, with who declares it (for flags, YAML keys and messages). */
export interface DeclaredOption {
  readonly decl: OptionDecl;
  /** e.g. ['run'] or ['compressor topk', 'compressor randk', …]. */
  readonly owners: readonly string[];
  /** Each owner's own declaration (the same type; defaults may differ, e.g. l2 per problem). */
  readonly byOwner: ReadonlyArray<{ readonly owner: string; readonly decl: OptionDecl }>;
}

export function allDeclarations(): ReadonlyMap<string, DeclaredOption> {
  const out = new Map<string, { decl: OptionDecl; owners: string[]; byOwner: Array<{ owner: string; decl: OptionDecl }> }>();
  const add = (decls: readonly OptionDecl[], owner: string) => {
    for (const decl of decls) {
      const known = out.get(decl.name);
      if (known) {
        if (known.decl.type.accepts !== decl.type.accepts) {
          throw new Error(`option ${decl.name} is declared with two types (${known.decl.type.accepts} / ${decl.type.accepts}) by ${known.owners[0]} and ${owner}`);
        }
        known.owners.push(owner);
        known.byOwner.push({ owner, decl });
      } else out.set(decl.name, { decl, owners: [owner], byOwner: [{ owner, decl }] });
    }
  };
  add(RUN_OPTIONS, 'run');
  for (const s of PROBLEMS.values()) add(s.options, `problem ${s.name}`);
  for (const s of COMPRESSORS.values()) add(s.options, `compressor ${s.name}`);
  for (const s of METHODS.values()) add(s.options, `method ${s.name}`);
  return out;
}

function describeOwners(owners: readonly string[]): string {
  const byKind = new Map<string, string[]>();
  for (const o of owners) {
    const [kind, name] = o.split(' ');
    byKind.set(kind, [...(byKind.get(kind) ?? []), name]);
  }
  return [...byKind].map(([kind, list]) => `${kind}${list.length > 1 ? 's' : ''} ${list.join(', ')}`).join('; ');
}

export interface Specs {
  readonly problem: ProblemSpec;
  readonly method: MethodSpec;
  readonly compressor: CompressorSpec;
}

/** The problem, method and compressor specs a run's raw options name (defaults applied). */
export function specsOfRaw(raw: RawOptions): Specs {
  const read = <T extends OptionValue>(name: string, fallback?: T): T | undefined => {
    const decl = RUN_OPTIONS.find((d) => d.name === name)!;
    if (raw[name] === undefined) {
      if (fallback === undefined && decl.required) throw new OptionError(name, `required: ${decl.help} (${decl.type.accepts})`);
      return fallback;
    }
    return readOption(decl, raw[name]) as T;
  };
  const methodName = read<string>('method')!;
  const method = METHODS.get(methodName)!;
  const problem = PROBLEMS.get(read<string>('problem', 'logreg')!)!;
  // Top-k S-SGD methods sparsify with Top-k by definition, so that is their default compressor.
  const compressorName = read<string>('compressor', method.compressorUse === 'topk' ? 'topk' : 'identity')!;
  const compressor = COMPRESSORS.get(compressorName)!;
  if (method.compressorUse === 'none' && compressorName !== 'identity') {
    throw new OptionError('compressor', `method ${methodName} sends uncompressed gradients and accepts only "identity" (got "${compressorName}"); use cgd, ef or ef21 to compress`);
  }
  if (method.compressorUse === 'topk' && compressorName !== 'topk') {
    throw new OptionError('compressor', `method ${methodName} sparsifies with Top-k by definition and accepts only "topk" (got "${compressorName}")`);
  }
  return { problem, method, compressor };
}

/** The declarations that apply to a run with these specs and run-level values (spec §6). */
export function applicableDeclarations(specs: Specs, raw: RawOptions): Map<string, OptionDecl> {
  const runLevel = RUN_OPTIONS.filter((d) => RUN_OPTION_CONDITIONS[d.name]?.when(raw) ?? true);
  return mergeDeclarations([runLevel, specs.problem.options, specs.compressor.options, specs.method.options]);
}

function whatRuns(specs: Specs): string {
  return `problem ${specs.problem.name}, method ${specs.method.name}, compressor ${specs.compressor.name}`;
}

/**
 * Fills defaults and validates every option; throws OptionError naming the option (a value not
 * accepted, a required option missing, an option that does not apply to this run).
 */
export function normalizeConfig(raw: RawOptions): RunConfig {
  const specs = specsOfRaw(raw);
  const known = allDeclarations();
  const withBackend = { ...raw, backend: raw.backend ?? 'cpu' };
  const applicable = applicableDeclarations(specs, withBackend);
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || applicable.has(name)) continue;
    const declared = known.get(name);
    if (!declared) throw new OptionError(name, `unknown option; known: ${[...known.keys()].join(', ')}`);
    const condition = RUN_OPTION_CONDITIONS[name];
    const reason = condition ? `it needs ${condition.needs}` : `it is read by ${describeOwners(declared.owners)}`;
    throw new OptionError(name, `does not apply to this run (${whatRuns(specs)}): ${reason}`);
  }
  const values: Record<string, OptionValue> = {};
  for (const decl of applicable.values()) {
    const given = raw[decl.name];
    if (given !== undefined) values[decl.name] = readOption(decl, given);
    else if (decl.default !== undefined) values[decl.name] = decl.default;
    else if (decl.required && decl.name !== 'compressor') {
      throw new OptionError(decl.name, `required by ${whatRuns(specs)}: ${decl.help} (${decl.type.accepts})`);
    }
  }
  values.problem = specs.problem.name;
  values.compressor = specs.compressor.name;
  if (values.test !== undefined && values.holdout !== undefined) {
    throw new OptionError('holdout', 'give either a test set (test) or a holdout share (holdout), not both');
  }
  if (values.x0 === undefined) values.x0 = specs.problem.seededInitialization ? 'init' : 'zeros';
  if (values.x0 === 'init' && !specs.problem.seededInitialization) {
    throw new OptionError('x0', `problem ${specs.problem.name} has no seeded initialisation; use zeros, normal[:σ] or file:PATH`);
  }
  const owned: Record<string, OptionValue> = {};
  for (const decl of [...specs.problem.options, ...specs.compressor.options, ...specs.method.options]) {
    if (values[decl.name] !== undefined) owned[decl.name] = values[decl.name];
  }
  const run = (name: string) => values[name];
  return {
    dataset: run('dataset') as string,
    problem: specs.problem.name,
    method: specs.method.name,
    compressor: specs.compressor.name,
    workers: run('workers') as number,
    step: (run('step') as string).trim(),
    iters: run('iters') as number,
    split: run('split') as SplitMode,
    shard_sizes: run('shard_sizes') as ShardSizes,
    seed: run('seed') as number,
    log_every: run('log_every') as number,
    batch: run('batch') as number | undefined,
    float_bits: run('float_bits') as number,
    index_bits: run('index_bits') as number | undefined,
    x0: run('x0') as string,
    features: run('features') as number | undefined,
    test: run('test') as string | undefined,
    holdout: run('holdout') as number | undefined,
    backend: run('backend') as 'cpu' | 'gpu',
    gpu_mode: run('gpu_mode') as string | undefined,
    allow_software_gpu: run('allow_software_gpu') as boolean | undefined,
    options: owned,
  };
}

/** The RunConfig as raw options again (to re-normalise a modified copy, e.g. in tests and matrices). */
export function configOptions(config: RunConfig): Record<string, OptionValue> {
  const { options, ...runLevel } = config;
  const out: Record<string, OptionValue> = {};
  for (const [k, v] of Object.entries(runLevel)) if (v !== undefined) out[k] = v as OptionValue;
  return { ...out, ...options };
}

/** The declarations of a normalised config (applicable ones only). */
export function configDeclarations(config: RunConfig): Map<string, OptionDecl> {
  return applicableDeclarations(specsOfRaw(configOptions(config)), config as unknown as RawOptions);
}

/** What a run's numbers depend on besides its options: the data's content (sha256). */
export interface RunContent {
  readonly dataset: string;
  readonly test?: string;
  /** sha256 of an `x0: file:PATH`'s numbers. */
  readonly x0?: string;
}

/** Canonical JSON (sorted keys, undefined dropped) of the configuration, with the content hashes. */
export function canonicalConfig(config: RunConfig, content?: RunContent): string {
  const flat: Record<string, unknown> = { ...configOptions(config) };
  // The path names where the data was found, the content says what it is (spec §6).
  if (content) {
    flat.dataset = `sha256:${content.dataset}`;
    if (content.test !== undefined) flat.test = `sha256:${content.test}`;
    if (content.x0 !== undefined) flat.x0 = `file:${content.x0}`;
  }
  const entries = Object.entries(flat)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(entries));
}

/**
 * Stable id of a configuration and its data: the first 12 hex digits of the SHA-256 of its canonical
 * JSON. Options left to a default computed from d (index_bits, dims) enter as absent.
 */
export function runId(config: RunConfig, content?: RunContent): string {
  return createHash('sha256').update(canonicalConfig(config, content)).digest('hex').slice(0, 12);
}

/** `;` and `=` separate the params column's pairs; a value holding them (a path) is percent-encoded. */
function paramText(value: string): string {
  return value.replace(/[%;=\u0000-\u001f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/**
 * The CSV `params` column (spec §6): every applicable option recorded as `params`, effective values
 * (defaults and values derived from d included), `name=value` in name order joined by `;`.
 */
export function paramsColumn(config: RunConfig, d: number): string {
  const values = configOptions(config);
  const pairs: string[] = [];
  for (const decl of configDeclarations(config).values()) {
    if (decl.record !== 'params') continue;
    const value = values[decl.name] ?? decl.derive?.({ d });
    if (value === undefined) continue;
    pairs.push(`${decl.name}=${paramText(decl.type.format(value as never))}`);
  }
  return pairs.sort().join(';');
}
