/**
 * GpuLogregProblem's dispatch rule and the accuracy contract, on fake kernels (no gpu.js): the fake
 * computes the data terms in float64 from the shards (optionally corrupted) and counts dispatches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackendLabel, LogregKernels, LogregShardData } from '../src/backends/types.js';
import { sigmoid, softplus, logregSpec, type LogregProblem } from '../src/problems/logreg.js';
import { checkGpuGradients, GPU_GRADIENT_TOLERANCE, GpuLogregProblem, logregShardData } from '../src/problems/logreg-gpu.js';
import { gdSpec } from '../src/methods/gd.js';
import { contiguousShards, readDataset } from './problems-fixtures.js';
import { makeEnv, run } from './methods-fixtures.js';
import { maxRelativeError } from '../src/backends/accuracy.js';
import { compressorSpec } from '../src/compressors/registry.js';
import { createRng } from '../src/core/rng.js';

class FakeKernels implements LogregKernels {
  readonly label: BackendLabel = { backend: 'gpujs:FakeKernel', device: 'test', precision: 'float32' };
  readonly workers: number;
  readonly d: number;
  allShardCalls = 0;
  oneShardCalls = 0;
  /** Drops row `skipRow` of shard 0 from the gradients (a corrupted device). */
  skipRow = -1;

  constructor(private readonly shards: readonly LogregShardData[]) {
    this.workers = shards.length;
    this.d = shards[0].A.cols;
  }

  private data(i: number, x: Float64Array, out: Float64Array, weight?: Float64Array): void {
    const { A, b } = this.shards[i];
    out.fill(0);
    for (let r = 0; r < A.rows; r++) {
      if (i === 0 && r === this.skipRow) continue;
      let dot = 0;
      for (let k = A.rowPtr[r]; k < A.rowPtr[r + 1]; k++) dot += A.values[k] * x[A.colIdx[k]];
      const c = -b[r] * sigmoid(-b[r] * dot) * (weight ? weight[r] : 1 / A.rows);
      for (let k = A.rowPtr[r]; k < A.rowPtr[r + 1]; k++) out[A.colIdx[k]] += c * A.values[k];
    }
  }

  gradients(x: Float64Array, out: readonly Float64Array[]): void {
    this.allShardCalls++;
    for (let i = 0; i < this.workers; i++) this.data(i, x, out[i]);
  }
  shardGradient(worker: number, x: Float64Array, out: Float64Array): void {
    this.oneShardCalls++;
    this.data(worker, x, out);
  }
  shardBatchGradient(worker: number, x: Float64Array, rows: Int32Array, count: number, out: Float64Array): void {
    const w = new Float64Array(this.shards[worker].A.rows);
    for (let t = 0; t < count; t++) w[rows[t]] += 1 / count;
    this.data(worker, x, out, w);
  }
  private rowLoss(i: number, r: number, x: Float64Array): number {
    const { A, b } = this.shards[i];
    let dot = 0;
    for (let k = A.rowPtr[r]; k < A.rowPtr[r + 1]; k++) dot += A.values[k] * x[A.colIdx[k]];
    return softplus(-b[r] * dot);
  }
  lossSums(x: Float64Array, out: Float64Array): void {
    for (let i = 0; i < this.workers; i++) {
      let s = 0;
      for (let r = 0; r < this.shards[i].A.rows; r++) s += this.rowLoss(i, r, x);
      out[i] = s;
    }
  }
  batchLossSum(worker: number, x: Float64Array, rows: Int32Array, count: number): number {
    let s = 0;
    for (let t = 0; t < count; t++) s += this.rowLoss(worker, rows[t], x);
    return s;
  }
  coordinateDecreaseSums(): void {
    throw new Error('not used here');
  }
  dispose(): void {}
}

function setup(n = 4): { reference: LogregProblem; kernels: FakeKernels; problem: GpuLogregProblem } {
  const data = readDataset('mushrooms', 2000);
  const reference = logregSpec.create(data, { shards: contiguousShards(data.X.rows, n) }) as LogregProblem;
  const kernels = new FakeKernels(logregShardData(reference));
  return { reference, kernels, problem: new GpuLogregProblem(reference, kernels) };
}

test('gd asks every worker at one shared point: one all-shard dispatch per step, none per worker', () => {
  const { reference, kernels, problem } = setup(4);
  const x0 = Float64Array.from({ length: reference.d }, (_, j) => 0.1 * Math.cos(j));
  const gamma = 1 / reference.smoothness().L;
  const steps = 6;
  const gpu = run(gdSpec, makeEnv(problem, { stepSize: gamma }), x0, steps).xs;
  // the first step learns that the point is shared (worker 0 alone, then worker 1 at the same array)
  assert.equal(kernels.oneShardCalls, 1);
  assert.equal(kernels.allShardCalls, steps);
  // with float64 fake kernels the gpu problem is the float64 problem (up to the wasm kernels' exp)
  const cpu = run(gdSpec, makeEnv(reference, { stepSize: gamma }), x0, steps).xs;
  assert.ok(maxRelativeError(gpu[steps], cpu[steps]) < 1e-13);
  assert.notDeepEqual(gpu[steps], gpu[0]);
});

test('a point only one worker uses (imp-b inner points) gets one-shard dispatches', () => {
  const { reference, kernels, problem } = setup(3);
  const d = reference.d;
  const x = Float64Array.from({ length: d }, (_, j) => Math.sin(j));
  const v = Float64Array.from({ length: d }, (_, j) => Math.cos(j));
  const compressors = [0, 1, 2].map((i) => compressorSpec('imp-b').create({ d, floatBits: 32, rng: createRng(0, 'compressor', i), values: { k: 5, inner_steps: 4, inner_step: 1 } }));
  for (let i = 0; i < 3; i++) compressors[i].compress(v, { x, objective: problem.workers[i], stepSize: 0.5 });
  assert.equal(kernels.allShardCalls, 0);
  assert.ok(kernels.oneShardCalls >= 3 * 4, `one-shard dispatches: ${kernels.oneShardCalls}`);
});

test('the accuracy contract catches one lost row of two thousand, and passes the exact kernels', () => {
  const { reference, kernels, problem } = setup(4);
  const x = new Float64Array(reference.d);
  const ok = checkGpuGradients(problem, x);
  assert.equal(ok.maxScaledError, 0);
  kernels.skipRow = 17;
  assert.throws(
    () => checkGpuGradients(new GpuLogregProblem(reference, kernels), x),
    (err: Error) => /worker 0 differs from the float64 one by .* beyond the tolerance 1e-4/.test(err.message),
  );
  assert.equal(GPU_GRADIENT_TOLERANCE, 1e-4);
});

test('loss and minibatch gradients go through the kernels and match float64', () => {
  const { reference, problem } = setup(2);
  const x = Float64Array.from({ length: reference.d }, (_, j) => 0.2 * Math.sin(j));
  assert.ok(Math.abs(problem.loss(x) - reference.loss(x)) < 1e-14);
  const rows = Int32Array.from([3, 9, 3, 400]);
  const got = new Float64Array(reference.d);
  const ref = new Float64Array(reference.d);
  const f = problem.workers[1].batchGradient(x, rows, rows.length, got);
  const fRef = reference.workers[1].referenceBatchGradient(x, rows, rows.length, ref);
  assert.ok(Math.abs(f - fRef) < 1e-14);
  for (let j = 0; j < reference.d; j++) assert.ok(Math.abs(got[j] - ref[j]) < 1e-15, `j = ${j}`);
});
