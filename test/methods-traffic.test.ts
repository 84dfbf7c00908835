import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gdSpec } from '../src/methods/gd.js';
import { cgdSpec } from '../src/methods/cgd.js';
import { efSpec } from '../src/methods/ef.js';
import { ef21Spec } from '../src/methods/ef21.js';
import { topkSsgdSpec } from '../src/methods/topk-ssgd.js';
import { gtopkSpec } from '../src/methods/gtopk.js';
import type { CountedMethodState } from '../src/methods/common.js';
import {
  alphaBetaSeconds, ceilLog2, sparseMessageBits, sparseSyncTraffic, treeChildren, treeReduceBroadcastTraffic,
} from '../src/methods/traffic.js';
import type { MethodSpec } from '../src/methods/types.js';
import { makeEnv, randomQuadratic, run } from './methods-fixtures.js';

// d = 100 → ⌈log2 d⌉ = 7; k = 5, F = 32 → P = 5·(32 + 7) = 195 bits; a dense vector is 100·32 = 3200 bits.
const D = 100;
const K = 5;
const P = 195;
const DENSE = 3200;

function countersAfter(spec: MethodSpec, n: number, steps: number, compressor = 'topk'): CountedMethodState {
  const problem = randomQuadratic(n, D, n);
  return run<CountedMethodState>(spec, makeEnv(problem, { compressor, k: K, stepSize: 0.1 }), new Float64Array(D), steps).state;
}

test('ceilLog2 and the sparse message size are exact integers', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 8, 9, 100, 1024, 1025].map(ceilLog2), [0, 1, 2, 2, 3, 3, 4, 7, 10, 11]);
  assert.equal(sparseMessageBits(K, D, 32), P);
  assert.equal(sparseMessageBits(1, 1, 32), 32, 'd = 1 needs no index bits');
});

test('topk-ssgd bit counts match hand-computed all-gather values for n = 1, 2, 3, 8', () => {
  // per step: Σ sent = n·P (nothing for a lone worker), Σ received = n(n − 1)·P
  const expected: Record<number, [number, number]> = { 1: [0, 0], 2: [390, 390], 3: [585, 1170], 8: [1560, 10920] };
  for (const [n, [up, down]] of Object.entries(expected)) {
    const s = countersAfter(topkSsgdSpec, Number(n), 3);
    assert.equal(s.bitsUpTotal, 3 * up, `n=${n} up`);
    assert.equal(s.bitsDownTotal, 3 * down, `n=${n} down`);
  }
  const s8 = countersAfter(topkSsgdSpec, 8, 1);
  assert.deepEqual(s8.traffic, { busiestSent: 195, busiestReceived: 1365, rounds: 3, criticalPathBits: 1365 });
});

test('gtopk bit counts match hand-computed tree values for n = 1, 2, 3, 8', () => {
  // per step: 2(n − 1)·P sent and received over all links; the root sends and receives ⌈log2 n⌉·P
  const expected: Record<number, { total: number; busiest: number; rounds: number; critical: number }> = {
    1: { total: 0, busiest: 0, rounds: 0, critical: 0 },
    2: { total: 390, busiest: 195, rounds: 2, critical: 390 },
    3: { total: 780, busiest: 390, rounds: 4, critical: 780 },
    8: { total: 2730, busiest: 585, rounds: 6, critical: 1170 },
  };
  for (const [n, e] of Object.entries(expected)) {
    const s = countersAfter(gtopkSpec, Number(n), 2);
    assert.equal(s.bitsUpTotal, 2 * e.total, `n=${n} up`);
    assert.equal(s.bitsDownTotal, 2 * e.total, `n=${n} down`);
    assert.deepEqual(s.traffic, { busiestSent: 2 * e.busiest, busiestReceived: 2 * e.busiest, rounds: 2 * e.rounds, criticalPathBits: 2 * e.critical }, `n=${n}`);
  }
});

test('gd, cgd, ef and ef21 bit counts match hand-computed master–worker values for n = 1, 2, 3, 8', () => {
  for (const n of [1, 2, 3, 8]) {
    const gd = countersAfter(gdSpec, n, 4);
    assert.equal(gd.bitsUpTotal, 4 * n * DENSE, `gd n=${n} up`);
    assert.equal(gd.bitsDownTotal, 4 * n * DENSE, `gd n=${n} down`);
    for (const spec of [cgdSpec, efSpec]) {
      const s = countersAfter(spec, n, 4);
      assert.equal(s.bitsUpTotal, 4 * n * P, `${spec.name} n=${n} up`);
      assert.equal(s.bitsDownTotal, 4 * n * DENSE, `${spec.name} n=${n} down`);
    }
    // ef21: g_i⁰ costs one message per worker in iteration 0, with no broadcast
    const init = countersAfter(ef21Spec, n, 0);
    assert.equal(init.bitsUpTotal, n * P, `ef21 n=${n} iteration 0 up`);
    assert.equal(init.bitsDownTotal, 0, `ef21 n=${n} iteration 0 down`);
    const ef21 = countersAfter(ef21Spec, n, 4);
    assert.equal(ef21.bitsUpTotal, 5 * n * P, `ef21 n=${n} up`);
    assert.equal(ef21.bitsDownTotal, 4 * n * DENSE, `ef21 n=${n} down`);
    const dense = countersAfter(cgdSpec, n, 1, 'identity');
    assert.equal(dense.bitsUpTotal, n * DENSE, `cgd+identity n=${n}`);
  }
});

test('the tree root has ⌈log2 n⌉ children and every other node fewer (n = 5: children 3, 0, 1, 0, 0)', () => {
  assert.deepEqual(Array.from(treeChildren(5)), [3, 0, 1, 0, 0]);
  assert.deepEqual(Array.from(treeChildren(8)), [3, 0, 1, 0, 2, 0, 1, 0]);
  for (const n of [2, 3, 6, 7, 100, 1000]) {
    const c = treeChildren(n);
    assert.equal(c[0], ceilLog2(n));
    assert.equal(c.reduce((a, b) => a + b, 0), n - 1, 'a tree on n nodes has n − 1 edges');
    const t = treeReduceBroadcastTraffic(n, 1);
    assert.equal(t.busiestSent, ceilLog2(n));
  }
});

test('critical path grows as O(k log n) for gtopk and O(k n) for topk-ssgd', () => {
  for (const n of [2, 4, 16, 256, 1024]) {
    const g = sparseSyncTraffic('gtopk', n, 10, 1000, 32);
    const a = sparseSyncTraffic('topk-ssgd', n, 10, 1000, 32);
    const p = 10 * (32 + 10);
    assert.equal(g.criticalPathBits, 2 * Math.log2(n) * p);
    assert.equal(a.criticalPathBits, (n - 1) * p);
    assert.equal(g.totalReceived, 2 * (n - 1) * p);
    assert.equal(a.totalReceived, n * (n - 1) * p);
  }
});

test('the α-β time is rounds·α + critical-path bits / bandwidth', () => {
  const t = sparseSyncTraffic('gtopk', 8, 5, 100, 32); // 6 rounds, 1170 bits
  assert.equal(alphaBetaSeconds(t, 1e-3, 1170), 6e-3 + 1);
});
