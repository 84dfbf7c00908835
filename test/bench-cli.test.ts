import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SPEC_VERSION } from '../src/core/version.js';
import { parseCsvRecords } from '../src/report/read-csv.js';
import { dcomp, dcompAsync, tempDir, withoutTime, writeExperiment } from './bench-cli-helpers.js';

const dir = tempDir('dcomp-bench-cli-');
const cache = join(dir, 'cache');
const RUNS = 6;
const ITERS = 40;
const experiment = writeExperiment(
  dir,
  'small',
  `name: small
spec_version: ${SPEC_VERSION}
datasets: [mushrooms]
workers: 2
iters: ${ITERS}
log_every: 10
matrix:
  method: [cgd]
  compressor: [topk]
  k: [1, 2, 3, 4, 5]
include:
  - {method: gd, compressor: identity}
`,
);
const ROWS_PER_RUN = ITERS / 10 + 1;
const out = (name: string) => join(dir, name);

function runIds(text: string): string[] {
  const records = parseCsvRecords(text);
  const c = records[0].cells.indexOf('run_id');
  return [...new Set(records.slice(1).map((r) => r.cells[c]))];
}

test('--jobs 1 and --jobs 2 write identical bytes apart from time_ms, in matrix order', () => {
  const one = dcomp(['bench', experiment, '--jobs', '1', '--out', out('jobs1.csv'), '--no-plot'], cache);
  assert.equal(one.status, 0, one.stderr);
  const two = dcomp(['bench', experiment, '--jobs', '2', '--out', out('jobs2.csv'), '--no-plot'], cache);
  assert.equal(two.status, 0, two.stderr);
  const a = readFileSync(out('jobs1.csv'), 'utf8');
  const b = readFileSync(out('jobs2.csv'), 'utf8');
  assert.equal(withoutTime(b), withoutTime(a));
  assert.equal(a.split('\n').length, 1 + RUNS * ROWS_PER_RUN + 1);
  const listed = dcomp(['bench', experiment, '--list'], cache);
  assert.equal(listed.status, 0, listed.stderr);
  const listedIds = listed.stdout.split('\n').slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/)[1]);
  assert.deepEqual(runIds(a), listedIds);
});

test('a bench killed with SIGKILL midway and resumed equals the uninterrupted file apart from time_ms', async () => {
  const file = out('killed.csv');
  const child = dcompAsync(['bench', experiment, '--jobs', '1', '--out', file, '--no-plot'], cache);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  // wait until at least one run is complete in the file, then kill -9
  const headerBytes = 400;
  for (let i = 0; i < 6000; i++) {
    if (existsSync(file) && statSync(file).size > headerBytes + ROWS_PER_RUN * 150) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGKILL');
  await exited;
  const partial = readFileSync(file, 'utf8');
  const partialRuns = runIds(partial).length;
  assert.ok(partialRuns >= 1 && partialRuns < RUNS, `killed after ${partialRuns} runs; expected midway`);

  const resumed = dcomp(['bench', experiment, '--resume', '--jobs', '2', '--out', file, '--no-plot'], cache);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /resume: \d+ of 6 runs already complete/);
  const reference = readFileSync(out('jobs1.csv'), 'utf8');
  assert.equal(withoutTime(readFileSync(file, 'utf8')), withoutTime(reference));
});

test('shards 1/3, 2/3 and 3/3 merged equal the unsharded file apart from time_ms', () => {
  for (const i of [1, 2, 3]) {
    const r = dcomp(['bench', experiment, '--shard', `${i}/3`, '--out', out(`shard-${i}.csv`), '--jobs', '2', '--no-plot', '--quiet'], cache);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(runIds(readFileSync(out(`shard-${i}.csv`), 'utf8')).length, 2);
  }
  const merged = dcomp(['merge', out('shard-3.csv'), out('shard-1.csv'), out('shard-2.csv'), '--experiment', experiment, '--out', out('merged.csv')], cache);
  assert.equal(merged.status, 0, merged.stderr);
  assert.equal(withoutTime(readFileSync(out('merged.csv'), 'utf8')), withoutTime(readFileSync(out('jobs1.csv'), 'utf8')));
  const incomplete = dcomp(['merge', out('shard-1.csv'), out('shard-2.csv'), '--experiment', experiment], cache);
  assert.equal(incomplete.status, 2);
  assert.match(incomplete.stderr, /missing 2 of 6 runs of "small"/);
});

test('the default output goes to results/<experiment>/<spec version>/results.csv under the working directory', () => {
  const cwd = tempDir('dcomp-bench-cwd-');
  const r = dcomp(['bench', experiment, '--jobs', '2', '--shard', '1/6', '--no-plot'], cache, cwd);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(cwd, 'results', 'small', String(SPEC_VERSION), 'results.csv')));
});
