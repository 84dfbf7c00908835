/**
 * Resume and merge keep only what they can prove: a run's block must be exactly the rows its
 * configuration implies. Each test damages a correct bench file in one way and checks the verdict.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench } from '../src/bench/bench.js';
import type { RunUnit } from '../src/bench/matrix.js';
import type { RunExecutor } from '../src/bench/pool.js';
import { planResume } from '../src/bench/resume.js';
import { isLoggedIteration, loggedIterations } from '../src/bench/schedule.js';
import { mergeShards } from '../src/bench/shard.js';
import type { MetricRow, RunConfig, RunLabels } from '../src/bench/types.js';
import { normalizeConfig } from '../src/bench/config.js';
import { DataFormatError, DcompError, UsageError } from '../src/core/errors.js';
import { compareTables, requiredColumns, DEFAULT_TOLERANCES } from '../src/report/compare.js';
import { csvHeader } from '../src/report/csv.js';
import { parseResultsCsv } from '../src/report/read-csv.js';

const ITERS = 10;
const LOG_EVERY = 3; // logs 0, 3, 6, 9 and the last, 10

const LABELS: RunLabels = { stepUsed: 0.5, params: '', x0: 'zeros', backend: 'cpu', device: 'cpu', precision: 'float64' };

function config(k: number): RunConfig {
  return normalizeConfig({ dataset: 'd', method: 'cgd', compressor: 'topk', k, workers: 2, iters: ITERS, log_every: LOG_EVERY });
}

function rowsAt(iterations: readonly number[]): MetricRow[] {
  return iterations.map((t) => ({ iteration: t, epoch: t / 2, loss: 1 / (t + 1), lossGap: undefined, gradNormSq: 1 / (t + 1) ** 2, trainAcc: 0.5, testAcc: undefined, bitsUpPerWorker: 10 * t, bitsUpTotal: 20 * t, bitsDown: 5 * t, timeMs: t }));
}

type Behaviour = 'ok' | 'diverge-unlogged' | 'error-at-start';

/** Results depend only on the config; k = 2 behaves as told. */
function executor(behaviour: Behaviour = 'ok'): RunExecutor {
  return async (c) => {
    const k = c.options.k;
    const id = `id-k${k}`;
    if (k === 2 && behaviour === 'diverge-unlogged') {
      // x became non-finite at iteration 5, which is not logged: the last row is there, diverged
      return { status: 'diverged', runId: id, config: c, labels: { ...LABELS, stepUsed: 9 }, rows: rowsAt([0, 3, 5]), message: 'diverged' };
    }
    if (k === 2 && behaviour === 'error-at-start') return { status: 'thrown', message: 'no such dataset' };
    return { status: 'completed', runId: id, config: c, labels: LABELS, rows: rowsAt(loggedIterations(c.iters, c.log_every)) };
  };
}

function units(n: number): RunUnit[] {
  return Array.from({ length: n }, (_, i) => ({ index: i, runs: [{ config: config(i + 1), id: `id-k${i + 1}` }] }));
}

async function benchText(u: RunUnit[], behaviour: Behaviour = 'ok'): Promise<string> {
  let text = csvHeader(true);
  await runBench({ experiment: 'e', units: u, jobs: 2, execute: executor(behaviour), write: (t) => (text += t) });
  return text;
}

/** Lines of the file (index 0 = header, file line 1); run k (1-based) has its rows at indices 5k−4 … 5k. */
const lines = (text: string) => text.split('\n');
const join = (ls: string[]) => ls.join('\n');

test('the logged iterations are 0, every log_every and the last, once', () => {
  assert.deepEqual(loggedIterations(10, 3), [0, 3, 6, 9, 10]);
  assert.deepEqual(loggedIterations(9, 3), [0, 3, 6, 9]);
  assert.deepEqual(loggedIterations(0, 5), [0]);
  assert.deepEqual(loggedIterations(4, 1), [0, 1, 2, 3, 4]);
  for (const [T, m] of [[10, 3], [9, 3], [7, 10], [12, 1]]) {
    const listed = loggedIterations(T, m);
    const byPredicate = Array.from({ length: T + 1 }, (_, t) => t).filter((t) => isLoggedIteration(t, T, m));
    assert.deepEqual(listed, byPredicate);
  }
});

test('a complete file is kept whole; diverged at an unlogged iteration and errored-at-start blocks are complete runs', async () => {
  for (const behaviour of ['ok', 'diverge-unlogged', 'error-at-start'] as const) {
    const u = units(3);
    const text = await benchText(u, behaviour);
    const plan = planResume(text, 'f.csv', u, 'e');
    assert.equal(plan.done, 3, behaviour);
    assert.equal(plan.keepBytes, Buffer.byteLength(text));
    assert.equal(plan.damage, undefined);
  }
});

interface Damage {
  readonly name: string;
  readonly edit: (ls: string[]) => string[];
  readonly reason: RegExp;
}

// Run 2's rows are array entries 6..10, file lines 7..11 (iterations 0, 3, 6, 9, 10).
const DAMAGES: Damage[] = [
  { name: 'a missing row', edit: (ls) => ls.filter((_, i) => i !== 8), reason: /f\.csv:9: run 2 \(run_id id-k2\): iteration 6 is missing \(line 9 has iteration 9; the run logs 0\.\.10 by 3\)/ },
  { name: 'a duplicated row', edit: (ls) => [...ls.slice(0, 9), ls[8], ...ls.slice(9)], reason: /f\.csv:10: run 2 .*iteration 6 appears twice \(lines 9 and 10\)/ },
  { name: 'a duplicated last row', edit: (ls) => [...ls.slice(0, 11), ls[10], ...ls.slice(11)], reason: /iteration 10 after the run's last logged iteration 10/ },
  { name: 'rows swapped', edit: (ls) => [...ls.slice(0, 7), ls[8], ls[7], ...ls.slice(9)], reason: /f\.csv:9: run 2 .*epoch decreases \(1\.5 after 3\)/ },
  { name: 'an altered configuration cell', edit: (ls) => ls.map((l, i) => (i === 7 ? l.replace(',cgd,', ',ef21,') : l)), reason: /f\.csv:8: run 2 .*method is "ef21" here but "cgd" on line 7 of the same run/ },
  { name: 'an altered first row', edit: (ls) => ls.map((l, i) => (i === 6 ? l.replace(',iid,', ',contiguous,') : l)), reason: /split is "contiguous", the run's configuration says "iid"/ },
  { name: 'an early non-ok status', edit: (ls) => ls.map((l, i) => (i === 7 ? l.replace(/,ok$/, ',diverged') : l)), reason: /status diverged on a row that is not the run's last/ },
  { name: 'an unknown status', edit: (ls) => ls.map((l, i) => (i === 10 ? l.replace(/,ok$/, ',done') : l)), reason: /status "done"; expected one of ok, diverged, errored/ },
  { name: 'a cell that is not a number', edit: (ls) => ls.map((l, i) => (i === 8 ? l.replace(',0.14285714285714285,', ',0.1428x,') : l)), reason: /loss "0\.1428x" is not a number as dcomp writes it/ },
  { name: 'a cumulative column that decreases', edit: (ls) => ls.map((l, i) => (i === 9 ? l.replace(',180,', ',1,') : l)), reason: /bits_up_total decreases/ },
  { name: 'a short line', edit: (ls) => ls.map((l, i) => (i === 8 ? l.split(',').slice(0, 10).join(',') : l)), reason: /f\.csv:9: run 2 .*line 9 has 10 cells, the header 30/ },
  { name: 'a run cut short in the middle', edit: (ls) => ls.filter((_, i) => i !== 10), reason: /run 2 \(run_id id-k2\): the run stops at iteration 9 with status ok; it logs 0\.\.10 by 3/ },
  { name: 'a missing run', edit: (ls) => ls.filter((_, i) => i < 6 || i > 10), reason: /run_id "id-k3" where run 2 \(run_id id-k2\) belongs: run 3 out of place/ },
  { name: 'an altered run id', edit: (ls) => ls.map((l, i) => (i === 8 ? l.replace('id-k2', 'id-kX') : l)), reason: /f\.csv:8: run 2 \(run_id id-k2\): the run stops at iteration 3 with status ok/ },
];

for (const damage of DAMAGES) {
  test(`resume recomputes from a run with ${damage.name}, naming the line and the reason`, async () => {
    const u = units(3);
    const text = await benchText(u);
    const damaged = join(damage.edit(lines(text)));
    const plan = planResume(damaged, 'f.csv', u, 'e');
    assert.equal(plan.done, 1, damage.name);
    assert.equal(damaged.slice(0, plan.keepBytes), join(lines(text).slice(0, 6)) + '\n', 'only run 1 is kept');
    assert.match(plan.damage ?? '(no damage reported)', damage.reason);
    // what resume then writes equals the uninterrupted file
    let resumed = damaged.slice(0, plan.keepBytes);
    await runBench({ experiment: 'e', units: u.slice(plan.done), jobs: 2, execute: executor(), write: (t) => (resumed += t) });
    assert.equal(resumed, text);
  });
}

test('a partial last run (kill -9 mid-write) is dropped without a damage report', async () => {
  const u = units(3);
  const text = await benchText(u);
  const ls = lines(text);
  for (const cut of [join(ls.slice(0, 13)) + '\n', join(ls.slice(0, 13)) + '\n' + ls[13].slice(0, 9), join(ls.slice(0, 15))]) {
    const plan = planResume(cut, 'f.csv', u, 'e');
    assert.equal(plan.done, 2);
    assert.equal(plan.damage, undefined);
    assert.ok(plan.droppedLines >= 1);
  }
});

test('a file of another experiment or shard, or with more runs, is refused, not cut', async () => {
  const text = await benchText(units(3));
  assert.throws(() => planResume(text, 'f.csv', units(3), 'other'), (e: unknown) => e instanceof UsageError && /f\.csv:2: --resume: run 1 of the file \(experiment "e"/.test((e as Error).message));
  assert.throws(() => planResume(text, 'f.csv', units(3).slice(1), 'e'), /run 1 of the file \(experiment "e", run_id "id-k1"\) is not run 1 of this experiment/);
  assert.throws(() => planResume(text, 'f.csv', units(2), 'e'), /more runs than the experiment \(2\)/);
});

test('a UTF-8 byte order mark before the header is accepted and kept', async () => {
  const u = units(2);
  const text = '\ufeff' + (await benchText(u));
  const plan = planResume(text, 'f.csv', u, 'e');
  assert.equal(plan.done, 2);
  assert.equal(plan.keepBytes, Buffer.byteLength(text));
});

test('merge refuses a damaged shard, a run twice in one file and two different copies of a run; identical copies are noted', async () => {
  const u = units(3);
  const text = await benchText(u);
  const ls = lines(text);
  const shardA = join([ls[0], ...ls.slice(1, 11)]) + '\n'; // runs 1, 2
  const shardB = join([ls[0], ...ls.slice(11, 16)]) + '\n'; // run 3
  assert.equal(mergeShards([{ file: 'a.csv', text: shardA }, { file: 'b.csv', text: shardB }], u, 'e').text, text);

  const missingRow = join(lines(shardA).filter((_, i) => i !== 8));
  assert.throws(() => mergeShards([{ file: 'a.csv', text: missingRow }, { file: 'b.csv', text: shardB }], u, 'e'), (e: unknown) => e instanceof DataFormatError && e.exitCode === 1 && /a\.csv:9: run id-k2: iteration 6 is missing/.test(e.message));

  const twice = shardA + join(lines(shardA).slice(1, 6)) + '\n';
  assert.throws(() => mergeShards([{ file: 'a.csv', text: twice }, { file: 'b.csv', text: shardB }], u, 'e'), /a\.csv:12: run "id-k1" appears twice in this file \(its rows start at lines 2 and 12\)/);

  const sameAgain = join([ls[0], ...ls.slice(1, 6).map((l) => l.replace(/,(\d+),ok$/, ',999,ok'))]) + '\n'; // run 1, other time_ms
  const merged = mergeShards([{ file: 'a.csv', text: shardA }, { file: 'b.csv', text: shardB }, { file: 'c.csv', text: sameAgain }], u, 'e');
  assert.deepEqual(merged.duplicates, ['id-k1']);
  assert.equal(merged.text, text, "the first file's copy is kept");

  const different = sameAgain.replace(',0.25,', ',0.2500001,');
  assert.notEqual(different, sameAgain);
  assert.throws(
    () => mergeShards([{ file: 'a.csv', text: shardA }, { file: 'b.csv', text: shardB }, { file: 'c.csv', text: different }], u, 'e'),
    (e: unknown) => e instanceof DcompError && e.exitCode === 1 && /run id-k1 has two different copies, in a\.csv and c\.csv: loss "0\.25" at a\.csv:\d+, "0\.2500001" at c\.csv:\d+/.test(e.message),
  );

  const noStatus = shardB.split('\n').map((l) => l.split(',').slice(0, -1).join(',')).join('\n');
  assert.throws(() => mergeShards([{ file: 'a.csv', text: shardA }, { file: 'b.csv', text: noStatus }], u, 'e'), (e: unknown) => e instanceof DataFormatError && /b\.csv:1: missing column "status"/.test(e.message));
});

test('compare requires every metric column and the status, and refuses a duplicated row naming both lines', async () => {
  const text = await benchText(units(2));
  const required = requiredColumns(DEFAULT_TOLERANCES);
  for (const column of ['status', 'loss', 'bits_down', 'iteration']) {
    const j = text.split('\n')[0].split(',').indexOf(column);
    const without = text.split('\n').map((l) => (l === '' ? l : l.split(',').filter((_, i) => i !== j).join(','))).join('\n');
    assert.throws(() => parseResultsCsv(without, 'new.csv', required), (e: unknown) => e instanceof DataFormatError && e.message === `new.csv:1: missing column "${column}" in the header; expected a dcomp results CSV`);
  }
  const ls = lines(text);
  const duplicated = join([...ls.slice(0, 4), ls[3], ...ls.slice(4)]);
  const base = parseResultsCsv(text, 'base.csv', required);
  assert.throws(() => compareTables(base, parseResultsCsv(duplicated, 'new.csv', required)), /new\.csv:5: duplicated row: run_id "id-k1" iteration "6" is also on line 4/);
  assert.equal(compareTables(base, parseResultsCsv(text, 'same.csv', required)).pass, true);
});
