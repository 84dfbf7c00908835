/**
 * An independent float64 implementation of spec §2's `mlp`, written from the spec text only: dense
 * inputs, nested arrays of weights read off x by walking the layout ("layer by layer, each layer's
 * weight matrix (out × in, row-major) then its bias"), textbook forward and backward passes. It shares
 * no code with src/problems/mlp.ts; loss, gradient and a gd trajectory must agree to 1e-12 / 1e-9.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/core/rng.js';
import { toDense } from '../src/data/csr.js';
import type { LabeledData } from '../src/data/types.js';
import { mlpSpec } from '../src/problems/mlp.js';
import { gdSpec } from '../src/methods/gd.js';
import { allRows, contiguousShards, denseData, readDataset } from './problems-fixtures.js';
import { makeEnv, run } from './methods-fixtures.js';

interface DenseNet {
  W: number[][][]; // W[l][out][in]
  bias: number[][];
}

function unpack(x: ArrayLike<number>, widths: number[]): DenseNet {
  const W: number[][][] = [];
  const bias: number[][] = [];
  let at = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const m: number[][] = [];
    for (let o = 0; o < widths[l + 1]; o++) {
      const row: number[] = [];
      for (let i = 0; i < widths[l]; i++) row.push(x[at++]);
      m.push(row);
    }
    W.push(m);
    const b: number[] = [];
    for (let o = 0; o < widths[l + 1]; o++) b.push(x[at++]);
    bias.push(b);
  }
  assert.equal(at, x.length, 'the layout accounts for every parameter');
  return { W, bias };
}

function pack(net: DenseNet): number[] {
  const out: number[] = [];
  net.W.forEach((m, l) => {
    for (const row of m) out.push(...row);
    out.push(...net.bias[l]);
  });
  return out;
}

/** f and ∇f of one shard: (1/N) Σ log(1 + exp(−b z)) + (λ/2)‖x‖². */
function denseLossGradient(x: ArrayLike<number>, rows: number[][], labels: number[], widths: number[], lambda: number): { f: number; g: number[] } {
  const net = unpack(x, widths);
  const G: DenseNet = {
    W: net.W.map((m) => m.map((row) => row.map(() => 0))),
    bias: net.bias.map((b) => b.map(() => 0)),
  };
  const layers = net.W.length;
  let f = 0;
  rows.forEach((a, r) => {
    // forward: keep every layer's input activation and pre-activation
    const inputs: number[][] = [];
    const pre: number[][] = [];
    let act = a;
    for (let l = 0; l < layers; l++) {
      inputs.push(act);
      const z = net.W[l].map((row, o) => row.reduce((s, w, i) => s + w * act[i], 0) + net.bias[l][o]);
      pre.push(z);
      act = l + 1 < layers ? z.map((t) => Math.max(t, 0)) : z;
    }
    const logit = act[0];
    const m = -labels[r] * logit;
    f += Math.max(m, 0) + Math.log1p(Math.exp(-Math.abs(m)));
    // backward: d/dlogit of log(1 + e^m) is −b·e^m/(1 + e^m)
    const sig = m >= 0 ? 1 / (1 + Math.exp(-m)) : Math.exp(m) / (1 + Math.exp(m));
    let delta = [(-labels[r] * sig) / rows.length];
    for (let l = layers - 1; l >= 0; l--) {
      const input = inputs[l];
      delta.forEach((dOut, o) => {
        G.bias[l][o] += dOut;
        input.forEach((ai, i) => {
          G.W[l][o][i] += dOut * ai;
        });
      });
      if (l === 0) break;
      delta = input.map((_, i) => (pre[l - 1][i] > 0 ? delta.reduce((s, dOut, o) => s + net.W[l][o][i] * dOut, 0) : 0));
    }
  });
  f /= rows.length;
  const g = pack(G);
  let sq = 0;
  for (let j = 0; j < x.length; j++) {
    sq += x[j] * x[j];
    g[j] += lambda * x[j];
  }
  return { f: f + 0.5 * lambda * sq, g };
}

function relMax(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let j = 0; j < a.length; j++) {
    diff = Math.max(diff, Math.abs(a[j] - b[j]));
    scale = Math.max(scale, Math.abs(b[j]));
  }
  return diff / scale;
}

function shardRows(data: LabeledData, shard: Int32Array): { rows: number[][]; labels: number[] } {
  const dense = toDense(data.X);
  return { rows: [...shard].map((r) => [...dense[r]]), labels: [...shard].map((r) => data.b[r]) };
}

test('loss and gradient equal an independent dense float64 implementation of spec §2 to 1e-12', () => {
  const rng = createRng(9, 'test-mlp-reference');
  const tiny = denseData(
    Array.from({ length: 9 }, (_, r) => Array.from({ length: 5 }, (_, j) => ((r + 2 * j) % 3 === 0 ? rng.normal() : 0))),
    Array.from({ length: 9 }, (_, r) => (r % 3 === 1 ? 1 : -1)),
    5,
  );
  const cases: [string, LabeledData, number[], number, number][] = [
    ['tiny', tiny, [3], 0, 1],
    ['tiny', tiny, [4, 3], 0.1, 2],
    ['tiny', tiny, [2, 3, 2], 0, 1],
    ['mushrooms', readDataset('mushrooms', 500), [32], 0, 3],
    ['mushrooms', readDataset('mushrooms', 500), [16, 8], 1e-3, 1],
  ];
  for (const [name, data, hidden, l2, workers] of cases) {
    const shards = contiguousShards(data.X.rows, workers);
    const widths = [data.X.cols, ...hidden, 1];
    for (const kernels of ['wasm', 'js'] as const) {
      const p = mlpSpec.create(data, { shards, values: { hidden, l2 }, kernels });
      const x = new Float64Array(p.d);
      p.initialize(createRng(4, 'init'), x);
      for (let j = 0; j < p.d; j++) x[j] += 0.05 * Math.sin(3 * j + 1); // non-zero biases as well
      shards.forEach((shard, i) => {
        const { rows, labels } = shardRows(data, shard);
        const ref = denseLossGradient(x, rows, labels, widths, l2);
        const g = new Float64Array(p.d);
        const f = p.workers[i].gradient(x, g);
        const label = `${name} ${hidden} λ=${l2} worker ${i} (${kernels})`;
        assert.ok(Math.abs(f - ref.f) <= 1e-12 * Math.abs(ref.f), `${label}: f ${f} vs ${ref.f}`);
        assert.ok(relMax(g, ref.g) <= 1e-12, `${label}: gradient rel. diff ${relMax(g, ref.g)}`);
      });
    }
  }
});

test('a gd trajectory from a given x⁰ matches the dense reference to 1e-9 (mushrooms rows, 112 → 32 → 1)', () => {
  const data = readDataset('mushrooms', 400);
  const hidden = [32];
  const widths = [data.X.cols, ...hidden, 1];
  const p = mlpSpec.create(data, { shards: allRows(data.X.rows), values: { hidden } });
  const x0 = new Float64Array(p.d);
  p.initialize(createRng(0, 'init'), x0);
  const gamma = 0.5;
  const steps = 25;
  const { xs } = run(gdSpec, makeEnv(p, { stepSize: gamma }), x0, steps);
  const { rows, labels } = shardRows(data, allRows(data.X.rows)[0]);
  let x = [...x0];
  for (let t = 1; t <= steps; t++) {
    const { g } = denseLossGradient(x, rows, labels, widths, 0);
    x = x.map((xj, j) => xj - gamma * g[j]);
    assert.ok(relMax(xs[t], x) <= 1e-9, `x^${t}: rel. diff ${relMax(xs[t], x)}`);
  }
  const f0 = denseLossGradient(x0, rows, labels, widths, 0).f;
  const fT = denseLossGradient(x, rows, labels, widths, 0).f;
  assert.ok(fT < f0, `the run moved downhill: ${fT} < ${f0}`);
});
