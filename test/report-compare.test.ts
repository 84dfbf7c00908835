import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareTables, parseTolerances, relativeDifference } from '../src/report/compare.js';
import { parseResultsCsv } from '../src/report/read-csv.js';
import { dcomp, tempDir } from './bench-cli-helpers.js';

// Every column compare requires (run_id, iteration, status and each metric with a tolerance).
const HEADER = 'experiment,run_id,method,iteration,loss,loss_gap,grad_norm_sq,train_acc,bits_up_total,step,epoch,test_acc,bits_up_per_worker,bits_down,time_ms,status';
const BASE = [
  HEADER,
  'e,r1,gd,0,0.6931471805599453,0.5,0.3,0.5,0,0.5,0,,0,0,1,ok',
  'e,r1,gd,5,0.4,0.2,0.01,0.9,100,0.5,5,,100,0,5,ok',
  'e,r2,cgd,0,0.6931471805599453,0.5,0.3,0.5,0,0.25,0,,0,0,1,ok',
  'e,r2,cgd,5,0.45,0.25,0.02,0.85,10,0.25,5,,10,0,4,ok',
].join('\n') + '\n';

const table = (text: string) => parseResultsCsv(text, 'x.csv');

test('relative difference is |a−b|/max(|a|,|b|), zero for equal values including nan and inf', () => {
  assert.equal(relativeDifference(1, 1.5), 0.5 / 1.5);
  assert.equal(relativeDifference(0, 0), 0);
  assert.equal(relativeDifference(NaN, NaN), 0);
  assert.equal(relativeDifference(Infinity, Infinity), 0);
  assert.equal(relativeDifference(1, NaN), Infinity);
  assert.equal(relativeDifference(undefined, 1), Infinity);
});

test('compare passes on identical files, ignoring time_ms without --time-tol', () => {
  const slower = BASE.replace(',5,ok', ',500,ok');
  const report = compareTables(table(BASE), table(slower), parseTolerances(undefined));
  assert.equal(report.pass, true);
  assert.equal(report.comparedRows, 4);
  assert.ok(report.metrics.every((m) => m.maxRelative === 0));
});

test('a perturbed value beyond tolerance fails and is located; within tolerance it passes', () => {
  const perturbed = BASE.replace('e,r2,cgd,5,0.45,0.25,0.02,', 'e,r2,cgd,5,0.45,0.25,0.0200001,');
  const report = compareTables(table(BASE), table(perturbed), parseTolerances(undefined));
  assert.equal(report.pass, false);
  const g = report.metrics.find((m) => m.metric === 'grad_norm_sq')!;
  assert.equal(g.pass, false);
  assert.equal(g.at?.runId, 'r2');
  assert.equal(g.at?.iteration, '5');
  assert.ok(Math.abs(g.maxRelative - 0.0000001 / 0.0200001) < 1e-15);
  assert.equal(compareTables(table(BASE), table(perturbed), parseTolerances('grad_norm_sq=1e-5')).pass, true);
});

test('missing and extra runs fail the comparison', () => {
  const fewer = BASE.split('\n').filter((l) => !l.includes(',r2,')).join('\n');
  const report = compareTables(table(BASE), table(fewer));
  assert.deepEqual(report.missingRuns, ['r2']);
  assert.equal(report.pass, false);
  const reverse = compareTables(table(fewer), table(BASE));
  assert.deepEqual(reverse.extraRuns, ['r2']);
  assert.equal(reverse.pass, false);
});

test('--time-tol gates the ratio of total final times', () => {
  const slower = BASE.replace(',5,ok', ',10,ok'); // r1 final 5 → 10: totals 9 → 14
  assert.equal(compareTables(table(BASE), table(slower), undefined, 2).pass, true);
  assert.equal(compareTables(table(BASE), table(slower), undefined, 1.5).pass, false);
});

test('dcomp compare exits 0 on identical files and 1 naming the metric, run and iteration beyond tolerance', () => {
  const dir = tempDir('dcomp-compare-');
  writeFileSync(join(dir, 'base.csv'), BASE);
  writeFileSync(join(dir, 'new.csv'), BASE.replace('e,r1,gd,5,0.4,', 'e,r1,gd,5,0.400001,'));
  const same = dcomp(['compare', join(dir, 'base.csv'), join(dir, 'base.csv')], join(dir, 'cache'));
  assert.equal(same.status, 0, same.stderr);
  assert.match(same.stdout, /PASS/);
  const diff = dcomp(['compare', join(dir, 'base.csv'), join(dir, 'new.csv')], join(dir, 'cache'));
  assert.equal(diff.status, 1);
  assert.match(diff.stderr, /loss differs by 2\.50e-6 \(tolerance 1\.00e-12\) at run r1 iteration 5/);
  assert.match(diff.stdout, /loss +2\.50e-6 +1\.00e-12 +FAIL +run r1 iteration 5: 0\.4 → 0\.400001/);
  const badTol = dcomp(['compare', join(dir, 'base.csv'), join(dir, 'new.csv'), '--tol', 'speed=1'], join(dir, 'cache'));
  assert.equal(badTol.status, 2);
  assert.match(badTol.stderr, /--tol: unknown metric "speed"/);
});
