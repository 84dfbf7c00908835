/**
 * Experiment files (experiments/*.yaml): parsed with `yaml`, every value validated with `zod`, and every
 * error names the file, the key path and what is accepted, e.g.
 * `experiments/x.yaml: matrix.compressor[2]: unknown compressor "top-k"; known: identity, topk, …`.
 * The file format is documented in docs/bench.md.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../core/errors.js';
import { SPEC_VERSION } from '../core/version.js';
import { OptionError, readOption, type OptionValue } from '../core/options.js';
import { STEP_ACCEPTS as STEP_ONE_ACCEPTS } from '../methods/step.js';
import { X_COLUMNS, Y_COLUMNS } from '../report/plot.js';
import { allDeclarations, type DeclaredOption } from './config.js';
import { filterKeysFor, parseClaims } from './claims-schema.js';
import { parseReportSpec, type ReportSpec } from './report-schema.js';
import { parseBaselineSpec, type BaselineSpec } from './baseline.js';
import { BENCH_COLUMNS } from '../report/csv.js';
import type { Claim } from '../report/claims.js';

export type { OptionValue };

/** Options in file order: [YAML key, alternatives]. */
export type OptionLists = Array<[string, OptionValue[]]>;

export interface Experiment {
  readonly file: string;
  readonly name: string;
  readonly description?: string;
  readonly specVersion: number;
  readonly datasets: readonly string[];
  /** Top-level options (one value each, except `step` which may be a sweep). */
  readonly defaults: OptionLists;
  /** `matrix:` dimensions in file order (the first varies slowest). */
  readonly matrix: OptionLists;
  /** Each entry drops the product runs that match all its keys (a list matches any of its values). */
  readonly exclude: ReadonlyArray<ReadonlyMap<string, OptionValue[]>>;
  /** Each entry adds runs: defaults overridden by the entry, lists expanded as a product. */
  readonly include: readonly OptionLists[];
  /** `best`: of the runs that differ only in `step`, keep the one with the lowest final ‖∇f‖². */
  readonly select: 'all' | 'best';
  /**
   * What `select: best` minimises at the last row: `grad_norm_sq` (default; the EF21 paper's criterion)
   * or `loss` (for non-convex problems such as mlp, where a dead ReLU network has a tiny gradient).
   */
  readonly selectBy: 'grad_norm_sq' | 'loss';
  /** The plot at the end of the bench (overridden by --plot-x/--plot-y). */
  readonly plot: { readonly x?: string; readonly y?: string; readonly log_x?: boolean };
  /** `claims:`, `report:`, `baseline:` (docs/reproductions.md). */
  readonly claims: readonly Claim[];
  readonly report: ReportSpec;
  readonly baseline?: BaselineSpec;
}

function show(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (v === undefined) return 'nothing';
  return JSON.stringify(v);
}

function accepts(what: string) {
  return (issue: { input?: unknown }) => `expected ${what}, got ${show(issue.input)}`;
}

function oneOf<T extends string>(values: readonly T[]): z.ZodType<string> {
  return z.string({ error: accepts(`one of ${values.join(', ')}`) }).refine((v) => (values as readonly string[]).includes(v), {
    error: accepts(`one of ${values.join(', ')}`),
  });
}

const nonEmptyString = z.string({ error: accepts('a non-empty string') }).min(1, { error: accepts('a non-empty string') });

/**
 * Every option an experiment may set, by its YAML key: the declared name (core/options.ts) of a
 * run-level option or of an option some problem, compressor or method declares.
 */
export const OPTIONS: ReadonlyMap<string, DeclaredOption> = allDeclarations();

/** What an experiment's `step` accepts: one value, or a sweep (expanded before each value is checked). */
const STEP_ACCEPTS = `${STEP_ONE_ACCEPTS} or a sweep "theory*[1,2,4,...,64]"`;

/** What a version-1 experiment file is told (spec v2 §7). */
const V1_TO_V2 =
  'the file is written for spec version 1; this dcomp implements spec version 2, in which every gtopk number changes ' +
  '(the residual is ε_i = acc_i − s_i ⊙ gMask, as the authors compute it), the CSV has the new columns l2, batch, x0, params and device, ' +
  'run_id hashes the dataset content, and an option that does not apply to a run is an error. ' +
  'To update: set `spec_version: 2`, rerun (results go to results/<name>/2/), and compare against results of version 2 only';

const TOP_LEVEL_KEYS = ['name', 'description', 'spec_version', 'datasets', 'select', 'select_by', 'plot', 'matrix', 'exclude', 'include', 'claims', 'report', 'baseline'];

/** Collects every problem in the file before failing, so one edit fixes them all. */
class Problems {
  readonly lines: string[] = [];
  constructor(readonly file: string) {}
  add(path: string, message: string): void {
    this.lines.push(`${this.file}: ${path === '' ? '(top level)' : path}: ${message}`);
  }
  /** A declared option's value, or undefined with the message at its key path. */
  option(decl: DeclaredOption['decl'], value: unknown, path: string): OptionValue | undefined {
    try {
      return readOption(decl, value);
    } catch (err) {
      if (err instanceof OptionError) {
        this.add(path, err.detail);
        return undefined;
      }
      throw err;
    }
  }
  check<T>(schema: z.ZodType<T>, value: unknown, path: string): T | undefined {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    const sub = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    this.add(path + sub, issue.message);
    return undefined;
  }
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Expands a step sweep `theory*[a,b,…]` (or `[a,b,…]` of numbers as `0.1*[1,2]`) into its steps.
 * `...` or `…` continues the geometric progression of the two terms before it up to the term after it.
 */
export function expandStepSweep(text: string): string[] | string {
  const m = /^\s*(theory|[0-9.eE+-]+)\s*\*\s*\[(.*)\]\s*$/.exec(text);
  if (!m) return [text];
  const base = m[1];
  const parts = m[2].split(',').map((s) => s.trim());
  const factors: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p === '...' || p === '…') {
      if (factors.length < 2 || i !== parts.length - 2) return `"${p}" needs two terms before it and one after it`;
      const ratio = factors[factors.length - 1] / factors[factors.length - 2];
      const end = Number(parts[i + 1]);
      if (!(ratio > 1) || !(end > 0)) return 'a sweep with "..." must grow geometrically up to its last term';
      let next = factors[factors.length - 1] * ratio;
      while (next < end * (1 - 1e-12)) {
        factors.push(next);
        next *= ratio;
        if (factors.length > 1000) return 'a sweep may have at most 1000 steps';
      }
      if (Math.abs(next - end) > 1e-12 * end) return `the progression ×${ratio} does not reach ${parts[i + 1]} exactly`;
      continue;
    }
    const x = Number(p);
    if (p === '' || !Number.isFinite(x) || x <= 0) return `sweep factor ${JSON.stringify(p)} is not a number > 0`;
    factors.push(x);
  }
  if (factors.length === 0) return 'empty sweep';
  return factors.map((f) => (base === 'theory' ? `theory*${f}` : String(Number(base) * f)));
}

/**
 * Validates one option's alternatives. `asList`: the YAML value is a list of alternatives (in `matrix`,
 * `include`, `exclude`); otherwise a single value. Step sweeps expand into several alternatives.
 */
function optionAlternatives(key: string, raw: unknown, path: string, asList: boolean, problems: Problems): OptionValue[] | undefined {
  const def = OPTIONS.get(key);
  if (!def) {
    problems.add(path, `unknown option; known: ${[...OPTIONS.keys()].join(', ')}`);
    return undefined;
  }
  const decl = def.decl;
  const items: Array<[unknown, string]> = asList && Array.isArray(raw) ? raw.map((v, i) => [v, `${path}[${i}]`]) : [[raw, path]];
  if (asList && Array.isArray(raw) && raw.length === 0) {
    problems.add(path, 'expected a non-empty list of alternatives');
    return undefined;
  }
  if (asList && decl.type.list && Array.isArray(raw) && raw.every((v) => typeof v === 'number') && key === 'dims') {
    problems.add(path, `expected a list of alternatives, each a list of integers ≥ 1 (e.g. [${JSON.stringify(raw)}])`);
    return undefined;
  }
  const out: OptionValue[] = [];
  let ok = true;
  for (const [value, p] of items) {
    if (key === 'step' && typeof value === 'string' && value.includes('[')) {
      const steps = expandStepSweep(value);
      if (typeof steps === 'string') {
        problems.add(p, `${steps}; expected ${STEP_ACCEPTS}`);
        ok = false;
        continue;
      }
      for (const s of steps) {
        const v = problems.option(decl, s, p);
        if (v === undefined) ok = false;
        else out.push(v);
      }
      continue;
    }
    const v = problems.option(decl, value, p);
    if (v === undefined) ok = false;
    else out.push(v);
  }
  return ok ? out : undefined;
}

function optionMap(raw: unknown, path: string, problems: Problems, single: boolean): OptionLists | undefined {
  if (!isMapping(raw)) {
    problems.add(path, `expected a mapping of options (${[...OPTIONS.keys()].join(', ')}), got ${show(raw)}`);
    return undefined;
  }
  const out: OptionLists = [];
  for (const [key, value] of Object.entries(raw)) {
    const p = path === '' ? key : `${path}.${key}`;
    const alternatives = optionAlternatives(key, value, p, !single, problems);
    if (alternatives) out.push([key, alternatives]);
  }
  return out;
}

/** Experiment files are a few kilobytes; a larger one is a mistake (or an attack), refused before parsing. */
export const MAX_EXPERIMENT_BYTES = 1 << 20;
/** Alias uses allowed when the YAML is expanded (the yaml library's own default), against alias bombs. */
const MAX_ALIAS_COUNT = 100;

function tooLarge(file: string, bytes: number): UsageError {
  return new UsageError(`${file}: the experiment file is ${bytes} bytes; at most ${MAX_EXPERIMENT_BYTES} (1 MiB) are accepted`);
}

/** Parses and validates an experiment file's text; throws UsageError listing every problem. */
export function parseExperiment(text: string, file: string): Experiment {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_EXPERIMENT_BYTES) throw tooLarge(file, bytes);
  const problems = new Problems(file);
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const where = e.linePos ? `:${e.linePos[0].line}:${e.linePos[0].col}` : '';
    throw new UsageError(`${file}${where}: not valid YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // yaml refuses documents whose aliases expand beyond the limit (a "billion laughs" file).
    throw new UsageError(`${file}: its YAML aliases expand too much (${err instanceof Error ? err.message : String(err)}; at most ${MAX_ALIAS_COUNT} alias uses, counted with their expansion)`);
  }
  if (!isMapping(root)) throw new UsageError(`${file}: expected a mapping with keys ${TOP_LEVEL_KEYS.join(', ')} and run options`);

  const name = problems.check(
    z.string({ error: accepts('a name of letters, digits, ".", "_" or "-"') }).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
      error: accepts('a name of letters, digits, ".", "_" or "-" (it becomes a directory name)'),
    }),
    root.name,
    'name',
  );
  const description = root.description === undefined ? undefined : problems.check(z.string({ error: accepts('a string') }), root.description, 'description');
  if (root.spec_version === undefined) problems.add('spec_version', `required; this dcomp implements spec version ${SPEC_VERSION}`);
  else if (root.spec_version === 1 && SPEC_VERSION === 2) {
    problems.add('spec_version', V1_TO_V2);
  } else if (root.spec_version !== SPEC_VERSION) {
    problems.add('spec_version', `this dcomp implements spec version ${SPEC_VERSION}, the file asks for ${show(root.spec_version)}; results of another spec version are not comparable`);
  }
  const datasets = problems.check(
    z.array(nonEmptyString, { error: accepts('a non-empty list of dataset names or paths') }).min(1, { error: accepts('a non-empty list of dataset names or paths') }),
    root.datasets,
    'datasets',
  );
  const select =
    root.select === undefined
      ? 'all'
      : (problems.check(oneOf(['all', 'best']), root.select, 'select') as 'all' | 'best' | undefined);

  const plot = (problems.check(
    z.strictObject(
      { x: oneOf(X_COLUMNS).optional(), y: oneOf(Y_COLUMNS).optional(), log_x: z.boolean({ error: accepts('true or false') }).optional() },
      { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown key; accepted: x, y, log_x` : accepts('a mapping with x, y and/or log_x')(iss)) },
    ),
    root.plot ?? {},
    'plot',
  ) ?? {}) as { x?: string; y?: string; log_x?: boolean };
  const report = (path: string, message: string) => problems.add(path, message);
  const claims = parseClaims(root.claims, report, filterKeysFor(BENCH_COLUMNS, OPTIONS.keys()));
  const reportSpec = parseReportSpec(root.report, report);
  const baseline = parseBaselineSpec(root.baseline, report, (key, value, path) => (key === 'dataset' ? (problems.add(path, 'use `datasets:` (a list)'), undefined) : optionAlternatives(key, value, path, true, problems)));

  const defaults: OptionLists = [];
  for (const [key, value] of Object.entries(root)) {
    if (TOP_LEVEL_KEYS.includes(key)) continue;
    if (key === 'dataset') {
      problems.add(key, 'use `datasets:` (a list) at the top level');
      continue;
    }
    if (!OPTIONS.has(key)) {
      problems.add(key, `unknown key; accepted: ${TOP_LEVEL_KEYS.join(', ')} and the run options ${[...OPTIONS.keys()].join(', ')}`);
      continue;
    }
    const alternatives = optionAlternatives(key, value, key, false, problems);
    if (alternatives) defaults.push([key, alternatives]);
  }

  const matrix: OptionLists = root.matrix === undefined ? [] : (optionMap(root.matrix, 'matrix', problems, false) ?? []);
  for (const [key] of matrix) {
    if (key === 'dataset') problems.add('matrix.dataset', 'datasets are given by the top-level `datasets:` list');
  }

  const exclude: Array<Map<string, OptionValue[]>> = [];
  if (root.exclude !== undefined) {
    if (!Array.isArray(root.exclude)) problems.add('exclude', `expected a list of option mappings, got ${show(root.exclude)}`);
    else
      root.exclude.forEach((entry, i) => {
        const m = optionMap(entry, `exclude[${i}]`, problems, false);
        if (m) exclude.push(new Map(m));
      });
  }
  const include: OptionLists[] = [];
  if (root.include !== undefined) {
    if (!Array.isArray(root.include)) problems.add('include', `expected a list of option mappings, got ${show(root.include)}`);
    else
      root.include.forEach((entry, i) => {
        const m = optionMap(entry, `include[${i}]`, problems, false);
        if (m) include.push(m);
      });
  }

  if (problems.lines.length > 0) throw new UsageError(problems.lines.join('\n'));
  return {
    file,
    name: name as string,
    description,
    specVersion: SPEC_VERSION,
    datasets: datasets as string[],
    defaults,
    matrix,
    exclude,
    include,
    select: select ?? 'all',
    selectBy: (root.select_by === undefined ? 'grad_norm_sq' : problems.check(oneOf(['grad_norm_sq', 'loss']), root.select_by, 'select_by')) as 'grad_norm_sq' | 'loss',
    plot,
    claims,
    report: reportSpec,
    baseline,
  };
}

export function loadExperiment(file: string, displayName: string = file): Experiment {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_EXPERIMENT_BYTES) throw tooLarge(displayName, size);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${displayName}: cannot read the experiment file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseExperiment(text, displayName);
}
