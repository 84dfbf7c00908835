/**
 * From an experiment to the ordered list of runs. The order is part of the output contract (rows are
 * written in it, shards slice it, merge restores it):
 *   1. for each dataset of `datasets` (in order), the cartesian product of the `matrix` keys in file
 *      order, the first key varying slowest and the last fastest; runs matching an `exclude` entry dropped;
 *   2. then each `include` entry in file order, over the datasets (unless it sets `dataset`), its own
 *      lists expanded the same way.
 * Every run starts from the top-level options; a key given both at the top level and in the matrix is
 * taken from the matrix. Top-level and matrix options that do not apply to a run are dropped from it
 * (so identity × k=[1,10] is one run; an option that applies to no run is an error), and a run equal
 * to an earlier one (same configuration) is dropped.
 * With `select: best`, runs that differ only in `step` form one unit; otherwise every run is its own unit.
 */
import { UsageError } from '../core/errors.js';
import { OptionError } from '../core/options.js';
import { applicableDeclarations, normalizeConfig, runId, specsOfRaw, type RawOptions, type RunContent } from './config.js';
import { OPTIONS, type Experiment, type OptionLists, type OptionValue } from './experiment.js';
import type { RunConfig } from './types.js';

export interface PlannedRun {
  readonly config: RunConfig;
  readonly id: string;
}

/** What gets written as one block of rows: a run, or (select: best) the best of a step sweep. */
export interface RunUnit {
  /** Position in the full (unsharded) matrix order. */
  readonly index: number;
  readonly runs: readonly PlannedRun[];
}

function product(dims: OptionLists): Array<Map<string, OptionValue>> {
  let out: Array<Map<string, OptionValue>> = [new Map()];
  for (const [key, values] of dims) {
    const next: Array<Map<string, OptionValue>> = [];
    for (const prefix of out) {
      for (const v of values) {
        const m = new Map(prefix);
        m.set(key, v);
        next.push(m);
      }
    }
    out = next;
  }
  return out;
}

function sameValue(a: OptionValue | undefined, b: OptionValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

function matches(run: ReadonlyMap<string, OptionValue>, entry: ReadonlyMap<string, OptionValue[]>): boolean {
  for (const [key, values] of entry) {
    if (!values.some((v) => sameValue(run.get(key), v))) return false;
  }
  return true;
}

/**
 * The product's dimensions: the dataset first (slowest), then the top-level options not overridden,
 * then the overriding keys in file order, then a top-level step sweep (fastest, so that a sweep's runs
 * are neighbours and finish together).
 */
function dimensions(dataset: OptionLists, defaults: OptionLists, overrides: OptionLists): OptionLists {
  const overridden = new Set(overrides.map(([k]) => k));
  const kept = defaults.filter(([k]) => !overridden.has(k));
  return [...dataset, ...kept.filter(([, v]) => v.length === 1), ...overrides, ...kept.filter(([, v]) => v.length > 1)];
}

/**
 * The options of one product cell as raw options by declared name. Options that do not apply to this
 * cell's problem, compressor or method are dropped (so that `compressor: [identity, topk]` with
 * `k: [1, 10]` is three runs); expandExperiment reports an option that applies to no cell of its part
 * of the file. Returns the dropped names too.
 */
function cellOptions(options: ReadonlyMap<string, OptionValue>): { raw: RawOptions; dropped: string[] } {
  const raw: Record<string, OptionValue> = Object.fromEntries(options);
  const dropped: string[] = [];
  let applicable: ReadonlyMap<string, unknown>;
  try {
    applicable = applicableDeclarations(specsOfRaw(raw), raw);
  } catch {
    return { raw, dropped }; // normalizeConfig reports the bad method/problem/compressor
  }
  for (const key of Object.keys(raw)) {
    if (!applicable.has(key) && OPTIONS.has(key)) {
      delete raw[key];
      dropped.push(key);
    }
  }
  return { raw, dropped };
}

function describeOptions(options: ReadonlyMap<string, OptionValue>): string {
  return [...options].map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`).join(' ');
}

/**
 * The runs of an experiment in matrix order, grouped into units. Throws UsageError for invalid
 * combinations, naming the option by its YAML key. `contentOf` gives the content hashes of a run's
 * data (run_id hashes content, spec v2 §6); without it ids cover the configuration only.
 */
export function expandExperiment(experiment: Experiment, contentOf?: (config: RunConfig) => RunContent | undefined): RunUnit[] {
  // `part`: where the cell's options come from (the main product, or include entry i), for the check
  // that every option given in a part applies to at least one of its runs.
  const candidates: Array<{ options: Map<string, OptionValue>; part: string }> = [];
  // Without a method at the top level or in the matrix, the runs are the include entries' alone.
  const hasMethod = [...experiment.defaults, ...experiment.matrix].some(([k]) => k === 'method');
  if (!hasMethod && experiment.include.length === 0) {
    throw new UsageError(`${experiment.file}: method: no run names a method; give \`method\` at the top level, in \`matrix\` or in \`include\` entries`);
  }
  for (const dataset of hasMethod ? experiment.datasets : []) {
    const dims = dimensions([['dataset', [dataset]]], experiment.defaults, experiment.matrix);
    for (const run of product(dims)) {
      if (!experiment.exclude.some((entry) => matches(run, entry))) candidates.push({ options: run, part: 'the matrix and top-level options' });
    }
  }
  experiment.include.forEach((entry, i) => {
    const datasets: OptionValue[] = entry.some(([k]) => k === 'dataset') ? [] : [...experiment.datasets];
    const dims = dimensions(datasets.length > 0 ? [['dataset', datasets]] : [], experiment.defaults, entry);
    for (const run of product(dims)) candidates.push({ options: run, part: `include[${i}]` });
  });

  const seen = new Set<string>();
  const runs: PlannedRun[] = [];
  const given = new Map<string, Set<string>>();
  const used = new Map<string, Set<string>>();
  for (const { options, part } of candidates) {
    const { raw, dropped } = cellOptions(options);
    if (!given.has(part)) {
      given.set(part, new Set());
      used.set(part, new Set());
    }
    for (const key of options.keys()) {
      given.get(part)!.add(key);
      if (!dropped.includes(key)) used.get(part)!.add(key);
    }
    let config: RunConfig;
    try {
      config = normalizeConfig(raw);
    } catch (err) {
      if (err instanceof OptionError) throw new UsageError(`${experiment.file}: run ${describeOptions(options)}: ${err.render({ yamlPath: err.option })}`);
      if (err instanceof UsageError) throw new UsageError(`${experiment.file}: run ${describeOptions(options)}: ${err.message}`);
      throw err;
    }
    const dedupe = runId(config);
    if (seen.has(dedupe)) continue;
    seen.add(dedupe);
    runs.push({ config, id: runId(config, contentOf?.(config)) });
  }
  // An option that applies to no run of its part of the file is a mistake, not something to drop.
  const unused: string[] = [];
  for (const [part, keys] of given) {
    for (const k of keys) {
      if (!used.get(part)!.has(k)) unused.push(`${experiment.file}: ${k}: does not apply to any run of ${part} (it is read by ${OPTIONS.get(k)?.owners.join(', ') ?? 'no registered spec'})`);
    }
  }
  if (unused.length > 0) throw new UsageError(unused.join('\n'));
  if (runs.length === 0) throw new UsageError(`${experiment.file}: the experiment expands to no runs (every product run is excluded); check matrix, exclude and include`);

  if (experiment.select === 'all') return runs.map((run, index) => ({ index, runs: [run] }));
  const groups = new Map<string, PlannedRun[]>();
  for (const run of runs) {
    const key = runId({ ...run.config, step: '' }, contentOf?.(run.config));
    const group = groups.get(key);
    if (group) group.push(run);
    else groups.set(key, [run]);
  }
  return [...groups.values()].map((group, index) => ({ index, runs: group }));
}

/** Short human label of a run, for progress lines and legends. */
export function runLabel(config: RunConfig, withStep = true): string {
  const parts = [config.dataset, config.method, config.compressor];
  if (config.options.k !== undefined) parts.push(`k=${String(config.options.k)}`);
  if (config.workers !== 1) parts.push(`n=${config.workers}`);
  if (config.seed !== 0) parts.push(`seed=${config.seed}`);
  if (withStep) parts.push(`step=${config.step}`);
  return parts.join(' ');
}

/** The i-th of m deterministic slices (1-based i): the units whose matrix index ≡ i−1 (mod m). */
export function shardUnits(units: readonly RunUnit[], shard: { index: number; count: number } | undefined): RunUnit[] {
  if (!shard) return [...units];
  return units.filter((u) => u.index % shard.count === shard.index - 1);
}
