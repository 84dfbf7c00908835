import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../src/core/errors.js';
import { expandStepSweep, parseExperiment } from '../src/bench/experiment.js';
import { SPEC_VERSION } from '../src/core/version.js';

const HEAD = `name: t\nspec_version: ${SPEC_VERSION}\ndatasets: [mushrooms]\n`;

function errorOf(text: string): string {
  try {
    parseExperiment(text, 'experiments/x.yaml');
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
    return (err as Error).message;
  }
  assert.fail('expected the experiment to be rejected');
}

test('an unknown compressor in the matrix is named with its key path and the known compressors', () => {
  const message = errorOf(`${HEAD}matrix:\n  method: [cgd]\n  compressor: [identity, topk, top-k]\n`);
  assert.match(message, /^experiments\/x\.yaml: matrix\.compressor\[2\]: expected one of .*\btopk\b.*\brandk\b.*, got "top-k"/);
});

test('a wrong spec_version is rejected, naming the version this dcomp implements', () => {
  const message = errorOf(`name: t\nspec_version: ${SPEC_VERSION + 1}\ndatasets: [mushrooms]\n`);
  assert.match(message, new RegExp(`experiments/x\\.yaml: spec_version: this dcomp implements spec version ${SPEC_VERSION}`));
});

test('out-of-range numbers, unknown keys and bad types are all reported with their paths at once', () => {
  const message = errorOf(`${HEAD}iters: -3\nlog_evry: 5\nmatrix:\n  method: [gd]\n  k: [1, 0.5]\nexclude:\n  - {workers: [two]}\n`);
  const lines = message.split('\n');
  assert.ok(lines.some((l) => /^experiments\/x\.yaml: iters: expected an integer ≥ 0, got -3$/.test(l)), message);
  assert.ok(lines.some((l) => /^experiments\/x\.yaml: log_evry: unknown key; accepted: .*log_every/.test(l)), message);
  assert.ok(lines.some((l) => /^experiments\/x\.yaml: matrix\.k\[1\]: expected an integer ≥ 1, got 0\.5$/.test(l)), message);
  assert.ok(lines.some((l) => /^experiments\/x\.yaml: exclude\[0\]\.workers\[0\]: expected an integer ≥ 1, got "two"$/.test(l)), message);
});

test('a missing datasets list and a bad step are named', () => {
  const message = errorOf(`name: t\nspec_version: ${SPEC_VERSION}\nstep: fast\n`);
  assert.match(message, /experiments\/x\.yaml: datasets: expected a non-empty list of dataset names or paths, got nothing/);
  assert.match(message, /experiments\/x\.yaml: step: expected a number > 0, "theory" or "theory\*M"/);
});

test('a YAML syntax error names the file, line and column', () => {
  const message = errorOf(`${HEAD}matrix:\n  method: [gd\n`);
  assert.match(message, /^experiments\/x\.yaml:\d+:\d+: not valid YAML/);
});

test('a geometric step sweep with an ellipsis expands to its powers', () => {
  assert.deepEqual(expandStepSweep('theory*[1,2,4,...,64]'), ['theory*1', 'theory*2', 'theory*4', 'theory*8', 'theory*16', 'theory*32', 'theory*64']);
  assert.deepEqual(expandStepSweep('0.5*[1, 3]'), ['0.5', '1.5']);
  assert.equal(typeof expandStepSweep('theory*[1,2,4,...,100]'), 'string');
});

test('a valid file keeps its options, matrix keys in file order, and plot settings', () => {
  const e = parseExperiment(`${HEAD}l2: 0.01\nselect: best\nplot: {x: bits_up_per_worker}\nmatrix:\n  compressor: [topk]\n  method: [cgd, ef21]\n  step: ["theory*[1,2]", 0.5]\n`, 'x.yaml');
  assert.equal(e.name, 't');
  assert.equal(e.select, 'best');
  assert.equal(e.plot.x, 'bits_up_per_worker');
  assert.deepEqual(e.defaults, [['l2', [0.01]]]);
  assert.deepEqual(e.matrix.map(([k]) => k), ['compressor', 'method', 'step']);
  assert.deepEqual(e.matrix[2][1], ['theory*1', 'theory*2', '0.5']);
});
