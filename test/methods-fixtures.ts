/**
 * Shared fixtures for the methods tests: the real mushrooms problem, a tiny separable quadratic
 * problem whose gradients are hand-computable, and helpers to build a MethodEnv and run a method.
 */
import { createRng } from '../src/core/rng.js';
import { readLibsvmFile } from '../src/data/libsvm.js';
import { splitShards } from '../src/data/split.js';
import type { LabeledData, SplitMode } from '../src/data/types.js';
import { logregSpec } from '../src/problems/logreg.js';
import type { LocalObjective, Problem } from '../src/problems/types.js';
import { compressorSpec } from '../src/compressors/registry.js';
import type { Compressor } from '../src/compressors/types.js';
import { createOracle } from '../src/methods/oracle.js';
import type { GradientOracle, MethodEnv, MethodSpec, MethodState } from '../src/methods/types.js';
import { datasetPath } from './data-dir.js';

const cache = new Map<string, Promise<LabeledData>>();
export function loadDataset(name: string): Promise<LabeledData> {
  let p = cache.get(name);
  if (!p) {
    p = readLibsvmFile(datasetPath(name));
    cache.set(name, p);
  }
  return p;
}

export async function logregProblem(name: string, workers: number, split: SplitMode = 'contiguous', seed = 0): Promise<Problem> {
  const data = await loadDataset(name);
  const shards = splitShards(data, workers, split, createRng(seed, 'split'));
  return logregSpec.create(data, { shards });
}

/**
 * f_i(x) = ½ Σ_j a_ij (x_j − c_ij)², so ∇f_i(x) = a_i ⊙ (x − c_i); `rows` rows per worker, where a
 * minibatch of r rows scales the data term by r/rows (enough to tell batches apart).
 */
export class QuadraticObjective implements LocalObjective {
  readonly d: number;
  lastBatch: number[] = [];
  constructor(readonly a: Float64Array, readonly c: Float64Array, readonly rows = 1) {
    this.d = a.length;
  }
  loss(x: Float64Array): number {
    let s = 0;
    for (let j = 0; j < this.d; j++) s += 0.5 * this.a[j] * (x[j] - this.c[j]) ** 2;
    return s;
  }
  gradient(x: Float64Array, out: Float64Array): number {
    for (let j = 0; j < this.d; j++) out[j] = this.a[j] * (x[j] - this.c[j]);
    return this.loss(x);
  }
  batchGradient(x: Float64Array, rows: Int32Array, count: number, out: Float64Array): number {
    this.lastBatch = Array.from(rows.subarray(0, count));
    let weight = 0;
    for (let t = 0; t < count; t++) weight += (rows[t] + 1) / this.rows;
    for (let j = 0; j < this.d; j++) out[j] = weight * this.a[j] * (x[j] - this.c[j]);
    return this.loss(x);
  }
}

export function quadraticProblem(workers: QuadraticObjective[]): Problem {
  const d = workers[0].d;
  const n = workers.length;
  const scratch = new Float64Array(d);
  return {
    name: 'quadratic',
    d,
    workers,
    totalRows: workers.reduce((s, w) => s + w.rows, 0),
    convex: true,
    loss: (x) => workers.reduce((s, w) => s + w.loss(x), 0) / n,
    gradient(x, out) {
      out.fill(0);
      for (const w of workers) {
        w.gradient(x, scratch);
        for (let j = 0; j < d; j++) out[j] += scratch[j] / n;
      }
      return this.loss(x);
    },
    accuracy: () => 0,
    smoothness: () => undefined,
  };
}

/** A quadratic problem with seeded random curvatures and centres. */
export function randomQuadratic(n: number, d: number, seed: number, rows = 1): Problem {
  const rng = createRng(seed, 'test-quadratic');
  const workers = Array.from({ length: n }, () => {
    const a = Float64Array.from({ length: d }, () => 0.5 + rng.float());
    const c = Float64Array.from({ length: d }, () => rng.normal());
    return new QuadraticObjective(a, c, rows);
  });
  return quadraticProblem(workers);
}

export interface EnvOptions {
  compressor?: string;
  k?: number;
  stepSize: number;
  floatBits?: number;
  batch?: number;
  seed?: number;
  oracle?: GradientOracle;
}

export function makeEnv(problem: Problem, options: EnvOptions): MethodEnv {
  const floatBits = options.floatBits ?? 32;
  const seed = options.seed ?? 0;
  const spec = compressorSpec(options.compressor ?? 'identity');
  const compressors: Compressor[] = problem.workers.map((_, i) =>
    spec.create({ d: problem.d, floatBits, rng: createRng(seed, 'compressor', i), values: { k: options.k } }),
  );
  return {
    problem,
    compressors,
    stepSize: options.stepSize,
    floatBits,
    k: options.k,
    oracle: options.oracle ?? createOracle(problem, { batch: options.batch, seed }),
  };
}

/** Runs `iters` steps; returns the final state and, when asked, a copy of every iterate. */
export function run<S extends MethodState = MethodState>(spec: MethodSpec, env: MethodEnv, x0: Float64Array, iters: number): { state: S; xs: Float64Array[] } {
  const method = spec.create();
  const state = method.init(x0, env) as S;
  const xs = [Float64Array.from(state.x)];
  for (let t = 0; t < iters; t++) {
    method.step(state, env);
    xs.push(Float64Array.from(state.x));
  }
  return { state, xs };
}

/** Index of the first coordinate where two vectors differ in any bit (NaN if none). */
export function firstBitDifference(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return -1;
  const ua = new BigUint64Array(a.buffer, a.byteOffset, a.length);
  const ub = new BigUint64Array(b.buffer, b.byteOffset, b.length);
  for (let j = 0; j < a.length; j++) if (ua[j] !== ub[j]) return j;
  return NaN;
}
