/**
 * From an experiment to the ordered list of runs. The order is part of the output contract (rows are
 * written in it, shards slice it, merge restores it):
 *   1. for each dataset of `datasets` (in order), the cartesian product of the `matrix` keys in file
 *      order, the first key varying slowest and the last fastest; runs matching an `exclude` entry dropped;
 *   2. then each `include` entry in file order, over the datasets (unless it sets `dataset`), its own
 *      lists expanded the same way.
 * Every run starts from the top-level options; a key given both at the top level and in the matrix is
 * taken from the matrix. `k` is dropped for compressors that take none (so identity × k=[1,10] is one
 * run), and a run equal to an earlier one (same run id) is dropped.
 * With `select: best`, runs that differ only in `step` form one unit; otherwise every run is its own unit.
 */
import { UsageError } from '../core/errors.js';
import { COMPRESSORS } from '../compressors/registry.js';
import { METHODS } from '../methods/registry.js';
import { normalizeConfig, runId, type PartialRunConfig } from './config.js';
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

function toPartialConfig(options: ReadonlyMap<string, OptionValue>): PartialRunConfig {
  const config: Record<string, unknown> = {};
  for (const [key, value] of options) {
    const def = OPTIONS.get(key);
    if (def) config[def.field] = value;
  }
  const compressor = config.compressor as string | undefined;
  const method = METHODS.get(config.method as string);
  const spec = compressor === undefined ? undefined : COMPRESSORS.get(compressor);
  // k means nothing to compressors that take none; dropping it makes identity × k=[1,10] a single run
  const usesK = method?.compressorUse === 'topk' || (spec !== undefined && (spec.requiresK || spec.params.includes('k')));
  if (!usesK && (compressor !== undefined || method?.compressorUse === 'none')) delete config.k;
  return config as unknown as PartialRunConfig;
}

function describeOptions(options: ReadonlyMap<string, OptionValue>): string {
  return [...options].map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`).join(' ');
}

/** The runs of an experiment in matrix order, grouped into units. Throws UsageError for invalid combinations. */
export function expandExperiment(experiment: Experiment): RunUnit[] {
  const candidates: Array<Map<string, OptionValue>> = [];
  for (const dataset of experiment.datasets) {
    const dims = dimensions([['dataset', [dataset]]], experiment.defaults, experiment.matrix);
    for (const run of product(dims)) {
      if (!experiment.exclude.some((entry) => matches(run, entry))) candidates.push(run);
    }
  }
  for (const entry of experiment.include) {
    const datasets: OptionValue[] = entry.some(([k]) => k === 'dataset') ? [] : [...experiment.datasets];
    const dims = dimensions(datasets.length > 0 ? [['dataset', datasets]] : [], experiment.defaults, entry);
    candidates.push(...product(dims));
  }

  const seen = new Set<string>();
  const runs: PlannedRun[] = [];
  for (const options of candidates) {
    let config: RunConfig;
    if (!options.has('method')) {
      throw new UsageError(`${experiment.file}: run ${describeOptions(options)}: no method; set \`method:\` at the top level, as a matrix key or in the include entry (known: ${[...METHODS.keys()].join(', ')})`);
    }
    try {
      config = normalizeConfig(toPartialConfig(options));
    } catch (err) {
      if (err instanceof UsageError) throw new UsageError(`${experiment.file}: run ${describeOptions(options)}: ${err.message}`);
      throw err;
    }
    const id = runId(config);
    if (seen.has(id)) continue;
    seen.add(id);
    runs.push({ config, id });
  }

  if (experiment.select === 'all') return runs.map((run, index) => ({ index, runs: [run] }));
  const groups = new Map<string, PlannedRun[]>();
  for (const run of runs) {
    const key = runId({ ...run.config, step: '' });
    const group = groups.get(key);
    if (group) group.push(run);
    else groups.set(key, [run]);
  }
  return [...groups.values()].map((group, index) => ({ index, runs: group }));
}

/** Short human label of a run, for progress lines and legends. */
export function runLabel(config: RunConfig, withStep = true): string {
  const parts = [config.dataset, config.method, config.compressor];
  if (config.k !== undefined) parts.push(`k=${config.k}`);
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
