/**
 * The `baseline:` key of an experiment file: a small fast subset of the experiment whose CSV is stored
 * in results/baselines/<name>.csv and rerun by CI (`dcomp baselines`, docs/ci.md). The subset is the
 * experiment itself, reduced in two ways:
 *   - `only: {key: [values]}` keeps the alternatives of an option (or `dataset`) that are among the
 *     values, wherever the file lists that option (datasets, top level, matrix, include entries); an
 *     include entry left with no alternative is dropped;
 *   - any other option given replaces that option's alternatives wherever the file sets it, and is set
 *     at the top level when the file sets it nowhere (typically `iters`, `log_every`, `inner_steps`).
 * So `{iters: 40, only: {k: [1]}}` keeps the experiment's shape (methods, compressors, step sweeps,
 * selection) on fewer runs and iterations.
 */
import type { Experiment, OptionLists, OptionValue } from './experiment.js';
import type { ReportProblem } from './claims-schema.js';

export interface BaselineSpec {
  /** Kept alternatives per key (`dataset` included). */
  readonly only: ReadonlyArray<readonly [string, OptionValue[]]>;
  readonly options: OptionLists;
}

/**
 * Validates `baseline:`; `options` validates one option's alternatives (the experiment parser's own
 * check, so the messages are those of the rest of the file).
 */
export function parseBaselineSpec(raw: unknown, problem: ReportProblem, options: (key: string, value: unknown, path: string) => OptionValue[] | undefined): BaselineSpec | undefined {
  if (raw === undefined) return undefined;
  const mapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!mapping(raw)) {
    problem('baseline', `expected a mapping of run options and only: that make the fast subset (e.g. {iters: 40, only: {k: [1]}}), got ${JSON.stringify(raw)}`);
    return undefined;
  }
  const only: Array<[string, OptionValue[]]> = [];
  const lists: OptionLists = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key !== 'only') {
      if (key === 'dataset' || key === 'datasets') {
        problem(`baseline.${key}`, 'choose datasets with only: {dataset: [...]}');
        continue;
      }
      const alternatives = options(key, value, `baseline.${key}`);
      if (alternatives) lists.push([key, alternatives]);
      continue;
    }
    if (!mapping(value)) {
      problem('baseline.only', `expected a mapping of options (or dataset) to the values to keep, got ${JSON.stringify(value)}`);
      continue;
    }
    for (const [k, v] of Object.entries(value)) {
      const path = `baseline.only.${k}`;
      if (k === 'dataset') {
        const names = Array.isArray(v) ? v : [v];
        if (names.length === 0 || !names.every((d) => typeof d === 'string' && d !== '')) problem(path, `expected dataset names, got ${JSON.stringify(v)}`);
        else only.push([k, names as string[]]);
        continue;
      }
      const alternatives = options(k, v, path);
      if (alternatives) only.push([k, alternatives]);
    }
  }
  return { only, options: lists };
}

function same(a: OptionValue, b: OptionValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

function apply(lists: OptionLists, only: ReadonlyMap<string, OptionValue[]>, overrides: ReadonlyMap<string, OptionValue[]>): OptionLists {
  return lists.map(([k, v]) => {
    const kept = only.has(k) ? v.filter((x) => only.get(k)!.some((y) => same(x, y))) : v;
    return [k, overrides.get(k) ?? kept];
  });
}

/** The experiment restricted to its `baseline:` subset (undefined when it declares none). */
export function baselineSubset(experiment: Experiment): Experiment | undefined {
  const spec = experiment.baseline;
  if (!spec) return undefined;
  const only = new Map(spec.only);
  const overrides = new Map(spec.options);
  const defaults = apply(experiment.defaults, only, overrides);
  const setSomewhere = new Set([...experiment.defaults, ...experiment.matrix, ...experiment.include.flat()].map(([k]) => k));
  for (const [k, v] of spec.options) if (!setSomewhere.has(k)) defaults.push([k, v]);
  const keepDataset = only.get('dataset');
  const include = experiment.include.map((entry) => apply(entry, only, overrides)).filter((entry) => entry.every(([, v]) => v.length > 0));
  return {
    ...experiment,
    datasets: keepDataset ? experiment.datasets.filter((d) => keepDataset.includes(d)) : experiment.datasets,
    // an emptied top-level option or matrix key empties the product, as it should
    defaults,
    matrix: apply(experiment.matrix, only, overrides),
    include: include.filter((entry) => {
      const ds = entry.find(([k]) => k === 'dataset');
      return !keepDataset || !ds || ds[1].some((d) => keepDataset.includes(d as string));
    }).map((entry) => (keepDataset ? entry.map(([k, v]) => [k, k === 'dataset' ? v.filter((d) => keepDataset.includes(d as string)) : v] as [string, OptionValue[]]) : entry)),
  };
}
