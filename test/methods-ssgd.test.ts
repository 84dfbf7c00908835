import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/core/rng.js';
import { gdSpec } from '../src/methods/gd.js';
import { efSpec } from '../src/methods/ef.js';
import { topkSsgdSpec, type TopkSsgdState } from '../src/methods/topk-ssgd.js';
import { gtopkSpec, type GtopkState } from '../src/methods/gtopk.js';
import { TopKTreeReducer, TreeSum, reductionRounds } from '../src/methods/communicator.js';
import type { Problem } from '../src/problems/types.js';
import { firstBitDifference, logregProblem, makeEnv, randomQuadratic, run } from './methods-fixtures.js';

function assertSameBits(a: Float64Array[], b: Float64Array[], what: string): void {
  assert.equal(a.length, b.length);
  for (let t = 0; t < a.length; t++) {
    const j = firstBitDifference(a[t], b[t]);
    assert.ok(Number.isNaN(j), `${what}: x^${t} differs at coordinate ${j}: ${a[t][j]} vs ${b[t][j]}`);
  }
}

test('with k = d, gtopk and topk-ssgd equal minibatch gd bit for bit (all methods sum in the same tree order)', async () => {
  for (const n of [1, 5, 8]) {
    const problem = await logregProblem('mushrooms', n, 'iid', 1);
    const d = problem.d;
    const gamma = 2 / problem.smoothness()!.L;
    const x0 = new Float64Array(d);
    const env = () => makeEnv(problem, { compressor: 'topk', k: d, stepSize: gamma, batch: 16, seed: 42 });
    const reference = run(gdSpec, env(), x0, 15).xs;
    assert.notDeepEqual(reference[15], reference[0]);
    assertSameBits(run(topkSsgdSpec, env(), x0, 15).xs, reference, `topk-ssgd n=${n}`);
    assertSameBits(run(gtopkSpec, env(), x0, 15).xs, reference, `gtopk n=${n}`);
  }
});

test('with n = 1, gtopk and topk-ssgd equal ef with the topk compressor and the same γ', async () => {
  const problem = await logregProblem('mushrooms', 1, 'contiguous');
  const gamma = 1 / problem.smoothness()!.L;
  const x0 = Float64Array.from({ length: problem.d }, (_, j) => 0.01 * ((j % 7) - 3));
  for (const k of [1, 5, 30]) {
    const env = () => makeEnv(problem, { compressor: 'topk', k, stepSize: gamma });
    const reference = run(efSpec, env(), x0, 25).xs;
    assertSameBits(run(topkSsgdSpec, env(), x0, 25).xs, reference, `topk-ssgd k=${k}`);
    assertSameBits(run(gtopkSpec, env(), x0, 25).xs, reference, `gtopk k=${k}`);
  }
});

/** Dense brute force of the tree: explicit rounds (receiver i, sender i + 2^r), keep the k largest |·| over the support, ties by smaller index. */
function bruteForceTree(leaves: Float64Array[], supports: Uint8Array[], k: number): { values: Float64Array; support: Uint8Array } {
  const n = leaves.length;
  const d = leaves[0].length;
  const vals = leaves.map((v) => Float64Array.from(v));
  const sup = supports.map((s) => Uint8Array.from(s));
  for (let half = 1; half < n; half *= 2) {
    for (let i = 0; i < n; i += 2 * half) {
      const p = i + half;
      if (p >= n) continue;
      for (let j = 0; j < d; j++) {
        if (sup[p][j]) {
          vals[i][j] = sup[i][j] ? vals[i][j] + vals[p][j] : vals[p][j];
          sup[i][j] = 1;
        }
      }
      const members = [...Array(d).keys()].filter((j) => sup[i][j]);
      members.sort((a, b) => Math.abs(vals[i][b]) - Math.abs(vals[i][a]) || a - b);
      for (const j of members.slice(k)) {
        sup[i][j] = 0;
        vals[i][j] = 0;
      }
    }
  }
  return { values: vals[0], support: sup[0] };
}

test('the tree keeps exactly k non-zeros and its global mask equals a brute-force dense merge in the same pairing order', () => {
  const rng = createRng(5, 'tree-test');
  const d = 40;
  for (let n = 1; n <= 13; n++) {
    for (const k of [1, 3, 8]) {
      const reducer = new TopKTreeReducer(n, k);
      const leaves: Float64Array[] = [];
      const supports: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        // small integers: many ties in |·| and exact cancellations, the cases the tie rule decides
        const dense = new Float64Array(d);
        const support = new Uint8Array(d);
        const picked = new Set<number>();
        while (picked.size < k) picked.add(rng.int(d));
        const sorted = [...picked].sort((a, b) => a - b);
        sorted.forEach((j, t) => {
          const v = rng.int(7) - 3;
          dense[j] = v;
          support[j] = 1;
          reducer.nodeIndices[i][t] = j;
          reducer.nodeValues[i][t] = v;
        });
        reducer.nodeNnz[i] = k;
        leaves.push(dense);
        supports.push(support);
      }
      reducer.reduce();
      const expected = bruteForceTree(leaves, supports, k);
      assert.equal(reducer.nodeNnz[0], k, `n=${n} k=${k}: nnz`);
      const gotMask = Array.from(reducer.nodeIndices[0].subarray(0, k));
      const wantMask = [...Array(d).keys()].filter((j) => expected.support[j]);
      assert.deepEqual(gotMask, wantMask, `n=${n} k=${k}: mask`);
      for (let t = 0; t < k; t++) assert.equal(reducer.nodeValues[0][t], expected.values[gotMask[t]]);
    }
  }
});

test('reduction rounds pair node i with i + 2^r and let an unpaired node wait (n = 5 and n = 8)', () => {
  assert.deepEqual(reductionRounds(5), [[[0, 1], [2, 3]], [[0, 2]], [[0, 4]]]);
  assert.deepEqual(reductionRounds(8), [[[0, 1], [2, 3], [4, 5], [6, 7]], [[0, 2], [4, 6]], [[0, 4]]]);
  assert.deepEqual(reductionRounds(1), []);
});

test('the streaming tree sum associates exactly as the round-by-round tree for n = 1…40', () => {
  const rng = createRng(9, 'treesum-test');
  const d = 3;
  for (let n = 1; n <= 40; n++) {
    const leaves = Array.from({ length: n }, () => Float64Array.from({ length: d }, () => rng.normal() * 10 ** rng.int(12)));
    const sum = new TreeSum(d, n);
    sum.begin();
    for (const v of leaves) sum.addDense(v, 1);
    const got = Float64Array.from(sum.finish());
    const nodes = leaves.map((v) => Float64Array.from(v));
    for (const pairs of reductionRounds(n)) for (const [i, p] of pairs) for (let j = 0; j < d; j++) nodes[i][j] += nodes[p][j];
    assert.ok(Number.isNaN(firstBitDifference(got, nodes[0])), `n=${n}: ${got} vs ${nodes[0]}`);
  }
});

/** Runs a method one step at a time and checks Σ_i ε_i^T + n·Σ_t (x^t − x^{t+1}) + Σ_t dropped_t = Σ_t Σ_i γ∇f_i(x^t). */
function massBalance(spec: typeof gtopkSpec, problem: Problem, k: number, gamma: number, iters: number) {
  const n = problem.workers.length;
  const d = problem.d;
  const env = makeEnv(problem, { compressor: 'topk', k, stepSize: gamma });
  const method = spec.create();
  const state = method.init(new Float64Array(d), env) as GtopkState | TopkSsgdState;
  const injected = new Float64Array(d);
  const applied = new Float64Array(d);
  const dropped = new Float64Array(d);
  const grad = new Float64Array(d);
  let droppedAny = false;
  for (let t = 0; t < iters; t++) {
    const x = Float64Array.from(state.x);
    const accs = state.residuals.map((e, i) => {
      problem.workers[i].gradient(x, grad);
      for (let j = 0; j < d; j++) injected[j] += gamma * grad[j];
      return Float64Array.from(e, (v, j) => v + gamma * grad[j]);
    });
    method.step(state, env);
    for (let j = 0; j < d; j++) applied[j] += n * (x[j] - state.x[j]);
    if (spec.name === 'gtopk') {
      const gs = state as GtopkState;
      // Independently of the method: each worker's own top-k, the tree with what every inner merge
      // prunes, and the authors' residual rule ε_i = acc_i − s_i ⊙ gMask.
      const { global, pruned, local } = referenceTree(accs, k, n);
      const gotMask = Array.from(gs.globalIndices.subarray(0, gs.globalNnz));
      assert.deepEqual(gotMask, [...global.keys()].sort((p, q) => p - q), 'gMask');
      for (const [j, v] of pruned) {
        if (!global.has(j)) continue; // a pruned value off gMask stays in its workers' residuals
        dropped[j] += v;
        if (Math.abs(v) > 1e-9) droppedAny = true;
      }
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < d; j++) {
          const want = global.has(j) && local[i].includes(j) ? 0 : accs[i][j];
          assert.equal(state.residuals[i][j], want, `ε_${i}[${j}] = acc_i − s_i ⊙ gMask`);
        }
      }
    }
  }
  let scale = 0;
  let worst = 0;
  for (let j = 0; j < d; j++) {
    let residual = 0;
    for (const e of state.residuals) residual += e[j];
    scale = Math.max(scale, Math.abs(injected[j]));
    worst = Math.max(worst, Math.abs(residual + applied[j] + dropped[j] - injected[j]));
  }
  return { relative: worst / scale, droppedAny };
}

test('topk-ssgd conserves residual mass: Σ_i ε_i + n·Σ_t (x^t − x^{t+1}) = Σ_t Σ_i γ∇f_i(x^t) to rounding', () => {
  const problem = randomQuadratic(6, 30, 11);
  const { relative } = massBalance(topkSsgdSpec, problem, 4, 0.3, 40);
  assert.ok(relative < 1e-12, `relative imbalance ${relative}`);
});

test('gtopk for n ≥ 3 conserves mass once the values pruned at inner merges on gMask are counted (residual ε_i = acc_i − s_i ⊙ gMask)', () => {
  for (const n of [3, 6, 8]) {
    const problem = randomQuadratic(n, 8, 12 + n);
    const { relative, droppedAny } = massBalance(gtopkSpec, problem, 2, 0.3, 40);
    assert.ok(relative < 1e-12, `n=${n}: relative imbalance ${relative}`);
    assert.ok(droppedAny, `n=${n}: the case must exercise values pruned at inner merges`);
  }
});

test('gtopk for n ≤ 2 conserves Σ_i acc_i = Σ_i ε_i + G̃ exactly at every step', () => {
  for (const n of [1, 2]) {
    const problem = randomQuadratic(n, 20, 40 + n);
    const env = makeEnv(problem, { compressor: 'topk', k: 3, stepSize: 0.3 });
    const method = gtopkSpec.create();
    const state = method.init(new Float64Array(20), env) as GtopkState;
    const grad = new Float64Array(20);
    for (let t = 0; t < 30; t++) {
      const x = Float64Array.from(state.x);
      const accs = state.residuals.map((e, i) => {
        problem.workers[i].gradient(x, grad);
        return Float64Array.from(e, (v, j) => v + 0.3 * grad[j]);
      });
      method.step(state, env);
      const g = new Float64Array(20);
      for (let q = 0; q < state.globalNnz; q++) g[state.globalIndices[q]] = state.globalValues[q];
      for (let j = 0; j < 20; j++) {
        const left = n === 1 ? accs[0][j] : accs[0][j] + accs[1][j];
        const right = (n === 1 ? state.residuals[0][j] : state.residuals[0][j] + state.residuals[1][j]) + g[j];
        assert.equal(right, left, `n=${n} t=${t} j=${j}`);
      }
    }
  }
});

test('gtopk hand example (d = 4, n = 2, k = 1): acc₀ = (3,1,0,0), acc₁ = (1,2,0,0) → G̃ = 3e₀, ε₀ = (0,1,0,0), ε₁ = (1,2,0,0)', () => {
  const gradients = [Float64Array.of(3, 1, 0, 0), Float64Array.of(1, 2, 0, 0)];
  // f_i(x) = ⟨g_i, x⟩: ∇f_i = g_i everywhere, so with γ = 1 and ε = 0, acc_i = g_i.
  const workers = gradients.map((g) => ({
    d: 4, rows: 1,
    loss: (x: Float64Array) => g.reduce((s, v, j) => s + v * x[j], 0),
    gradient(x: Float64Array, out: Float64Array) { out.set(g); return this.loss(x); },
    batchGradient(x: Float64Array, _r: Int32Array, _c: number, out: Float64Array) { out.set(g); return this.loss(x); },
  }));
  const problem = {
    name: 'linear', d: 4, workers, totalRows: 2, convex: true,
    loss: (x: Float64Array) => (workers[0].loss(x) + workers[1].loss(x)) / 2,
    gradient: (x: Float64Array, out: Float64Array) => { for (let j = 0; j < 4; j++) out[j] = (gradients[0][j] + gradients[1][j]) / 2; return 0; },
    accuracy: () => 0, smoothness: () => undefined,
  } as unknown as Problem;
  const env = makeEnv(problem, { compressor: 'topk', k: 1, stepSize: 1 });
  const method = gtopkSpec.create();
  const state = method.init(new Float64Array(4), env) as GtopkState;
  method.step(state, env);
  assert.equal(state.globalNnz, 1);
  assert.deepEqual([state.globalIndices[0], state.globalValues[0]], [0, 3]);
  assert.deepEqual(Array.from(state.residuals[0]), [0, 1, 0, 0]);
  assert.deepEqual(Array.from(state.residuals[1]), [1, 2, 0, 0]);
  assert.deepEqual(Array.from(state.x), [-1.5, 0, 0, 0]);
});

/**
 * The tree of spec §4 on maps (independent of communicator.ts): each worker's top-k, then pairwise
 * merges keeping the k largest |·|; `pruned` sums, per coordinate, the partial sums every inner merge dropped.
 */
function referenceTree(accs: readonly Float64Array[], k: number, n: number) {
  const d = accs[0].length;
  const all = [...Array(d).keys()];
  const topk = (v: (j: number) => number, support: number[]) =>
    support.slice().sort((a, b) => Math.abs(v(b)) - Math.abs(v(a)) || a - b).slice(0, k).sort((a, b) => a - b);
  const local = accs.map((acc) => topk((j) => acc[j], all));
  const nodes: Map<number, number>[] = accs.map((acc, i) => new Map(local[i].map((j): [number, number] => [j, acc[j]])));
  const pruned = new Map<number, number>();
  for (const pairs of reductionRounds(n)) {
    for (const [a, b] of pairs) {
      const merged = new Map<number, number>(nodes[a]);
      for (const [j, v] of nodes[b]) merged.set(j, (merged.get(j) ?? 0) + v);
      const keep = topk((j) => merged.get(j)!, [...merged.keys()]);
      for (const [j, v] of merged) if (!keep.includes(j)) pruned.set(j, (pruned.get(j) ?? 0) + v);
      nodes[a] = new Map(keep.map((j): [number, number] => [j, merged.get(j)!]));
    }
  }
  return { global: nodes[0], pruned, local };
}

/** Dense reference implementations of spec §4 (independent of the methods' code paths). */
function referenceSsgd(problem: Problem, k: number, gamma: number, iters: number, tree: boolean): Float64Array {
  const n = problem.workers.length;
  const d = problem.d;
  const x = new Float64Array(d);
  const eps = Array.from({ length: n }, () => new Float64Array(d));
  const grad = new Float64Array(d);
  const topk = (v: Float64Array, support: number[]) =>
    support.slice().sort((a, b) => Math.abs(v[b]) - Math.abs(v[a]) || a - b).slice(0, k).sort((a, b) => a - b);
  for (let t = 0; t < iters; t++) {
    const accs = eps.map((e, i) => {
      problem.workers[i].gradient(x, grad);
      return Float64Array.from(e, (v, j) => v + gamma * grad[j]);
    });
    const all = [...Array(d).keys()];
    const local = accs.map((acc) => topk(acc, all));
    const update = new Float64Array(d);
    if (!tree) {
      accs.forEach((acc, i) => {
        for (const j of local[i]) {
          update[j] += acc[j];
          eps[i][j] = 0;
        }
        for (let j = 0; j < d; j++) if (!local[i].includes(j)) eps[i][j] = acc[j];
      });
    } else {
      const nodes: Map<number, number>[] = accs.map((acc, i) => new Map(local[i].map((j): [number, number] => [j, acc[j]])));
      for (const pairs of reductionRounds(n)) {
        for (const [a, b] of pairs) {
          const merged = new Map<number, number>(nodes[a]);
          for (const [j, v] of nodes[b]) merged.set(j, (merged.get(j) ?? 0) + v);
          const keep = topk(Float64Array.from(all, (j) => merged.get(j) ?? 0), [...merged.keys()]);
          nodes[a] = new Map(keep.map((j): [number, number] => [j, merged.get(j)!]));
        }
      }
      for (const [j, v] of nodes[0]) update[j] = v;
      // the authors' residual: ε_i = acc_i − s_i ⊙ gMask
      accs.forEach((acc, i) => {
        for (let j = 0; j < d; j++) eps[i][j] = nodes[0].has(j) && local[i].includes(j) ? 0 : acc[j];
      });
    }
    for (let j = 0; j < d; j++) x[j] -= update[j] / n;
  }
  return x;
}

test('topk-ssgd and gtopk trajectories match a dense reference implementation of spec §4 (n = 5, 8)', () => {
  for (const n of [5, 8]) {
    const problem = randomQuadratic(n, 25, 20 + n);
    const gamma = 0.4;
    for (const [spec, tree] of [[topkSsgdSpec, false], [gtopkSpec, true]] as const) {
      const got = run(spec, makeEnv(problem, { compressor: 'topk', k: 3, stepSize: gamma }), new Float64Array(25), 30).state.x;
      const want = referenceSsgd(problem, 3, gamma, 30, tree);
      for (let j = 0; j < 25; j++) {
        assert.ok(Math.abs(got[j] - want[j]) <= 1e-12 * Math.max(1, Math.abs(want[j])), `${spec.name} n=${n} x[${j}] ${got[j]} vs ${want[j]}`);
      }
    }
  }
});

test('gtopk and topk-ssgd reject a k outside 1…d, naming --k', async () => {
  const problem = randomQuadratic(2, 10, 1);
  for (const spec of [gtopkSpec, topkSsgdSpec]) {
    for (const k of [0, 11, 2.5, undefined]) {
      const env = { ...makeEnv(problem, { stepSize: 0.1 }), k };
      assert.throws(() => spec.create().init(new Float64Array(10), env), (err: Error) => err.message.startsWith('--k:') && err.name === 'UsageError');
    }
  }
});
