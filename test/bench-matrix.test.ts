import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExperiment } from '../src/bench/experiment.js';
import { expandExperiment, shardUnits } from '../src/bench/matrix.js';
import { SPEC_VERSION } from '../src/core/version.js';

function expand(body: string) {
  return expandExperiment(parseExperiment(`name: t\nspec_version: ${SPEC_VERSION}\n${body}`, 'x.yaml'));
}

const short = (u: { runs: ReadonlyArray<{ config: { dataset: string; method: string; compressor: string; options: Record<string, unknown>; step: string } }> }) =>
  u.runs.map((r) => `${r.config.dataset}:${r.config.method}:${r.config.compressor}:${String(r.config.options.k ?? "-")}:${r.config.step}`).join('|');

test('the matrix is the product over datasets then keys in file order (last fastest), minus excludes, then includes', () => {
  const units = expand(`datasets: [a, b]
matrix:
  method: [cgd, ef21]
  compressor: [topk, randk]
  k: [1, 5]
exclude:
  - {method: ef21, compressor: randk}
  - {k: 5, compressor: topk}
include:
  - {method: gd, compressor: identity}
`);
  assert.deepEqual(units.map(short), [
    'a:cgd:topk:1:theory', 'a:cgd:randk:1:theory', 'a:cgd:randk:5:theory', 'a:ef21:topk:1:theory',
    'b:cgd:topk:1:theory', 'b:cgd:randk:1:theory', 'b:cgd:randk:5:theory', 'b:ef21:topk:1:theory',
    'a:gd:identity:-:theory', 'b:gd:identity:-:theory',
  ]);
  assert.deepEqual(units.map((u) => u.index), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('k is dropped for compressors that take none, so identity × several k is one run', () => {
  const units = expand(`datasets: [a]\nmatrix:\n  method: [cgd]\n  compressor: [identity, topk]\n  k: [1, 2]\n`);
  assert.deepEqual(units.map(short), ['a:cgd:identity:-:theory', 'a:cgd:topk:1:theory', 'a:cgd:topk:2:theory']);
  assert.equal(new Set(units.map((u) => u.runs[0].id)).size, 3);
});

test('select best groups the runs that differ only in step, in sweep order', () => {
  const units = expand(`datasets: [a]\nselect: best\nmatrix:\n  method: [cgd]\n  compressor: [topk]\n  k: [1, 2]\n  step: ["theory*[1,2,4]"]\ninclude:\n  - {method: gd, compressor: identity, step: 0.1}\n`);
  assert.equal(units.length, 3);
  assert.deepEqual(units[0].runs.map((r) => r.config.step), ['theory*1', 'theory*2', 'theory*4']);
  assert.deepEqual(units[1].runs.map((r) => r.config.options.k), [2, 2, 2]);
  assert.deepEqual(units[2].runs.map((r) => r.config.step), ['0.1']);
});

test('a top-level step sweep varies fastest', () => {
  const units = expand(`datasets: [a]\nstep: "theory*[1,2]"\nmatrix:\n  method: [cgd]\n  compressor: [topk]\n  k: [1, 2]\n`);
  assert.deepEqual(units.map(short), ['a:cgd:topk:1:theory*1', 'a:cgd:topk:1:theory*2', 'a:cgd:topk:2:theory*1', 'a:cgd:topk:2:theory*2']);
});

test('an invalid combination is an error naming the run', () => {
  assert.throws(() => expand(`datasets: [a]\nmatrix:\n  method: [gd]\n  compressor: [topk]\n  k: [1]\n`), /x\.yaml: run .*method=gd.*: compressor: method gd/);
});

test('shards i/m partition the matrix by index modulo m', () => {
  const units = expand(`datasets: [a]\nmatrix:\n  method: [cgd]\n  compressor: [topk]\n  k: [1, 2, 3, 4, 5, 6, 7]\n`);
  const slices = [1, 2, 3].map((i) => shardUnits(units, { index: i, count: 3 }).map((u) => u.index));
  assert.deepEqual(slices, [[0, 3, 6], [1, 4], [2, 5]]);
});
