import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOracle, MinibatchOracle } from '../src/methods/oracle.js';
import { QuadraticObjective, quadraticProblem } from './methods-fixtures.js';

function problemWithRows(rows: number[]) {
  return quadraticProblem(rows.map((r) => new QuadraticObjective(Float64Array.of(1, 2), Float64Array.of(0, 1), r)));
}

function batches(seed: number, draws: number) {
  const problem = problemWithRows([30, 29, 29]);
  const oracle = new MinibatchOracle(problem, 7, seed);
  const out: number[][][] = [[], [], []];
  for (let t = 0; t < draws; t++) for (let i = 0; i < 3; i++) out[i].push(Array.from(oracle.drawBatch(i).subarray(0, 7)));
  return out;
}

test('minibatch sampling is reproducible from the seed, differs across seeds and workers, and has no repeats within a batch', () => {
  const a = batches(123, 50);
  assert.deepEqual(batches(123, 50), a);
  assert.notDeepEqual(batches(124, 50), a);
  assert.notDeepEqual(a[1], a[2]);
  for (let i = 0; i < 3; i++) {
    for (const batch of a[i]) {
      assert.equal(new Set(batch).size, batch.length, `repeat in ${batch}`);
      for (const r of batch) assert.ok(Number.isInteger(r) && r >= 0 && r < (i === 0 ? 30 : 29));
    }
  }
});

test('minibatch rows are uniform: each row is included with probability b/N (5σ tolerance over 20000 draws)', () => {
  const problem = problemWithRows([10]);
  const oracle = new MinibatchOracle(problem, 3, 9);
  const draws = 20000;
  const counts = new Array(10).fill(0);
  for (let t = 0; t < draws; t++) for (const r of oracle.drawBatch(0).subarray(0, 3)) counts[r]++;
  const p = 0.3;
  const sigma = Math.sqrt((p * (1 - p)) / draws);
  for (const c of counts) assert.ok(Math.abs(c / draws - p) < 5 * sigma, `frequency ${c / draws}`);
});

test('the minibatch oracle hands the drawn rows to batchGradient and reports b rows; the full oracle reports N_i', () => {
  const problem = problemWithRows([12, 12]);
  const worker = problem.workers[1] as QuadraticObjective;
  const oracle = createOracle(problem, { batch: 4, seed: 1 });
  const out = new Float64Array(2);
  assert.equal(oracle.gradient(1, Float64Array.of(1, 1), out), 4);
  assert.equal(worker.lastBatch.length, 4);
  const weight = worker.lastBatch.reduce((s, r) => s + (r + 1) / 12, 0);
  assert.deepEqual(Array.from(out), [weight * 1, weight * 0]);
  const full = createOracle(problem, { seed: 1 });
  assert.equal(full.gradient(0, Float64Array.of(1, 3), out), 12);
  assert.deepEqual(Array.from(out), [1, 4]);
});

test('a batch larger than the smallest shard, or not a positive integer, is a usage error naming --batch', () => {
  const problem = problemWithRows([10, 9]);
  for (const b of [10, 0, -1, 2.5]) {
    assert.throws(() => createOracle(problem, { batch: b, seed: 0 }), (err: Error) => err.name === 'UsageError' && err.message.startsWith('--batch:'));
  }
  assert.doesNotThrow(() => createOracle(problem, { batch: 9, seed: 0 }));
});
