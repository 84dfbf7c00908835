import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../src/core/errors.js';
import { parseExperiment } from '../src/bench/experiment.js';
import { baselineSubset } from '../src/bench/baseline.js';
import { expandExperiment } from '../src/bench/matrix.js';
import { SPEC_VERSION } from '../src/core/version.js';

const HEAD = `name: t\nspec_version: ${SPEC_VERSION}\ndatasets: [mushrooms, a9a]\nmethod: cgd\n`;

function errorOf(text: string): string {
  try {
    parseExperiment(text, 'experiments/x.yaml');
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
    return (err as Error).message;
  }
  assert.fail('expected the experiment to be rejected');
}

const CLAIM = `claims:
  - id: beat
    statement: imp-a beats randk
    metric: grad_norm_sq
    at: {iteration: 100}
    a: {compressor: imp-a}
    b: {compressor: [randk, brandk], aggregate: median}
    per: [k, dataset]
    relation: "<= x1.1"
`;

test('a valid claim keeps its metric, budget, groups, per columns and relation', () => {
  const e = parseExperiment(`${HEAD}${CLAIM}`, 'x.yaml');
  assert.equal(e.claims.length, 1);
  const c = e.claims[0];
  assert.equal(c.id, 'beat');
  assert.deepEqual(c.at, { kind: 'value', column: 'iteration', value: 100 });
  assert.deepEqual(c.a.where, [['compressor', ['imp-a']]]);
  assert.ok(!('constant' in c.b));
  assert.deepEqual('constant' in c.b ? undefined : [c.b.where, c.b.aggregate], [[['compressor', ['randk', 'brandk']]], 'median']);
  assert.deepEqual(c.per, ['k', 'dataset']);
  assert.deepEqual(c.relation, { op: '<=', factor: 1.1, text: '<= ×1.1' });
  assert.equal(c.aggregate, 'best');
});

test('every problem of a claim is named with the file and its key path', () => {
  const message = errorOf(`${HEAD}claims:
  - id: bad one
    metric: gradnorm
    at: {iterations: 5}
    a: {compresor: imp-a}
    relation: "about the same"
    per: [kk]
  - id: two
    metric: loss
    at: {bits_up_per_worker: -1}
    a: {compressor: topk, aggregate: mean}
    b: {compressor: randk}
    relation: "<"
    extra: 1
`);
  const lines = message.split('\n');
  const has = (re: RegExp) => assert.ok(lines.some((l) => re.test(l)), `${re} in\n${message}`);
  has(/^experiments\/x\.yaml: claims\[0\]\.id: expected a name of letters, digits/);
  has(/^experiments\/x\.yaml: claims\[0\]\.metric: expected one of grad_norm_sq, loss, .*got "gradnorm"$/);
  has(/^experiments\/x\.yaml: claims\[0\]\.at\.iterations: unknown budget column; accepted: iteration, epoch, bits_up_per_worker/);
  has(/^experiments\/x\.yaml: claims\[0\]\.a\.compresor: unknown column or option; accepted: at, aggregate and .*compressor/);
  has(/^experiments\/x\.yaml: claims\[0\]\.b: required/);
  has(/^experiments\/x\.yaml: claims\[0\]\.relation: expected a relation: .*got "about the same"$/);
  has(/^experiments\/x\.yaml: claims\[0\]\.per: .*unknown: "kk"/);
  has(/^experiments\/x\.yaml: claims\[1\]\.at\.bits_up_per_worker: expected a number ≥ 0 or "common", got -1$/);
  has(/^experiments\/x\.yaml: claims\[1\]\.a\.aggregate: expected one of best, worst, min, median, max, got "mean"$/);
  has(/^experiments\/x\.yaml: claims\[1\]\.extra: unknown key; accepted: id, statement/);
  assert.match(errorOf(`${HEAD}claims:\n  - {id: r, metric: bits_up_per_worker, at: {reach: {gradnorm: 1}}, a: {method: cgd}, b: 1, relation: "<"}\n`), /claims\[0\]\.at\.reach: expected one metric and its target, e\.g\. \{grad_norm_sq: 1e-8\}/);
  const ok = parseExperiment(`${HEAD}claims:\n  - {id: r, metric: bits_up_per_worker, at: {reach: {grad_norm_sq: 1e-8}}, a: {method: cgd}, b: 1, relation: "<"}\n`, 'x.yaml');
  assert.deepEqual(ok.claims[0].at, { kind: 'reach', column: 'grad_norm_sq', value: 1e-8 });
});

test('duplicate claim ids and a non-list claims key are rejected', () => {
  const dup = errorOf(`${HEAD}claims:\n  - {id: a, metric: loss, a: {method: cgd}, b: 1, relation: "<"}\n  - {id: a, metric: loss, a: {method: cgd}, b: 2, relation: "<"}\n`);
  assert.match(dup, /claims\[1\]\.id: "a" is already the id of an earlier claim/);
  assert.match(errorOf(`${HEAD}claims: {id: a}\n`), /experiments\/x\.yaml: claims: expected a list of claims/);
});

test('report figures and plot.log_x are validated with their key paths', () => {
  const m = errorOf(`${HEAD}plot: {log_x: yes}\nreport:\n  figures:\n    - {x: bits, y: grad_norm_sq}\n  traffic: {k: 5, d: 3}\n  colour: red\n`);
  assert.match(m, /experiments\/x\.yaml: plot\.log_x: expected true or false, got "yes"/);
  assert.match(m, /experiments\/x\.yaml: report\.figures\[0\]\.x: expected one of iteration, epoch, bits_up_per_worker/);
  assert.match(m, /experiments\/x\.yaml: report: unknown key colour/);
  const ok = parseExperiment(`${HEAD}plot: {log_x: true}\nreport:\n  figures:\n    - {x: bits_up_per_worker, y: grad_norm_sq, log_x: true, filter: {k: [1, 8], dataset: a9a}}\n  traffic: {k: 3, d: 300}\n`, 'x.yaml');
  assert.equal(ok.plot.log_x, true);
  assert.deepEqual(ok.report.figures[0].filter, [['k', ['1', '8']], ['dataset', ['a9a']]]);
  assert.deepEqual(ok.report.traffic, { methods: ['topk-ssgd', 'gtopk'], k: 3, d: 300, workers: undefined });
});

test('a baseline subset keeps only the chosen alternatives and replaces the options it sets, where the file sets them', () => {
  const e = parseExperiment(
    `${HEAD}iters: 500\nstep: "0.5*[1,2,4]"\nselect: best\nmatrix:\n  compressor: [topk, randk]\n  k: [1, 8]\ninclude:\n  - {compressor: imp-b, k: 8, inner_steps: 20}\n  - {dataset: a9a, compressor: randk, k: 2}\nbaseline:\n  iters: 20\n  inner_steps: 2\n  only: {dataset: [mushrooms], k: [1, 8]}\n`,
    'x.yaml',
  );
  const subset = baselineSubset(e)!;
  const units = expandExperiment(subset);
  const runs = units.map((u) => `${u.runs[0].config.dataset} ${u.runs[0].config.compressor} k=${u.runs[0].config.options.k} iters=${u.runs[0].config.iters} inner=${u.runs[0].config.options.inner_steps ?? ''} steps=${u.runs.length}`);
  assert.deepEqual(runs, [
    'mushrooms topk k=1 iters=20 inner= steps=3',
    'mushrooms topk k=8 iters=20 inner= steps=3',
    'mushrooms randk k=1 iters=20 inner= steps=3',
    'mushrooms randk k=8 iters=20 inner= steps=3',
    'mushrooms imp-b k=8 iters=20 inner=2 steps=3',
  ]);
  assert.equal(expandExperiment(e).length, 11, 'the full experiment is untouched (2 datasets × 4 + imp-b × 2 + a9a randk k=2)');
  assert.match(errorOf(`${HEAD}baseline: {iters: -1, only: {k: [0]}}\n`), /baseline\.iters: expected an integer ≥ 0, got -1[\s\S]*baseline\.only\.k\[0\]: expected an integer ≥ 1, got 0/);
});
