/**
 * gpu.js kernel bodies of the `mlp` problem (spec §2) for any number L ≥ 1 of hidden layers:
 * inputs p → h₁ → … → h_L ReLU units → one logit. x is laid out as the spec says, layer by layer, each
 * layer's weight matrix (out × in, row-major) then its bias (mlpLayerOffsets below computes the offsets;
 * src/problems/mlp.ts's mlpLayout is the reference, and a test checks that both agree).
 * The same subset of JavaScript as kernels.ts (numbers only, float loop counters stepping by 1.0,
 * integer divisions as floor((t + 0.5)/m) so that a float32 quotient just below an integer cannot
 * round the wrong way), and the same blocked column sums (256 terms per partial sum).
 *
 * Every kernel is one dispatch over every row (or every parameter) of every shard; the data are
 * constants, uploaded once. Each kernel serves one layer, told which by its constants (`inputs`,
 * `units`, the offsets `weights`, `bias` of its layer in x), so a network of L hidden layers builds
 * 3L + 2 kernels once per run, and one gradient of every worker at one x runs them in this order:
 *   forward   z₁ = W₁a + b₁ (sparse rows), z_l = W_l relu(z_{l−1}) + b_l for l = 2…L     (on the device)
 *   row terms c_r = −b_r σ(−b_r z_r) w_r and softplus(−b_r z_r), z_r = W_out relu(z_L) + b_out (read back)
 *   backward  δ_L = [z_L > 0] ⊙ W_outᵀ c, δ_l = [z_l > 0] ⊙ W_{l+1}ᵀ δ_{l+1}                  (on the device)
 *   gradients per layer and shard: W₁ and b₁ from δ₁ (W₁ through the per-shard CSC), W_l and b_l
 *             from δ_l and relu(z_{l−1}), the output layer from c and relu(z_L)                (read back)
 * (w_r = 1/N_i, or minibatch weights.) Cell r·units + u holds unit u of row r; a gradient kernel's
 * cell i·P + s holds parameter s of its layer (P = units·inputs + units) for shard i.
 */
import { sigmoidOf, softplusOf, type KernelThis } from './kernels.js';
import { FLOAT32_EXACT_INTEGERS } from './layout.js';

/** Where each layer's weights and bias start in x (spec §2 layout); sizes = [p, h₁, …, h_L, 1]. */
export interface MlpLayerOffsets {
  readonly sizes: readonly number[];
  readonly weightOffset: readonly number[];
  readonly biasOffset: readonly number[];
  /** Parameter count. */
  readonly params: number;
}

export function mlpLayerOffsets(inputs: number, hidden: readonly number[]): MlpLayerOffsets {
  const sizes = [inputs, ...hidden, 1];
  const weightOffset: number[] = [];
  const biasOffset: number[] = [];
  let at = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    weightOffset.push(at);
    at += sizes[l] * sizes[l + 1];
    biasOffset.push(at);
    at += sizes[l + 1];
  }
  return { sizes, weightOffset, biasOffset, params: at };
}

/**
 * Why these shards and this network cannot run on float32 indices (every cell index and every index
 * into x must stay below 2^24), or undefined. The caller names its options in the error.
 */
export function mlpCellLimit(shape: { readonly inputs: number; readonly hidden: readonly number[] }, totalRows: number, workers: number): string | undefined {
  const { sizes, params } = mlpLayerOffsets(shape.inputs, shape.hidden);
  const limit = FLOAT32_EXACT_INTEGERS;
  if (params >= limit) return `the network has ${params} parameters`;
  for (let l = 1; l + 1 < sizes.length; l++) {
    if (totalRows * sizes[l] >= limit) return `hidden layer ${l} has ${sizes[l]} units × ${totalRows} rows = ${totalRows * sizes[l]} cells`;
  }
  for (let l = 0; l + 1 < sizes.length; l++) {
    const layer = sizes[l + 1] * (sizes[l] + 1);
    if (workers * layer >= limit) return `layer ${l + 1} has ${layer} parameters × ${workers} workers = ${workers * layer} cells`;
  }
  return undefined;
}

/** Forward, first layer: z₁ for every row of every shard (output N·units; CSR constants). */
export function mlpFirstLayer(this: KernelThis, x: number[]): number {
  const t = this.thread.x;
  const h = this.constants.units;
  const r = Math.floor((t + 0.5) / h);
  const u = t - r * h;
  const base = this.constants.weights + u * this.constants.inputs;
  const start = this.constants.rowPtr[r];
  const end = this.constants.rowPtr[r + 1];
  let z = x[this.constants.bias + u];
  for (let k = start; k < end; k += 1.0) {
    z += this.constants.values[k] * x[base + this.constants.colIdx[k]];
  }
  return z;
}

/** Forward, hidden layer l ≥ 2: z_l from z_{l−1} (`below`, N·inputs); output N·units. */
export function mlpDenseLayer(this: KernelThis, below: number[], x: number[]): number {
  const t = this.thread.x;
  const h = this.constants.units;
  const n = this.constants.inputs;
  const r = Math.floor((t + 0.5) / h);
  const u = t - r * h;
  const base = this.constants.weights + u * n;
  let z = x[this.constants.bias + u];
  for (let v = 0; v < n; v++) {
    const a = below[r * n + v];
    if (a > 0.0) {
      z += x[base + v] * a;
    }
  }
  return z;
}

/** Row terms from z_L (`pre`, N·inputs): cells r < N are c_r, cells N + r softplus(−b_r z_r); output 2N. */
export function mlpRowTerms(this: KernelThis, pre: number[], x: number[], weight: number[]): number {
  const t = this.thread.x;
  const rows = this.constants.totalRows;
  let r = t;
  if (t >= rows) {
    r = t - rows;
  }
  const n = this.constants.inputs;
  const w = this.constants.weights;
  let z = x[this.constants.bias];
  for (let u = 0; u < n; u++) {
    const a = pre[r * n + u];
    if (a > 0.0) {
      z += x[w + u] * a;
    }
  }
  const b = this.constants.labels[r];
  if (t >= rows) {
    return softplusOf(-b * z);
  }
  return -b * sigmoidOf(-b * z) * weight[r];
}

/**
 * Backward: δ_l[r, v] = [z_l[r, v] > 0] Σ_u W_{l+1}[u, v] δ_{l+1}[r, u] (cell r·units + v; output N·units).
 * `above` is δ_{l+1} (N·aboveUnits), or the row terms for the top hidden layer (aboveUnits = 1: c_r at r);
 * `weights` is W_{l+1}'s offset.
 */
export function mlpBackward(this: KernelThis, above: number[], pre: number[], x: number[]): number {
  const t = this.thread.x;
  if (pre[t] > 0.0) {
    const h = this.constants.units;
    const m = this.constants.aboveUnits;
    const r = Math.floor((t + 0.5) / h);
    const v = t - r * h;
    const w = this.constants.weights + v;
    let s = 0.0;
    for (let u = 0; u < m; u++) {
      s += x[w + u * h] * above[r * m + u];
    }
    return s;
  }
  return 0.0;
}

/**
 * Gradients of the first layer for every shard (cell i·P + s, P = units·inputs + units):
 * W₁[u, j] = Σ_{rows r of shard i's column j} a_rj δ₁[r, u] (per-shard CSC), b₁_u = Σ_{rows of shard i} δ₁[r, u].
 */
export function mlpFirstLayerGradients(this: KernelThis, delta: number[]): number {
  const t = this.thread.x;
  const h = this.constants.units;
  const p = this.constants.inputs;
  const size = this.constants.layerParams;
  const i = Math.floor((t + 0.5) / size);
  const s = t - i * size;
  let sum = 0.0;
  if (s < h * p) {
    const u = Math.floor((s + 0.5) / p);
    const col = i * p + (s - u * p);
    const start = this.constants.colPtr[col];
    const end = this.constants.colPtr[col + 1];
    for (let block = start; block < end; block += 256.0) {
      const stop = Math.min(block + 256.0, end);
      let part = 0.0;
      for (let k = block; k < stop; k += 1.0) {
        part += this.constants.cscValues[k] * delta[this.constants.rowIdx[k] * h + u];
      }
      sum += part;
    }
    return sum;
  }
  const ub = s - h * p;
  const first = this.constants.shardStart[i];
  const last = this.constants.shardStart[i + 1];
  for (let block = first; block < last; block += 256.0) {
    const stop = Math.min(block + 256.0, last);
    let part = 0.0;
    for (let q = block; q < stop; q += 1.0) {
      part += delta[q * h + ub];
    }
    sum += part;
  }
  return sum;
}

/**
 * Gradients of a dense layer (hidden l ≥ 2, or the output layer) for every shard (cell i·P + s):
 * W[u, v] = Σ_{rows r of shard i} δ[r, u] relu(z_below[r, v]), b_u = Σ_r δ[r, u]. For the output layer
 * `delta` is the row terms (units = 1: c_r at r).
 */
export function mlpDenseGradients(this: KernelThis, delta: number[], below: number[]): number {
  const t = this.thread.x;
  const h = this.constants.units;
  const n = this.constants.inputs;
  const size = this.constants.layerParams;
  const i = Math.floor((t + 0.5) / size);
  const s = t - i * size;
  const first = this.constants.shardStart[i];
  const last = this.constants.shardStart[i + 1];
  let sum = 0.0;
  if (s < h * n) {
    const u = Math.floor((s + 0.5) / n);
    const v = s - u * n;
    for (let block = first; block < last; block += 256.0) {
      const stop = Math.min(block + 256.0, last);
      let part = 0.0;
      for (let q = block; q < stop; q += 1.0) {
        const a = below[q * n + v];
        if (a > 0.0) {
          part += delta[q * h + u] * a;
        }
      }
      sum += part;
    }
    return sum;
  }
  const ub = s - h * n;
  for (let block = first; block < last; block += 256.0) {
    const stop = Math.min(block + 256.0, last);
    let part = 0.0;
    for (let q = block; q < stop; q += 1.0) {
      part += delta[q * h + ub];
    }
    sum += part;
  }
  return sum;
}
