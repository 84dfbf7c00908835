/**
 * gpu.js kernel bodies of the `mlp` problem with one hidden layer (spec §2): inputs p → h ReLU units
 * → one logit. x is laid out as the spec says: W₁ (h × p, row-major) at 0, b₁ at `bias1` = h·p, the
 * output weights w₂ at `w2` = h·p + h, the output bias at `bias2` = h·p + 2h; `params` = d.
 * The same subset of JavaScript as kernels.ts (numbers only, float loop counters stepping by 1.0,
 * integer divisions as floor((t + 0.5)/m) so that a float32 quotient just below an integer cannot
 * round the wrong way), and the same blocked column sums (256 terms per partial sum).
 *
 * One gradient is three dispatches over every shard at once, the data uploaded once as constants:
 *   1. hidden pre-activations z_{r,u} = b₁_u + Σ_k a_{rk} W₁[u, col_k], cell r·h + u (stays on the device);
 *   2. row terms: cell r < N is c_r = −b_r σ(−b_r z_r) w_r (z_r the logit, w_r the row weight), cell
 *      N + r the loss term softplus(−b_r z_r) (read back: the loss comes with the gradient);
 *   3. the gradient of every shard, cell i·d + s, each parameter summing its shard's rows:
 *      W₁[u, j]: w₂_u Σ_{rows of column j, z_{r,u} > 0} a_{rj} c_r (through the per-shard CSC),
 *      b₁_u: w₂_u Σ_{z_{r,u} > 0} c_r, w₂_u: Σ c_r relu(z_{r,u}), b₂: Σ c_r.
 */
import { sigmoidOf, softplusOf, type KernelThis } from './kernels.js';

/** Dispatch 1: z_{r,u} for every row of every shard (output N·h). */
export function mlpHiddenPre(this: KernelThis, x: number[]): number {
  const t = this.thread.x;
  const h = this.constants.hidden;
  const r = Math.floor((t + 0.5) / h);
  const u = t - r * h;
  const base = u * this.constants.inputs;
  const start = this.constants.rowPtr[r];
  const end = this.constants.rowPtr[r + 1];
  let z = x[this.constants.bias1 + u];
  for (let k = start; k < end; k += 1.0) {
    z += this.constants.values[k] * x[base + this.constants.colIdx[k]];
  }
  return z;
}

/** Dispatch 2: c_r (cells < N) and softplus(−b_r z_r) (cells N + r); output 2N. */
export function mlpRowTerms(this: KernelThis, pre: number[], x: number[], weight: number[]): number {
  const t = this.thread.x;
  const rows = this.constants.totalRows;
  let r = t;
  if (t >= rows) {
    r = t - rows;
  }
  const h = this.constants.hidden;
  const w2 = this.constants.w2;
  let z = x[this.constants.bias2];
  for (let u = 0; u < h; u++) {
    const a = pre[r * h + u];
    if (a > 0.0) {
      z += x[w2 + u] * a;
    }
  }
  const b = this.constants.labels[r];
  if (t >= rows) {
    return softplusOf(-b * z);
  }
  return -b * sigmoidOf(-b * z) * weight[r];
}

/** Dispatch 3: ∇ of the data term for every shard i and parameter s, cell i·d + s (output n·d). */
export function mlpGradients(this: KernelThis, pre: number[], c: number[], x: number[]): number {
  const t = this.thread.x;
  const params = this.constants.params;
  const i = Math.floor((t + 0.5) / params);
  const s = t - i * params;
  const h = this.constants.hidden;
  const bias1 = this.constants.bias1;
  const w2 = this.constants.w2;
  const bias2 = this.constants.bias2;
  let sum = 0.0;
  if (s < bias1) {
    const p = this.constants.inputs;
    const unit = Math.floor((s + 0.5) / p);
    const col = i * p + (s - unit * p);
    const start = this.constants.colPtr[col];
    const end = this.constants.colPtr[col + 1];
    for (let block = start; block < end; block += 256.0) {
      const stop = Math.min(block + 256.0, end);
      let part = 0.0;
      for (let k = block; k < stop; k += 1.0) {
        const row = this.constants.rowIdx[k];
        if (pre[row * h + unit] > 0.0) {
          part += this.constants.cscValues[k] * c[row];
        }
      }
      sum += part;
    }
    return sum * x[w2 + unit];
  }
  const first = this.constants.shardStart[i];
  const last = this.constants.shardStart[i + 1];
  if (s < w2) {
    const hb = s - bias1;
    for (let block = first; block < last; block += 256.0) {
      const stop = Math.min(block + 256.0, last);
      let part = 0.0;
      for (let q = block; q < stop; q += 1.0) {
        if (pre[q * h + hb] > 0.0) {
          part += c[q];
        }
      }
      sum += part;
    }
    return sum * x[w2 + hb];
  }
  if (s < bias2) {
    const ho = s - w2;
    for (let block = first; block < last; block += 256.0) {
      const stop = Math.min(block + 256.0, last);
      let part = 0.0;
      for (let q = block; q < stop; q += 1.0) {
        const a = pre[q * h + ho];
        if (a > 0.0) {
          part += c[q] * a;
        }
      }
      sum += part;
    }
    return sum;
  }
  for (let block = first; block < last; block += 256.0) {
    const stop = Math.min(block + 256.0, last);
    let part = 0.0;
    for (let q = block; q < stop; q += 1.0) {
      part += c[q];
    }
    sum += part;
  }
  return sum;
}

