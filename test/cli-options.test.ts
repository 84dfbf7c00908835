/**
 * Options declared once (spec v2 §6): flags and YAML keys derive from one declaration, an option that
 * does not apply is an error naming it as the user wrote it, and the CSV says what ran.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dcomp, tempDir, DATA_DIR } from './bench-cli-helpers.js';
import { parseExperiment } from '../src/bench/experiment.js';
import { expandExperiment } from '../src/bench/matrix.js';
import { normalizeConfig, paramsColumn, runId } from '../src/bench/config.js';
import { COMPRESSORS } from '../src/compressors/registry.js';
import { METHODS } from '../src/methods/registry.js';
import { PROBLEMS } from '../src/problems/registry.js';

const cache = tempDir('dcomp-options-cache-');
const dir = tempDir('dcomp-options-');

function csvRows(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trimEnd().split('\n');
  const cols = header.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [cols[i], v])));
}

test('an option that does not apply to the run is an error naming the flag and who reads it (exit 2)', () => {
  const r = dcomp(['run', '--dataset', 'mushrooms', '--method', 'gd', '--k', '5', '--iters', '1'], cache);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--k: does not apply to this run \(problem logreg, method gd, compressor identity\): it is read by compressors topk, randk/);
  const e = dcomp(['run', '--dataset', 'mushrooms', '--method', 'cgd', '--compressor', 'topk', '--k', '3', '--inner-steps', '5', '--iters', '1'], cache);
  assert.equal(e.status, 2);
  assert.match(e.stderr, /--inner-steps: does not apply.*compressors imp-b, imp-c/);
  const g = dcomp(['run', '--dataset', 'mushrooms', '--method', 'gd', '--ef21-init', 'full', '--iters', '1'], cache);
  assert.match(g.stderr, /--ef21-init: does not apply.*method ef21/);
});

test('the same mistake in an experiment file is named by its YAML key', () => {
  const text = 'name: t\nspec_version: 2\ndatasets: [mushrooms]\ninclude:\n  - {method: cgd, compressor: imp-b, k: 3, inner_steps: 0}\n';
  assert.throws(() => expandExperiment(parseExperiment(text, 'x.yaml')), /x\.yaml: include\[0\]\.inner_steps: expected an integer ≥ 1, got 0/);
  const wrong = 'name: t\nspec_version: 2\ndatasets: [mushrooms]\ninclude:\n  - {method: cgd, compressor: topk, k: 3, inner_steps: 4}\n';
  assert.throws(() => expandExperiment(parseExperiment(wrong, 'x.yaml')), /x\.yaml: inner_steps: does not apply to any run of include\[0\] \(it is read by compressor imp-b, compressor imp-c\)/);
  // dropped where it does not apply, kept where it does
  const mixed = 'name: t\nspec_version: 2\ndatasets: [mushrooms]\ninclude:\n  - {method: cgd, compressor: [imp-a, imp-b], k: 3, inner_steps: 4, step: 0.5}\n';
  const runs = expandExperiment(parseExperiment(mixed, 'x.yaml')).map((u) => u.runs[0].config.options);
  assert.deepEqual(runs.map((o) => o.inner_steps), [undefined, 4]);
  const unused = 'name: t\nspec_version: 2\ndatasets: [mushrooms]\nranks: 2\nmatrix:\n  method: [cgd]\n  compressor: [topk]\n  k: [1]\n';
  assert.throws(() => expandExperiment(parseExperiment(unused, 'x.yaml')), /ranks: does not apply to any run of the matrix and top-level options/);
});

test('a version-1 experiment file is refused with what changed and how to update it', () => {
  assert.throws(() => parseExperiment('name: t\nspec_version: 1\ndatasets: [mushrooms]\n', 'old.yaml'), /old\.yaml: spec_version: the file is written for spec version 1.*gtopk.*To update: set `spec_version: 2`/s);
});

test('--seed accepts [0, 2^53 − 1] and refuses beyond it', () => {
  assert.equal(normalizeConfig({ dataset: 'd', method: 'gd', seed: String(2 ** 53 - 1) }).seed, 2 ** 53 - 1);
  for (const bad of ['9007199254740992', '-1', '1.5', '1e400']) {
    assert.throws(() => normalizeConfig({ dataset: 'd', method: 'gd', seed: bad }), /--seed: expected an integer in \[0, 2\^53 − 1\]/, bad);
  }
});

test('every registered spec declares options whose flags and YAML keys are the declared names, with help', () => {
  for (const spec of [...PROBLEMS.values(), ...COMPRESSORS.values(), ...METHODS.values()]) {
    for (const decl of spec.options) {
      assert.match(decl.name, /^[a-z][a-z0-9_]*$/, `${spec.name}: ${decl.name}`);
      assert.ok(decl.help.length > 0, `${spec.name}: ${decl.name} has help`);
    }
  }
  const help = dcomp(['run', '--help'], cache);
  for (const flag of ['--k <k>', '--inner-steps', '--ef21-init', '--shard-sizes', '--index-bits', '--x0', '--ranks', '--dims', '--holdout', '--seed']) {
    assert.ok(help.stdout.includes(flag), `run --help lists ${flag}`);
  }
});

test('the params column holds every applicable option with effective values, in name order', () => {
  const hosvd = normalizeConfig({ dataset: 'mushrooms', method: 'ef21', compressor: 'hosvd', ranks: '2' });
  assert.equal(paramsColumn(hosvd, 112), 'dims=5x5x5;ef21_init=compressed;float_bits=32;index_bits=7;ranks=2;shard_sizes=balanced');
  const imp = normalizeConfig({ dataset: 'mushrooms', method: 'cgd', compressor: 'imp-c', k: 3, step: '0.5', index_bits: '0', test: 'a;b=c' });
  assert.equal(paramsColumn(imp, 112), 'float_bits=32;imp_c_scale=false;index_bits=0;inner_step=1;inner_steps=20;shard_sizes=balanced;test=a%3Bb%3Dc');
});

test('run_id hashes the dataset content, not its path; the CSV names l2, batch, x0, params and device', () => {
  const byName = csvRows(dcomp(['run', '--dataset', 'mushrooms', '--method', 'gd', '--iters', '2'], cache).stdout);
  const byPath = csvRows(dcomp(['run', '--dataset', join(DATA_DIR, 'mushrooms'), '--method', 'gd', '--iters', '2'], cache).stdout);
  assert.equal(byName[0].run_id, byPath[0].run_id);
  const row = byName[0];
  assert.equal(row.l2, '0.001');
  assert.equal(row.batch, '');
  assert.equal(row.x0, 'zeros');
  assert.equal(row.params, 'float_bits=32;index_bits=7;shard_sizes=balanced');
  assert.equal(row.device, 'cpu');
  const cfg = normalizeConfig({ dataset: 'mushrooms', method: 'gd' });
  assert.notEqual(runId(cfg, { dataset: 'a' }), runId(cfg, { dataset: 'b' }));
});

test('--x0 file:PATH reads exactly d numbers; a wrong count or a bad entry names the file', () => {
  const good = join(dir, 'x0.txt');
  writeFileSync(good, Array.from({ length: 112 }, (_, j) => String((j % 7) / 10)).join('\n') + '\n');
  const r = dcomp(['run', '--dataset', 'mushrooms', '--method', 'gd', '--iters', '0', '--x0', `file:${good}`], cache);
  assert.equal(r.status, 0, r.stderr);
  assert.match(csvRows(r.stdout)[0].x0, /^file:[0-9a-f]{64}$/);
  const short = join(dir, 'short.txt');
  writeFileSync(short, '1 2 3\n');
  const s = dcomp(['run', '--dataset', 'mushrooms', '--method', 'gd', '--iters', '0', '--x0', `file:${short}`], cache);
  assert.equal(s.status, 1);
  assert.match(s.stderr, /short\.txt: the --x0 file has 3 numbers, the problem has d = 112/);
  const bad = join(dir, 'bad.txt');
  writeFileSync(bad, '1 2\n3 x4\n');
  const b = dcomp(['run', '--dataset', 'mushrooms', '--method', 'gd', '--iters', '0', '--x0', `file:${bad}`], cache);
  assert.match(b.stderr, /bad\.txt:2: entry 4: expected a finite number, got "x4"/);
});

test('--shard-sizes floor gives ⌊N/n⌋ rows to each worker and the remainder to the last', async () => {
  const { splitShards } = await import('../src/data/split.js');
  const data = { b: new Float64Array(23), source: 't' };
  assert.deepEqual(splitShards(data, 5, 'contiguous', undefined, 'floor').map((s) => s.length), [4, 4, 4, 4, 7]);
  assert.deepEqual(splitShards(data, 5, 'contiguous', undefined, 'balanced').map((s) => s.length), [5, 5, 5, 4, 4]);
});
