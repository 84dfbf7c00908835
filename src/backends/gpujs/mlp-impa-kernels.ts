/**
 * imp-a's scores of the one-hidden-layer `mlp` on gpu.js (worker side): for shard i and every
 * parameter s, the row sums of the loss change when x_s alone moves by −δ_s, δ_s = η v_s:
 *
 *   out[s] = Σ_r softplus(q_r) − softplus(q_r + u_rs),   q_r = −b_r·logit_r,  u_rs = −b_r·Δlogit_rs,
 *
 * exactly as MlpShard.coordinateDecrease (src/problems/mlp.ts) computes them in float64, in
 * O(nnz_i·h + N_i·h): a first-layer weight W₁[u, j] moves unit u's pre-activation z_ru by −δ·a_rj on
 * the rows of column j only, a hidden bias b₁_u by −δ on every row, so the logit moves by
 * w₂_u·(relu(z_ru + Δz) − relu(z_ru)); an output weight w₂_u moves it by −δ·relu(z_ru), the output
 * bias by −δ. A row's change is −log1p(σ(q)·expm1(u)) for |u| ≤ 1 (no cancellation; the series
 * helpers of kernels.ts keep small values accurate on every device), the direct difference beyond.
 *
 * Three dispatches per call, all for one shard (the rows rowOffset … rowOffset + count − 1 of the
 * packed concatenation; layout.ts), the data uploaded once as constants:
 *   1. pre-activations z_ru, cell t·h + u for the shard's local row t (stays on the device);
 *   2. row terms: cell t = q_t, M + t = σ(q_t), 2M + t = softplus(q_t), 3M + t = b_t (M = the longest
 *      shard; stays on the device; the label rides along so that dispatch 3 binds one buffer less);
 *   3. the scores, one thread per parameter summing its rows in blocks of 256 terms (as the column
 *      sums of kernels.ts), through the shard's CSC for W₁ and over all rows otherwise.
 * Dispatch 3 binds 7 storage buffers (x and v travel as one [x | v] argument): WebGPU in compatibility
 * mode, Dawn's OpenGL ES backend among them, allows 8 per shader stage, the output included.
 * The same subset of JavaScript as kernels.ts (float loop counters stepping by 1.0, integer division
 * as floor((t + 0.5)/m)). ReLU kinks need no allowance here: relu(z + Δz) − relu(z) is continuous in
 * z, so a pre-activation that float32 puts on the other side of 0 changes a term by its rounding only.
 */
import { HELPER_FUNCTIONS, log1pAccurate, expm1Accurate, softplusOf, type KernelThis } from './kernels.js';
import type { OpenedDevice } from './device.js';
import type { PackedShards } from './layout.js';
import { KernelRunner, type NamedKernel } from './program.js';

/** Shape of the one-hidden-layer mlp these kernels score: p inputs → `hidden` ReLU units → one logit. */
export interface MlpImpAShape {
  readonly inputs: number;
  readonly hidden: number;
  readonly params: number;
}

/** A row's loss change softplus(q) − softplus(q + u), given σ(q) and softplus(q). */
export function rowLossChange(q: number, sig: number, soft: number, u: number): number {
  if (u == 0.0) {
    return 0.0;
  }
  if (u <= 1.0 && u >= -1.0) {
    return -log1pAccurate(sig * expm1Accurate(u));
  }
  return soft - softplusOf(q + u);
}

/**
 * relu(z + d) − relu(z) with the operations both scored parameter kinds used: d itself where z and
 * z + d are both active (not (z + d) − z, which rounds), −z where the unit switches off, z + d where on.
 */
export function reluChange(z: number, d: number): number {
  const moved = z + d;
  if (z > 0.0) {
    if (moved > 0.0) {
      return d;
    }
    return -z;
  }
  if (moved > 0.0) {
    return moved;
  }
  return 0.0;
}

/** Dispatch 1: z_ru for the shard's local rows t < count (cell t·h + u; 0 beyond). */
export function mlpShardPre(this: KernelThis, x: number[], rowOffset: number, count: number): number {
  const t = this.thread.x;
  const h = this.constants.hidden;
  const local = Math.floor((t + 0.5) / h);
  if (local >= count) {
    return 0.0;
  }
  const u = t - local * h;
  const r = rowOffset + local;
  const base = u * this.constants.inputs;
  const start = this.constants.rowPtr[r];
  const end = this.constants.rowPtr[r + 1];
  let z = x[this.constants.bias1 + u];
  for (let k = start; k < end; k += 1.0) {
    z += this.constants.values[k] * x[base + this.constants.colIdx[k]];
  }
  return z;
}

/** Dispatch 2: q_t, σ(q_t), softplus(q_t), b_t in four blocks of M cells (0 beyond count). */
export function mlpShardRowTerms(this: KernelThis, pre: number[], x: number[], rowOffset: number, count: number): number {
  const t = this.thread.x;
  const m = this.constants.maxRows;
  const part = Math.floor((t + 0.5) / m);
  const local = t - part * m;
  if (local >= count) {
    return 0.0;
  }
  const h = this.constants.hidden;
  const w2 = this.constants.w2;
  let z = x[this.constants.bias2];
  for (let u = 0; u < h; u++) {
    const a = pre[local * h + u];
    if (a > 0.0) {
      z += x[w2 + u] * a;
    }
  }
  const b = this.constants.labels[rowOffset + local];
  if (part > 2.5) {
    return b;
  }
  const q = -b * z;
  if (part < 0.5) {
    return q;
  }
  if (part < 1.5) {
    return 1.0 / (1.0 + Math.exp(-q));
  }
  return softplusOf(q);
}

/** Dispatch 3: the row sums of parameter s's loss changes (0 where η v_s = 0); xv = [x | v]; output d. */
export function mlpShardDecrease(this: KernelThis, pre: number[], terms: number[], xv: number[], eta: number, rowOffset: number, colBase: number, count: number): number {
  const s = this.thread.x;
  const st = eta * xv[this.constants.params + s];
  if (st == 0.0) {
    return 0.0;
  }
  const h = this.constants.hidden;
  const m = this.constants.maxRows;
  const bias1 = this.constants.bias1;
  const w2 = this.constants.w2;
  const bias2 = this.constants.bias2;
  let sum = 0.0;
  if (s < bias1) {
    const p = this.constants.inputs;
    const unit = Math.floor((s + 0.5) / p);
    const w = xv[w2 + unit];
    const col = colBase + (s - unit * p);
    const start = this.constants.colPtr[col];
    const end = this.constants.colPtr[col + 1];
    for (let block = start; block < end; block += 256.0) {
      const stop = Math.min(block + 256.0, end);
      let part = 0.0;
      for (let k = block; k < stop; k += 1.0) {
        const local = this.constants.rowIdx[k] - rowOffset;
        const z = pre[local * h + unit];
        const da = reluChange(z, -st * this.constants.cscValues[k]);
        const u = -terms[3 * m + local] * (w * da);
        part += rowLossChange(terms[local], terms[m + local], terms[2 * m + local], u);
      }
      sum += part;
    }
    return sum;
  }
  if (s < w2) {
    const unit = s - bias1;
    const w = xv[w2 + unit];
    for (let block = 0; block < count; block += 256.0) {
      const stop = Math.min(block + 256.0, count);
      let part = 0.0;
      for (let local = block; local < stop; local += 1.0) {
        const da = reluChange(pre[local * h + unit], -st);
        const u = -terms[3 * m + local] * (w * da);
        part += rowLossChange(terms[local], terms[m + local], terms[2 * m + local], u);
      }
      sum += part;
    }
    return sum;
  }
  if (s < bias2) {
    const unit = s - w2;
    for (let block = 0; block < count; block += 256.0) {
      const stop = Math.min(block + 256.0, count);
      let part = 0.0;
      for (let local = block; local < stop; local += 1.0) {
        const a = pre[local * h + unit];
        if (a > 0.0) {
          const u = terms[3 * m + local] * (st * a);
          part += rowLossChange(terms[local], terms[m + local], terms[2 * m + local], u);
        }
      }
      sum += part;
    }
    return sum;
  }
  for (let block = 0; block < count; block += 256.0) {
    const stop = Math.min(block + 256.0, count);
    let part = 0.0;
    for (let local = block; local < stop; local += 1.0) {
      const u = terms[3 * m + local] * st;
      part += rowLossChange(terms[local], terms[m + local], terms[2 * m + local], u);
    }
    sum += part;
  }
  return sum;
}

/** The three imp-a kernels for one packed set of shards (one hidden layer). */
export class MlpImpAProgram {
  readonly runner: KernelRunner;
  private readonly x: Float32Array;
  private readonly xv: Float32Array;
  private readonly pre: NamedKernel;
  private readonly terms: NamedKernel;
  private readonly scores: NamedKernel;

  constructor(device: OpenedDevice, readonly packed: PackedShards, readonly shape: MlpImpAShape) {
    const p = packed;
    const { inputs, hidden, params } = shape;
    if (p.d !== inputs) throw new RangeError(`gpu backend: mlp shards have ${p.d} columns, the network ${inputs} inputs`);
    if (params !== hidden * inputs + 2 * hidden + 1) throw new RangeError(`gpu backend: mlp ${inputs} → ${hidden} → 1 has ${hidden * inputs + 2 * hidden + 1} parameters, not ${params}`);
    if (p.maxShardRows * hidden >= 2 ** 24 || 4 * p.maxShardRows >= 2 ** 24) {
      throw new RangeError(`gpu backend: mlp imp-a cells (rows × hidden ${p.maxShardRows * hidden}) must stay below 2^24`);
    }
    this.runner = new KernelRunner(device);
    this.x = new Float32Array(params);
    this.xv = new Float32Array(2 * params);
    const layout = { inputs, hidden, params, bias1: hidden * inputs, w2: hidden * inputs + hidden, bias2: hidden * inputs + 2 * hidden, maxRows: p.maxShardRows };
    const functions = [...HELPER_FUNCTIONS, rowLossChange, reluChange] as never;
    this.pre = this.runner.make('mlp imp-a: pre-activations (one shard)', mlpShardPre, {
      output: [p.maxShardRows * hidden], pipeline: true, loopMaxIterations: Math.max(1, p.maxRowLength),
      constants: { rowPtr: p.rowPtr, colIdx: p.colIdx, values: p.values, ...layout },
    });
    this.terms = this.runner.make('mlp imp-a: row terms q, σ(q), softplus(q), b (one shard)', mlpShardRowTerms, {
      output: [4 * p.maxShardRows], pipeline: true, loopMaxIterations: Math.max(1, hidden),
      constants: { labels: p.labels, ...layout },
    });
    this.scores = this.runner.make('mlp imp-a: scores, one thread per parameter (one shard)', mlpShardDecrease, {
      output: [params], loopMaxIterations: Math.max(1, p.maxColumnLength, p.maxShardRows), functions,
      constants: { colPtr: p.colPtr, rowIdx: p.rowIdx, cscValues: p.cscValues, ...layout },
    });
  }

  /** Row sums of the loss changes of shard `worker` at x for the moves η v_s (see the header). */
  async decreaseSums(worker: number, x: Float32Array, v: Float32Array, eta: number): Promise<Float32Array> {
    const p = this.packed;
    const params = this.shape.params;
    this.x.set(x.subarray(0, params));
    this.xv.set(this.x);
    this.xv.set(v.subarray(0, params), params);
    const offset = p.rowOffset[worker];
    const count = p.shardRows[worker];
    const pre = await this.runner.run(this.pre, this.x, offset, count);
    const terms = await this.runner.run(this.terms, pre, this.x, offset, count);
    return this.runner.runFlat(this.scores, pre, terms, this.xv, eta, offset, worker * this.shape.inputs, count);
  }

  /** Builds and runs every kernel once (on every shard's offsets: the first call fixes argument kinds). */
  async warmUp(): Promise<string[]> {
    const zeros = new Float32Array(this.shape.params);
    await this.decreaseSums(0, zeros, zeros, 1);
    return [this.pre, this.terms, this.scores].map((k) => `${k.name}: ${k.kernel.kernel?.constructor?.name ?? 'unknown'}`);
  }

  destroy(): void {
    for (const k of [this.pre, this.terms, this.scores]) k.kernel.destroy();
  }
}
