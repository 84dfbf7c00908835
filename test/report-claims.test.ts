import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRelation } from '../src/bench/claims-schema.js';
import { evaluateClaim, explainFailure, relationHolds, type Claim } from '../src/report/claims.js';
import { parseResultsCsv } from '../src/report/read-csv.js';

/** Three runs of CGD, logged every 10 iterations, bits 100 per iteration (b: 300 per iteration). */
const CSV = [
  'run_id,method,compressor,k,params,iteration,grad_norm_sq,loss_gap,test_acc,bits_up_per_worker,time_ms,status',
  'a1,cgd,imp-a,1,inner_steps=20,0,1,0.5,,0,0,ok',
  'a1,cgd,imp-a,1,inner_steps=20,10,0.1,0.05,,1000,50,ok',
  'a1,cgd,imp-a,1,inner_steps=20,20,0.01,0.005,,2000,100,ok',
  'a2,cgd,imp-b,1,inner_steps=20,0,1,0.5,,0,0,ok',
  'a2,cgd,imp-b,1,inner_steps=20,10,0.3,0.2,,1000,70,ok',
  'a2,cgd,imp-b,1,inner_steps=20,20,0.2,0.1,,2000,140,ok',
  'r1,cgd,randk,1,,0,1,0.5,,0,0,ok',
  'r1,cgd,randk,1,,10,0.2,0.1,,3000,5,ok',
  'r1,cgd,randk,1,,20,0.05,0.02,,6000,10,ok',
  'a3,cgd,imp-a,8,inner_steps=20,0,1,0.5,,0,0,ok',
  'a3,cgd,imp-a,8,inner_steps=20,10,0.5,0.4,,8000,60,ok',
  'a3,cgd,imp-a,8,inner_steps=20,20,0.4,0.3,,16000,120,ok',
  'r8,cgd,randk,8,,0,1,0.5,,0,0,ok',
  'r8,cgd,randk,8,,10,0.1,0.01,,8000,6,ok',
  'r8,cgd,randk,8,,20,0.001,0.001,,16000,12,ok',
].join('\n') + '\n';

const table = parseResultsCsv(CSV, 'x.csv');

function claim(overrides: Partial<Claim>): Claim {
  return {
    id: 'c',
    metric: 'grad_norm_sq',
    at: { kind: 'end' },
    aggregate: 'best',
    a: { where: [['compressor', ['imp-a']]] },
    b: { where: [['compressor', ['randk']]] },
    per: [],
    relation: parseRelation('<')!,
    ...overrides,
  };
}

test('relations: strict and non-strict, factors, and within a factor both ways', () => {
  assert.equal(relationHolds(1, 2, parseRelation('<')!), true);
  assert.equal(relationHolds(2, 2, parseRelation('<')!), false);
  assert.equal(relationHolds(2, 2, parseRelation('<=')!), true);
  assert.equal(relationHolds(2.2, 2, parseRelation('<= x1.1')!), true);
  assert.equal(relationHolds(2.21, 2, parseRelation('<= ×1.1')!), false);
  assert.equal(relationHolds(0.5, 1, parseRelation('>= x0.5')!), true);
  assert.equal(relationHolds(1, 2, parseRelation('within x2')!), true);
  assert.equal(relationHolds(4, 2, parseRelation('within factor 2')!), true);
  assert.equal(relationHolds(4.01, 2, parseRelation('within 2')!), false);
  assert.equal(relationHolds(0.99, 2, parseRelation('within x2')!), false);
  assert.equal(relationHolds(Infinity, Infinity, parseRelation('within x2')!), false, 'two diverged groups are not "on par"');
  assert.equal(relationHolds(NaN, 1, parseRelation('>')!), false);
  assert.equal(parseRelation('within x0.5'), undefined, 'a within-factor below 1 means nothing');
  assert.equal(parseRelation('=='), undefined);
  assert.equal(parseRelation('< x-1'), undefined);
});

test('a budget reads the last logged row at or below it, never an interpolated value', () => {
  // bits budget 1500: imp-a's last row with bits ≤ 1500 is iteration 10 (1000 bits): 0.1;
  // randk's is iteration 0 (0 bits; its next row is at 3000): 1.
  const v = evaluateClaim(claim({ at: { kind: 'value', column: 'bits_up_per_worker', value: 1500 }, a: { where: [['compressor', ['imp-a']], ['k', ['1']]] }, b: { where: [['compressor', ['randk']], ['k', ['1']]] } }), table);
  assert.equal(v.verdict, 'holds');
  assert.equal(v.settings[0].a?.value, 0.1);
  assert.equal(v.settings[0].a?.where, 'bits_up_per_worker ≤ 1500');
  assert.equal(v.settings[0].b?.value, 1);
  // at iteration 15: iteration 10's values
  const w = evaluateClaim(claim({ at: { kind: 'value', column: 'iteration', value: 15 }, a: { where: [['compressor', ['imp-a']], ['k', ['1']]] }, b: { where: [['run_id', ['r1']]] } }), table);
  assert.equal(w.settings[0].a?.value, 0.1);
  assert.equal(w.settings[0].b?.value, 0.2);
});

test('a run that completed before the budget is left out, and said so; a common budget is what every run reached', () => {
  const v = evaluateClaim(claim({ at: { kind: 'value', column: 'bits_up_per_worker', value: 5000 }, a: { where: [['run_id', ['a1']]] }, b: { where: [['run_id', ['r1']]] } }), table);
  assert.equal(v.verdict, 'cannot be evaluated');
  assert.match(v.settings[0].reason ?? '', /a1 ends at bits_up_per_worker 2000, before the budget/);
  const c = evaluateClaim(claim({ at: { kind: 'common', column: 'bits_up_per_worker' }, a: { where: [['run_id', ['a1']]] }, b: { where: [['run_id', ['r1']]] } }), table);
  assert.equal(c.settings[0].a?.where, 'bits_up_per_worker ≤ 2000');
  assert.equal(c.settings[0].a?.value, 0.01);
  assert.equal(c.settings[0].b?.value, 1, 'r1 had only its iteration-0 row within 2000 bits');
  assert.equal(c.verdict, 'holds');
});

test('per splits into settings: the claim holds only if it holds in every one, and the sentence says where it holds', () => {
  const v = evaluateClaim(claim({ per: ['k'], aggregate: 'worst', a: { where: [['compressor', ['imp-a', 'imp-b']]] } }), table);
  assert.deepEqual(v.settings.map((s) => [s.setting[0][1], s.a?.value, s.b?.value, s.verdict]), [
    ['1', 0.2, 0.05, 'does not hold'],
    ['8', 0.4, 0.001, 'does not hold'],
  ]);
  assert.equal(v.verdict, 'does not hold');
  const best = evaluateClaim(claim({ per: ['k'], a: { where: [['compressor', ['imp-a', 'imp-b']]] } }), table);
  assert.deepEqual(best.settings.map((s) => s.verdict), ['holds', 'does not hold']);
  assert.equal(best.settings[0].a?.label, 'imp-a', 'the figure names the run it came from');
  const sentence = explainFailure(v, table);
  assert.match(sentence, /holds in none of the 2 settings: k=1 \(0\.2 vs 0\.05, needed <\); k=8 \(0\.4 vs 0\.001, needed <\)/);
  assert.match(sentence, /At k=1, it holds for imp-a, not for imp-b\./);
  assert.match(explainFailure(best, table), /holds for k=1, and not for k=8 \(0\.4 vs 0\.001/);
});

test('median of an even number of runs is the mean of the middle two; min and max pick runs', () => {
  const groupA = { where: [['compressor', ['imp-a', 'imp-b', 'randk']], ['k', ['1']]] as [string, string[]][] };
  const m = evaluateClaim(claim({ aggregate: 'median', a: { where: [['compressor', ['imp-a', 'randk']]] }, b: { constant: 1 } }), table);
  // final values: a1 0.01, a3 0.4, r1 0.05, r8 0.001 → sorted 0.001, 0.01, 0.05, 0.4 → (0.01 + 0.05)/2
  assert.equal(m.settings[0].a?.value, (0.01 + 0.05) / 2);
  const max = evaluateClaim(claim({ aggregate: 'max', a: groupA, b: { constant: 0 } }), table);
  assert.equal(max.settings[0].a?.value, 0.2);
  assert.equal(max.settings[0].a?.runId, 'a2');
  const min = evaluateClaim(claim({ aggregate: 'min', a: groupA, b: { constant: 0 }, relation: parseRelation('>')! }), table);
  assert.equal(min.settings[0].a?.runId, 'a1');
  assert.equal(min.verdict, 'holds');
});

test('accuracy is better when higher: best is the maximum; an empty metric cell cannot be evaluated', () => {
  const csv = 'run_id,compressor,iteration,test_acc,grad_norm_sq,loss_gap,status\nx,topk,0,0.5,1,,ok\nx,topk,5,0.9,0.1,,ok\ny,topk,0,0.5,1,,ok\ny,topk,5,0.7,0.2,,ok\n';
  const t = parseResultsCsv(csv, 'acc.csv');
  const v = evaluateClaim(claim({ metric: 'test_acc', a: { where: [['compressor', ['topk']]] }, b: { constant: 0.85 }, relation: parseRelation('>')! }), t);
  assert.equal(v.settings[0].a?.value, 0.9);
  assert.equal(v.verdict, 'holds');
  const gap = evaluateClaim(claim({ metric: 'loss_gap', a: { where: [['compressor', ['topk']]] }, b: { constant: 1 } }), t);
  assert.equal(gap.verdict, 'cannot be evaluated');
  assert.match(gap.settings[0].reason ?? '', /has no loss_gap value/);
});

test('a diverged run counts as the worst value after it stopped; an errored run is left out', () => {
  const csv = [
    'run_id,compressor,iteration,grad_norm_sq,status',
    'd,topk,0,1,ok', 'd,topk,10,0.5,ok', 'd,topk,20,1e30,diverged',
    'e,randk,0,nan,errored',
    'g,randk,0,1,ok', 'g,randk,100,0.3,ok',
  ].join('\n') + '\n';
  const t = parseResultsCsv(csv, 'div.csv');
  const at50 = evaluateClaim(claim({ at: { kind: 'value', column: 'iteration', value: 100 }, a: { where: [['compressor', ['topk']]] }, b: { where: [['compressor', ['randk']]] }, relation: parseRelation('>')! }), t);
  assert.equal(at50.settings[0].a?.value, Infinity);
  assert.equal(at50.settings[0].b?.value, 0.3);
  assert.deepEqual(at50.settings[0].b?.notes, ['e errored']);
  assert.equal(at50.verdict, 'holds');
  const at10 = evaluateClaim(claim({ at: { kind: 'value', column: 'iteration', value: 10 }, a: { where: [['compressor', ['topk']]] }, b: { constant: 0.5 }, relation: parseRelation('<=')! }), t);
  assert.equal(at10.settings[0].a?.value, 0.5, 'before it diverged the run is read as logged');
});

test('filters reach options in the params column, compare numbers numerically, and a missing column cannot be evaluated', () => {
  const v = evaluateClaim(claim({ a: { where: [['inner_steps', ['20']], ['k', ['1']], ['compressor', ['imp-a']]] }, b: { where: [['k', ['1.0']], ['compressor', ['randk']]] } }), table);
  assert.equal(v.settings[0].a?.runId, 'a1');
  assert.equal(v.settings[0].b?.value, 0.05);
  const missing = evaluateClaim(claim({ per: ['ranks'] }), table);
  assert.equal(missing.verdict, 'cannot be evaluated');
  assert.match(missing.reason ?? '', /x\.csv has no column "ranks"/);
  const none = evaluateClaim(claim({ b: { where: [['compressor', ['topk']]] } }), table);
  assert.match(none.reason ?? '', /no runs match b \(compressor=topk\)/);
});

test('a reach budget reads each run at the first row where a metric reached a target; never reaching it is the worst', () => {
  // bits to reach ‖∇f‖² ≤ 0.1: a1 at iteration 10 (1000 bits), r1 at iteration 20 (6000 bits), a2 never (0.2 at the end)
  const reach = { kind: 'reach', column: 'grad_norm_sq', value: 0.1 } as const;
  const v = evaluateClaim(claim({ metric: 'bits_up_per_worker', at: reach, a: { where: [['run_id', ['a1']]] }, b: { where: [['run_id', ['r1']]] } }), table);
  assert.equal(v.settings[0].a?.value, 1000);
  assert.equal(v.settings[0].b?.value, 6000);
  assert.equal(v.settings[0].a?.where, 'first grad_norm_sq ≤ 0.1');
  assert.equal(v.verdict, 'holds');
  const never = evaluateClaim(claim({ metric: 'bits_up_per_worker', at: reach, a: { where: [['run_id', ['a2']]] }, b: { where: [['run_id', ['r1']]] }, relation: parseRelation('>')! }), table);
  assert.equal(never.settings[0].a?.value, Infinity);
  assert.equal(never.verdict, 'holds');
});
