import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPEC_VERSION } from '../src/core/version.js';
import { parseResultsCsv } from '../src/report/read-csv.js';
import { dcomp, tempDir, writeExperiment } from './bench-cli-helpers.js';

const dir = tempDir('dcomp-bench-fail-');
const cache = join(dir, 'cache');

test('a diverging configuration is recorded as diverged, the rest completes, the exit code is 1 and stderr has no ANSI codes', () => {
  const experiment = writeExperiment(
    dir,
    'diverge',
    `name: diverge
spec_version: ${SPEC_VERSION}
datasets: [mushrooms]
iters: 30
log_every: 5
matrix:
  method: [gd]
  step: [1000000, theory]
`,
  );
  const file = join(dir, 'diverge.csv');
  const r = dcomp(['bench', experiment, '--out', file, '--jobs', '2'], cache);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /1 of 2 runs did not complete/);
  assert.ok(!r.stderr.includes('\u001b'), `ANSI escape on a non-TTY stderr: ${JSON.stringify(r.stderr.slice(0, 200))}`);
  // the plot at the end and the per-run lines are there, in plain text
  assert.match(r.stderr, /grad_norm_sq vs iteration/);
  assert.match(r.stderr, /\[\d\/2\] diverged mushrooms gd identity step=1000000/);
  const table = parseResultsCsv(readFileSync(file, 'utf8'), file);
  const runs = [...new Set(table.rows.map((row) => row.run_id))];
  assert.equal(runs.length, 2);
  const first = table.rows.filter((row) => row.run_id === runs[0]);
  const second = table.rows.filter((row) => row.run_id === runs[1]);
  assert.equal(first[first.length - 1].status, 'diverged');
  assert.ok(first.slice(0, -1).every((row) => row.status === 'ok'));
  assert.equal(second.length, 7);
  assert.ok(second.every((row) => row.status === 'ok'));
  assert.equal(second[second.length - 1].iteration, '30');
});

test('--out - writes the CSV to stdout and nothing else', () => {
  const experiment = writeExperiment(dir, 'tiny', `name: tiny\nspec_version: ${SPEC_VERSION}\ndatasets: [mushrooms]\niters: 3\nmatrix:\n  method: [gd]\n`);
  const r = dcomp(['bench', experiment, '--out', '-', '--jobs', '1'], cache);
  assert.equal(r.status, 0, r.stderr);
  const table = parseResultsCsv(r.stdout, 'stdout');
  assert.equal(table.rows.length, 4);
  assert.equal(table.columns[0], 'experiment');
});

test('an invalid experiment file exits 2 naming the key path', () => {
  const experiment = writeExperiment(dir, 'bad', `name: bad\nspec_version: ${SPEC_VERSION}\ndatasets: [mushrooms]\nmatrix:\n  method: [gd, cgd]\n  compressor: [identity, top-k]\n`);
  const r = dcomp(['bench', experiment, '--list'], cache);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad\.yaml: matrix\.compressor\[1\]: expected one of identity, topk.*, got "top-k"/);
});
