/**
 * The `baseline:` key of an experiment file: a small fast subset of the experiment whose CSV is stored
 * in results/baselines/<name>.csv and rerun by CI (`dcomp baselines`, docs/ci.md). The subset is the
 * experiment with some options replaced: each option given replaces that option's alternatives wherever
 * the file sets it (top level, matrix, include entries) and is set at the top level where the file does
 * not; `datasets` replaces the datasets. So `{datasets: [mushrooms], iters: 40, k: [1]}` keeps the
 * experiment's shape (methods, compressors, step sweeps, selection) on less data and fewer iterations.
 */
import type { Experiment, OptionLists, OptionValue } from './experiment.js';
import type { ReportProblem } from './claims-schema.js';

export interface BaselineSpec {
  readonly datasets?: readonly string[];
  readonly options: OptionLists;
}

/**
 * Validates `baseline:`; `options` validates one option's alternatives (the experiment parser's own
 * check, so the messages are those of the rest of the file).
 */
export function parseBaselineSpec(raw: unknown, problem: ReportProblem, options: (key: string, value: unknown, path: string) => OptionValue[] | undefined): BaselineSpec | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problem('baseline', `expected a mapping of datasets and run options that make the fast subset (e.g. {datasets: [mushrooms], iters: 40}), got ${JSON.stringify(raw)}`);
    return undefined;
  }
  let datasets: string[] | undefined;
  const lists: OptionLists = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'datasets') {
      if (!Array.isArray(value) || value.length === 0 || !value.every((d) => typeof d === 'string' && d !== '')) problem('baseline.datasets', `expected a non-empty list of dataset names or paths, got ${JSON.stringify(value)}`);
      else datasets = value as string[];
      continue;
    }
    const alternatives = options(key, value, `baseline.${key}`);
    if (alternatives) lists.push([key, alternatives]);
  }
  return { datasets, options: lists };
}

function replace(lists: OptionLists, overrides: ReadonlyMap<string, OptionValue[]>): OptionLists {
  return lists.map(([k, v]) => [k, overrides.get(k) ?? v]);
}

/** The experiment restricted to its `baseline:` subset (undefined when it declares none). */
export function baselineSubset(experiment: Experiment & { readonly baseline?: BaselineSpec }): Experiment | undefined {
  const spec = experiment.baseline;
  if (!spec) return undefined;
  const overrides = new Map(spec.options);
  const defaults = replace(experiment.defaults, overrides);
  for (const [k, v] of spec.options) if (!experiment.defaults.some(([d]) => d === k)) defaults.push([k, v]);
  return {
    ...experiment,
    datasets: spec.datasets ?? experiment.datasets,
    defaults,
    matrix: replace(experiment.matrix, overrides),
    include: experiment.include.map((entry) => replace(entry, overrides)),
  };
}
