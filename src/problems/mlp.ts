/**
 * `mlp` (spec §2): a fully connected ReLU network with one output logit z(a; x) on the LIBSVM rows,
 * f_i(x) = (1/N_i) Σ_j softplus(−b_j z(a_j; x)) + (λ/2)‖x‖².
 *
 * Layout of x (spec §2): layer by layer (inputs → hidden_1 → … → hidden_L → 1), each layer's weight
 * matrix (out × in, row-major) then its bias. The input is sparse CSR and is never densified: the first
 * layer costs O(nnz·h₁) per pass, the dense layers O(N·Σ h_l·h_{l+1}).
 *
 * Loop structure (the JS reference here and the WebAssembly kernel in src/backends/assembly/mlp.ts
 * run the same loops in the same order, so they agree bit for bit): per call the weight matrices are
 * transposed into a scratch copy (O(d)), so that every forward product is an "axpy over the output
 * units" (z[u] += Wᵀ[v][u]·a[v], v ascending) and every backward product one over the input units
 * (δ_prev[v] += W[u][v]·δ[u], u ascending) — contiguous inner loops that the kernel runs two lanes at a
 * time without changing any unit's order of additions. Rows are processed one at a time; the
 * first-layer weight gradient accumulates transposed (input-major) and is transposed back at the end.
 */
import { softplus as softplusOf } from './logreg.js';
import { meanGradient, meanLoss } from './workers-mean.js';
import { DcompError } from '../core/errors.js';
import { declare, integerList, OptionError, real, type OptionDecl, type OptionValues } from '../core/options.js';
import type { Rng } from '../core/rng.js';
import { selectRows, toCsc, type CscMatrix } from '../data/csr.js';
import type { CsrMatrix, LabeledData } from '../data/types.js';
import { createMlpWasmCoordinateKernel, createMlpWasmKernel, type MlpWasmCoordinateKernel, type MlpWasmKernel } from '../backends/mlp-wasm.js';
import type { LocalObjective, Problem, ProblemOptions, ProblemSpec } from './types.js';

/** Which loops run loss/gradient/batchGradient/accuracy: the WebAssembly kernel (default) or the JS reference. */
export type MlpKernelChoice = 'wasm' | 'js';

/** Where each layer's parameters live in x. Layer l maps sizes[l] inputs to sizes[l+1] outputs. */
export interface MlpLayout {
  /** [inputs, h_1, …, h_L, 1] */
  readonly sizes: readonly number[];
  /** Offset of layer l's weight matrix (sizes[l+1] × sizes[l], row-major). */
  readonly weightOffset: readonly number[];
  /** Offset of layer l's bias (sizes[l+1] entries). */
  readonly biasOffset: readonly number[];
  /** Parameter count. */
  readonly d: number;
}

export function mlpLayout(inputs: number, hidden: readonly number[]): MlpLayout {
  if (!(Number.isInteger(inputs) && inputs >= 1)) throw new DcompError(`mlp: the input width must be a positive integer, got ${inputs}`);
  for (const h of hidden) {
    if (!(Number.isInteger(h) && h >= 1)) throw new DcompError(`mlp: hidden layer sizes must be positive integers, got ${hidden.join(',')}`);
  }
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
  if (at > 2 ** 31 - 1) throw new DcompError(`mlp: ${at} parameters is more than this implementation indexes (2^31 − 1)`);
  return { sizes, weightOffset, biasOffset, d: at };
}

/**
 * Spec §2 initialisation: hidden weights N(0, 2/fan_in) (He), output weights N(0, 1/fan_in), biases 0.
 * Draws one normal per weight in x's order (layer by layer, row-major); biases draw nothing.
 */
export function mlpInitialize(layout: MlpLayout, rng: Rng, out: Float64Array): void {
  const { sizes, weightOffset, biasOffset } = layout;
  if (out.length !== layout.d) throw new RangeError(`mlp: x⁰ needs ${layout.d} entries, got ${out.length}`);
  const layers = sizes.length - 1;
  for (let l = 0; l < layers; l++) {
    const fanIn = sizes[l];
    const sd = Math.sqrt((l + 1 < layers ? 2 : 1) / fanIn);
    const w = weightOffset[l];
    const count = sizes[l] * sizes[l + 1];
    for (let t = 0; t < count; t++) out[w + t] = sd * rng.normal();
    out.fill(0, biasOffset[l], biasOffset[l] + sizes[l + 1]);
  }
}

/**
 * Floating-point operations of one full gradient with the loss, counting a multiply-add as 2 and
 * nothing for ReLU, biases and the per-row exp/log1p: forward 2·(nnz·h₁ + N·Σ_dense n_in·n_out),
 * backward 2·nnz·h₁ (first-layer weights; no input gradient) + 4·N·Σ_dense n_in·n_out (weights and the
 * propagated δ). "dense" = every layer after the first, the output layer included.
 */
export function mlpGradientFlops(layout: MlpLayout, rows: number, nnz: number): number {
  const { sizes } = layout;
  let dense = 0;
  for (let l = 1; l + 1 < sizes.length; l++) dense += sizes[l] * sizes[l + 1];
  return 4 * nnz * sizes[1] + 6 * rows * dense;
}

/** The same f_i over any CSR rows whose columns are < layout inputs; scratch made once. */
class MlpForward {
  protected readonly layout: MlpLayout;
  protected readonly layers: number;
  /** Pre-activations per layer (sizes[l+1] each; the output layer's one entry is the logit). */
  protected readonly z: Float64Array[];
  /** Weights transposed (input-major) at the same offsets as in x; biases are read from x. */
  protected readonly wT: Float64Array;

  constructor(layout: MlpLayout) {
    this.layout = layout;
    this.layers = layout.sizes.length - 1;
    this.z = layout.sizes.slice(1).map((n) => new Float64Array(n));
    this.wT = new Float64Array(layout.d);
  }

  /** wT ← the weight blocks of x, transposed. */
  protected transposeWeights(x: Float64Array): void {
    const { sizes, weightOffset } = this.layout;
    const wT = this.wT;
    for (let l = 0; l < this.layers; l++) {
      const nIn = sizes[l];
      const nOut = sizes[l + 1];
      const off = weightOffset[l];
      for (let u = 0; u < nOut; u++) {
        const row = off + u * nIn;
        for (let v = 0; v < nIn; v++) wT[off + v * nOut + u] = x[row + v];
      }
    }
  }

  /** Forward pass of row r of A (after transposeWeights); leaves every layer's z; returns the logit. */
  protected forwardRow(A: CsrMatrix, r: number, x: Float64Array): number {
    const { sizes, weightOffset, biasOffset } = this.layout;
    const wT = this.wT;
    const { colIdx, values } = A;
    const h1 = sizes[1];
    const z1 = this.z[0];
    const b1 = biasOffset[0];
    for (let u = 0; u < h1; u++) z1[u] = x[b1 + u];
    const w1 = weightOffset[0];
    const end = A.rowPtr[r + 1];
    for (let k = A.rowPtr[r]; k < end; k++) {
      const a = values[k];
      const base = w1 + colIdx[k] * h1;
      for (let u = 0; u < h1; u++) z1[u] += wT[base + u] * a;
    }
    for (let l = 1; l < this.layers; l++) {
      const prev = this.z[l - 1];
      const cur = this.z[l];
      const nIn = sizes[l];
      const nOut = sizes[l + 1];
      const bo = biasOffset[l];
      for (let u = 0; u < nOut; u++) cur[u] = x[bo + u];
      const off = weightOffset[l];
      for (let v = 0; v < nIn; v++) {
        const av = prev[v];
        if (!(av > 0)) continue; // ReLU: inactive units add nothing
        const base = off + v * nOut;
        for (let u = 0; u < nOut; u++) cur[u] += wT[base + u] * av;
      }
    }
    return this.z[this.layers - 1][0];
  }

  /** Rows of A whose predicted sign (logit ≥ 0 → +1) equals b. */
  countCorrect(A: CsrMatrix, b: Float64Array, x: Float64Array): number {
    this.transposeWeights(x);
    let correct = 0;
    for (let r = 0; r < A.rows; r++) {
      const predicted = this.forwardRow(A, r, x) >= 0 ? 1 : -1;
      if (predicted === b[r]) correct++;
    }
    return correct;
  }

  /** Writes the logit of every row of A into out. */
  logits(A: CsrMatrix, x: Float64Array, out: Float64Array): void {
    this.transposeWeights(x);
    for (let r = 0; r < A.rows; r++) out[r] = this.forwardRow(A, r, x);
  }
}

/** Per-row state of the importance-(a) pass, made on its first call. */
interface CoordinateScratch {
  readonly csc: CscMatrix;
  /** Every row's hidden pre-activations, layer by layer: row r, hidden layer l at r·H + hiddenOffset[l]. */
  readonly hidden: Float64Array;
  readonly hiddenOffset: number[];
  readonly hiddenTotal: number;
  /** p_r = −b_r z_r, σ(p_r), softplus(p_r). */
  readonly p: Float64Array;
  readonly sigma: Float64Array;
  readonly softplus: Float64Array;
  /** Change of each unit's pre-activation / activation while a change propagates (deep networks). */
  readonly dz: Float64Array[];
  readonly da: Float64Array[];
  readonly sums: Float64Array;
  /** One-hidden-layer pass: η·v per unit of the current parameter group, expm1(±w_u·η·v). */
  readonly steps: Float64Array;
  readonly expPlus: Float64Array;
  readonly expMinus: Float64Array;
}

/** relu(z + Δ) − relu(z), exact where both sides are active (then it is Δ itself). */
function reluChange(z: number, delta: number): number {
  const moved = z + delta;
  if (z > 0) return moved > 0 ? delta : -z;
  return moved > 0 ? moved : 0;
}

/** f_i for one worker's shard. */
export class MlpShard extends MlpForward implements LocalObjective {
  readonly d: number;
  readonly rows: number;
  /** This shard's rows (a private copy) and labels. */
  readonly A: CsrMatrix;
  readonly b: Float64Array;
  readonly kernels: MlpKernelChoice;
  private readonly invRows: number;
  /** δ per layer (sizes[l+1] each). */
  private readonly delta: Float64Array[];
  /** First-layer weight gradient, transposed (inputs × h₁). */
  private readonly g1T: Float64Array;
  private allRows: Int32Array | undefined;
  private coordinate: CoordinateScratch | undefined;
  private readonly wasm: MlpWasmKernel | undefined;
  /** Made on the first coordinateDecrease call (one hidden layer, wasm kernels). */
  private coordinateWasm: MlpWasmCoordinateKernel | undefined;

  constructor(
    A: CsrMatrix,
    b: Float64Array,
    layout: MlpLayout,
    readonly lambda: number,
    options: { kernels?: MlpKernelChoice } = {},
  ) {
    super(layout);
    if (A.rows === 0) throw new DcompError('problem: a worker has no rows (more workers than data rows?)');
    if (A.cols > layout.sizes[0]) throw new DcompError(`mlp: the shard has ${A.cols} columns but the network ${layout.sizes[0]} inputs`);
    this.A = A;
    this.b = b;
    this.d = layout.d;
    this.rows = A.rows;
    this.invRows = 1 / A.rows;
    this.delta = layout.sizes.slice(1).map((n) => new Float64Array(n));
    this.g1T = new Float64Array(layout.sizes[0] * layout.sizes[1]);
    this.wasm = (options.kernels ?? 'wasm') === 'wasm' ? createMlpWasmKernel(A, b, layout) : undefined;
    this.kernels = this.wasm ? 'wasm' : 'js';
  }

  /** (λ/2)‖x‖² */
  private regulariserValue(x: Float64Array): number {
    if (this.lambda === 0) return 0;
    let s = 0;
    for (let j = 0; j < this.d; j++) s += x[j] * x[j];
    return 0.5 * this.lambda * s;
  }

  /** out += λx, after the data term (skipped for λ = 0: adding 0 changes no bit of a sum that is not −0). */
  private addRegulariserGradient(x: Float64Array, out: Float64Array): void {
    const lambda = this.lambda;
    if (lambda === 0) return;
    for (let j = 0; j < this.d; j++) out[j] += lambda * x[j];
  }

  private checkX(x: Float64Array): void {
    if (x.length !== this.d) throw new RangeError(`mlp: x has ${x.length} entries, the network ${this.d} parameters`);
  }

  loss(x: Float64Array): number {
    this.checkX(x);
    if (this.wasm) return this.wasm.lossSum(x) * this.invRows + this.regulariserValue(x);
    return this.referenceLoss(x);
  }

  gradient(x: Float64Array, out: Float64Array): number {
    this.checkX(x);
    const wasm = this.wasm;
    if (!wasm) return this.referenceGradient(x, out);
    const sum = wasm.accumulate(x, undefined, this.rows, this.invRows, true, out);
    this.addRegulariserGradient(x, out);
    return sum * this.invRows + this.regulariserValue(x);
  }

  gradientOnly(x: Float64Array, out: Float64Array): void {
    this.checkX(x);
    const wasm = this.wasm;
    if (!wasm) {
      this.referenceGradient(x, out);
      return;
    }
    wasm.accumulate(x, undefined, this.rows, this.invRows, false, out);
    this.addRegulariserGradient(x, out);
  }

  batchGradient(x: Float64Array, rows: Int32Array, count: number, out: Float64Array): number {
    this.checkX(x);
    if (!(Number.isInteger(count) && count >= 1 && count <= rows.length)) {
      throw new DcompError(`problem: minibatch size ${count} must be in [1, ${rows.length}]`);
    }
    const wasm = this.wasm;
    if (!wasm || count > this.rows) return this.referenceBatchGradient(x, rows, count, out);
    const invCount = 1 / count;
    const sum = wasm.accumulate(x, rows, count, invCount, true, out);
    this.addRegulariserGradient(x, out);
    return sum * invCount + this.regulariserValue(x);
  }

  /** Rows of this shard whose predicted sign matches b. */
  correctCount(x: Float64Array): number {
    this.checkX(x);
    if (this.wasm) return this.wasm.countCorrect(x);
    return this.countCorrect(this.A, this.b, x);
  }

  /** The reference JS loop for `loss`. */
  referenceLoss(x: Float64Array): number {
    this.transposeWeights(x);
    const b = this.b;
    let sum = 0;
    for (let r = 0; r < this.rows; r++) {
      const p = -b[r] * this.forwardRow(this.A, r, x);
      sum += softplusOf(p);
    }
    return sum * this.invRows + this.regulariserValue(x);
  }

  /** The reference JS loop for `gradient`: the minibatch loop over every row in order (same bits). */
  referenceGradient(x: Float64Array, out: Float64Array): number {
    this.allRows ??= Int32Array.from({ length: this.rows }, (_, r) => r);
    return this.referenceBatchGradient(x, this.allRows, this.rows, out);
  }

  /** The reference JS loop for `batchGradient`. */
  referenceBatchGradient(x: Float64Array, rows: Int32Array, count: number, out: Float64Array): number {
    this.checkX(x);
    if (!(Number.isInteger(count) && count >= 1 && count <= rows.length)) {
      throw new DcompError(`problem: minibatch size ${count} must be in [1, ${rows.length}]`);
    }
    const { sizes, weightOffset, biasOffset } = this.layout;
    const layers = this.layers;
    const { rowPtr, colIdx, values } = this.A;
    const b = this.b;
    const z = this.z;
    const delta = this.delta;
    const g1T = this.g1T;
    const h1 = sizes[1];
    const invCount = 1 / count;
    out.fill(0);
    g1T.fill(0);
    this.transposeWeights(x);
    let sum = 0;
    for (let i = 0; i < count; i++) {
      const r = rows[i];
      if (!(r >= 0 && r < this.rows)) throw new RangeError(`minibatch row ${r} is outside the shard's ${this.rows} rows`);
      const br = b[r];
      const p = -br * this.forwardRow(this.A, r, x);
      let sig: number;
      if (p > 0) {
        const e = Math.exp(-p);
        sum += p + Math.log1p(e);
        sig = 1 / (1 + e);
      } else {
        const e = Math.exp(p);
        sum += Math.log1p(e);
        sig = e / (1 + e);
      }
      // d loss / d logit, scaled by 1/count
      delta[layers - 1][0] = -br * sig * invCount;
      // Dense layers, output first: weight and bias gradients, then δ of the layer below through ReLU.
      for (let l = layers - 1; l >= 1; l--) {
        const nIn = sizes[l];
        const nOut = sizes[l + 1];
        const d = delta[l];
        const below = delta[l - 1];
        const a = z[l - 1];
        const off = weightOffset[l];
        const bo = biasOffset[l];
        below.fill(0);
        for (let u = 0; u < nOut; u++) {
          const du = d[u];
          out[bo + u] += du;
          if (du === 0) continue;
          const row = off + u * nIn;
          for (let v = 0; v < nIn; v++) {
            const av = a[v];
            out[row + v] += du * (av > 0 ? av : 0);
            below[v] += x[row + v] * du;
          }
        }
        for (let v = 0; v < nIn; v++) if (!(a[v] > 0)) below[v] = 0;
      }
      // First layer: bias, then the weights of the row's non-zero inputs (transposed accumulator).
      const d1 = delta[0];
      const b1 = biasOffset[0];
      let any = false;
      for (let u = 0; u < h1; u++) {
        out[b1 + u] += d1[u];
        if (d1[u] !== 0) any = true;
      }
      if (!any) continue;
      const end = rowPtr[r + 1];
      for (let k = rowPtr[r]; k < end; k++) {
        const a = values[k];
        const base = colIdx[k] * h1;
        for (let u = 0; u < h1; u++) g1T[base + u] += d1[u] * a;
      }
    }
    const w1 = weightOffset[0];
    const p0 = sizes[0];
    for (let u = 0; u < h1; u++) for (let j = 0; j < p0; j++) out[w1 + u * p0 + j] = g1T[j * h1 + u];
    this.addRegulariserGradient(x, out);
    return sum * invCount + this.regulariserValue(x);
  }

  /**
   * out[j] = f_i(x) − f_i(x − eta·v[j]·e_j) for every parameter j, without d forward passes: one
   * forward pass stores every row's pre-activations and p_r = −b_r z_r; then a parameter of layer l
   * changes one unit's pre-activation on the rows where its input is non-zero (first-layer weight
   * (u, j): the rows with feature j; a hidden weight (u, v): the rows where unit v below is active;
   * a bias: every row), and that change is carried to the logit — directly for the last hidden layer
   * and the output (O(1) per row), through the layers above otherwise. A row's loss change is
   * softplus(p) − softplus(p + u) = −log1p(σ(p)·expm1(u)) for |u| ≤ 1 (no cancellation), the direct
   * difference otherwise; the regulariser's in closed form, (λ/2)·δ(2x_j − δ).
   *
   * Cost, one hidden layer: O(nnz·h + N·h), about one forward pass. Two or more: a first-layer weight's
   * change is carried through the layers above on each of its rows, O(nnz·h₁·Σ_{l≥2} h_l·h_{l+1}/h₂…)
   * — see docs/problems.md for the exact count.
   */
  coordinateDecrease(x: Float64Array, v: Float64Array, eta: number, out: Float64Array): void {
    this.checkX(x);
    if (v.length !== this.d || out.length !== this.d) throw new RangeError(`mlp: v and out need ${this.d} entries`);
    if (this.layers === 2 && this.kernels === 'wasm') {
      this.coordinateWasm ??= createMlpWasmCoordinateKernel(this.A, this.b, this.layout, (this.coordinate ?? this.prepareCoordinateScratch()).csc);
    }
    if (this.coordinateWasm) this.coordinateWasm.rowSums(x, v, eta, out);
    else this.referenceCoordinateRowSums(x, v, eta, out);
    this.finishDecrease(x, v, eta, out);
  }

  /** The JS loops of coordinateDecrease (row sums, before 1/N_i and the regulariser). */
  private referenceCoordinateRowSums(x: Float64Array, v: Float64Array, eta: number, out: Float64Array): void {
    const scratch = this.prepareCoordinate(x);
    if (this.layers === 2) this.oneHiddenDecrease(scratch, x, v, eta, out);
    else this.deepDecrease(scratch, x, v, eta, out);
  }

  /** The JS reference of coordinateDecrease (the wasm kernel agrees with it to rounding; tests). */
  referenceCoordinateDecrease(x: Float64Array, v: Float64Array, eta: number, out: Float64Array): void {
    this.checkX(x);
    this.referenceCoordinateRowSums(x, v, eta, out);
    this.finishDecrease(x, v, eta, out);
  }

  private finishDecrease(x: Float64Array, v: Float64Array, eta: number, out: Float64Array): void {
    const invRows = this.invRows;
    const lambda = this.lambda;
    for (let j = 0; j < this.d; j++) {
      const step = eta * v[j];
      out[j] = step === 0 ? 0 : out[j] * invRows + (lambda === 0 ? 0 : 0.5 * lambda * step * (2 * x[j] - step));
    }
  }

  /**
   * The one-hidden-layer case of coordinateDecrease, row sums into out (not yet divided by N_i).
   * For an input value a = 1 (binary data) and a unit active before and after the move, the logit of
   * row r moves by exactly −w_u·δ, so u = ±w_u·δ by the label's sign: expm1 of those two values is
   * computed once per parameter, not once per row (the same numbers the general formula gives).
   */
  private oneHiddenDecrease(scratch: CoordinateScratch, x: Float64Array, v: Float64Array, eta: number, out: Float64Array): void {
    const { sizes, weightOffset, biasOffset } = this.layout;
    const { hidden, p, sigma, softplus, sums, steps, expPlus, expMinus } = scratch;
    const { colPtr, rowIdx, values } = scratch.csc;
    const b = this.b;
    const N = this.rows;
    const p0 = sizes[0];
    const h = sizes[1];
    const w1 = weightOffset[0];
    const b1 = biasOffset[0];
    const wOut = weightOffset[1];
    const bOut = biasOffset[1];
    out.fill(0);

    // Row r's loss change for a logit change dz; em = expm1(−b_r·dz) when the caller has it, else NaN.
    const decrease = (r: number, dz: number, em: number): number => {
      const u = -b[r] * dz;
      if (u === 0) return 0;
      if (u <= 1 && u >= -1) return -Math.log1p(sigma[r] * (em === em ? em : Math.expm1(u)));
      const q = p[r] + u;
      return softplus[r] - softplusOf(q);
    };
    // steps[u] = η·v of the parameter of unit u; expPlus/Minus[u] = expm1(±w_u·steps[u]) (both-active, a = 1).
    const prepareUnits = (stride: number, first: number): void => {
      for (let u = 0; u < h; u++) {
        const st = eta * v[first + u * stride];
        steps[u] = st;
        const c = x[wOut + u] * st;
        expPlus[u] = Math.expm1(c);
        expMinus[u] = Math.expm1(-c);
      }
    };
    // Adds row r's loss changes for the h parameters of steps[] whose input value on this row is a.
    const addRow = (r: number, a: number, acc: Float64Array, accStride: number, accFirst: number): void => {
      const zr = r * h;
      const positive = b[r] > 0;
      for (let u = 0; u < h; u++) {
        const st = steps[u];
        if (st === 0) continue;
        const z = hidden[zr + u];
        const dPre = -st * a;
        const moved = z + dPre;
        let da: number;
        let em = Number.NaN;
        if (z > 0) {
          if (moved > 0) {
            da = dPre;
            if (a === 1) em = positive ? expPlus[u] : expMinus[u];
          } else da = -z;
        } else if (moved > 0) da = moved;
        else continue;
        const dz = x[wOut + u] * da;
        if (dz !== 0) acc[accFirst + u * accStride] += decrease(r, dz, em);
      }
    };

    // First-layer weights (u, j): the rows of column j.
    for (let j = 0; j < p0; j++) {
      const start = colPtr[j];
      const end = colPtr[j + 1];
      if (start === end) continue;
      prepareUnits(p0, w1 + j);
      sums.fill(0, 0, h);
      for (let k = start; k < end; k++) addRow(rowIdx[k], values[k], sums, 1, 0);
      for (let u = 0; u < h; u++) out[w1 + u * p0 + j] = sums[u];
    }
    // Hidden biases: every row, input value 1.
    prepareUnits(1, b1);
    for (let r = 0; r < N; r++) addRow(r, 1, out, 1, b1);
    // Output weights: the logit moves by −δ·relu(z_u); output bias: by −δ.
    const stepBias = eta * v[bOut];
    const emBiasPlus = Math.expm1(stepBias);
    const emBiasMinus = Math.expm1(-stepBias);
    for (let r = 0; r < N; r++) {
      const zr = r * h;
      for (let u = 0; u < h; u++) {
        const a = hidden[zr + u];
        if (!(a > 0)) continue;
        const st = eta * v[wOut + u];
        if (st !== 0) out[wOut + u] += decrease(r, -st * a, Number.NaN);
      }
      // −b_r·(−δ) = ±δ exactly
      if (stepBias !== 0) out[bOut] += decrease(r, -stepBias, b[r] > 0 ? emBiasPlus : emBiasMinus);
    }
  }

  /** coordinateDecrease for two or more hidden layers (row sums into out, not yet divided by N_i). */
  private deepDecrease(scratch: CoordinateScratch, x: Float64Array, v: Float64Array, eta: number, out: Float64Array): void {
    const { sizes, weightOffset, biasOffset } = this.layout;
    const layers = this.layers;
    const L = layers - 1; // hidden layers
    const { hidden, hiddenOffset, hiddenTotal: H, p, sigma, softplus, sums } = scratch;
    const { colPtr, rowIdx, values } = scratch.csc;
    const b = this.b;
    const N = this.rows;
    const wOut = weightOffset[L];
    const bOut = biasOffset[L];
    out.fill(0);

    // Loss change of row r when its logit moves by dz.
    const rowDecrease = (r: number, dz: number): number => {
      const u = -b[r] * dz;
      if (u === 0) return 0;
      if (u <= 1 && u >= -1) return -Math.log1p(sigma[r] * Math.expm1(u));
      const q = p[r] + u;
      return softplus[r] - softplusOf(q);
    };
    // Logit change of row r when unit u of hidden layer l (0-based) has its pre-activation moved by dPre.
    const logitChange = (r: number, l: number, u: number, dPre: number): number => {
      const zr = r * H;
      const da = reluChange(hidden[zr + hiddenOffset[l] + u], dPre);
      if (da === 0) return 0;
      if (l === L - 1) return x[wOut + u] * da;
      // carry to layer l+1 through column u of its weights, then densely upwards
      let nOut = sizes[l + 2];
      let nIn = sizes[l + 1];
      let dzUp = scratch.dz[l + 1];
      let off = weightOffset[l + 1];
      for (let w = 0; w < nOut; w++) dzUp[w] = x[off + w * nIn + u] * da;
      for (let m = l + 1; ; m++) {
        const daM = scratch.da[m];
        const zm = zr + hiddenOffset[m];
        nOut = sizes[m + 1];
        for (let w = 0; w < nOut; w++) daM[w] = reluChange(hidden[zm + w], dzUp[w]);
        if (m === L - 1) {
          let s = 0;
          for (let w = 0; w < nOut; w++) if (daM[w] !== 0) s += x[wOut + w] * daM[w];
          return s;
        }
        nIn = nOut;
        const nNext = sizes[m + 2];
        off = weightOffset[m + 1];
        dzUp = scratch.dz[m + 1];
        for (let w = 0; w < nNext; w++) {
          let s = 0;
          const row = off + w * nIn;
          for (let t = 0; t < nIn; t++) if (daM[t] !== 0) s += x[row + t] * daM[t];
          dzUp[w] = s;
        }
      }
    };

    // First-layer weights (u, j): the rows of column j, ascending.
    const p0 = sizes[0];
    const h1 = sizes[1];
    const w1 = weightOffset[0];
    for (let j = 0; j < p0; j++) {
      const start = colPtr[j];
      const end = colPtr[j + 1];
      if (start === end) continue;
      sums.fill(0, 0, h1);
      for (let k = start; k < end; k++) {
        const r = rowIdx[k];
        const a = values[k];
        for (let u = 0; u < h1; u++) {
          const step = eta * v[w1 + u * p0 + j];
          if (step === 0) continue;
          const dz = logitChange(r, 0, u, -step * a);
          if (dz !== 0) sums[u] += rowDecrease(r, dz);
        }
      }
      for (let u = 0; u < h1; u++) out[w1 + u * p0 + j] = sums[u];
    }
    // Biases of hidden layers, and hidden weights (u, v) of layers ≥ 2 on the rows where unit v is active.
    for (let l = 0; l < L; l++) {
      const nIn = sizes[l];
      const nOut = sizes[l + 1];
      const bo = biasOffset[l];
      const off = weightOffset[l];
      for (let r = 0; r < N; r++) {
        for (let u = 0; u < nOut; u++) {
          const step = eta * v[bo + u];
          if (step === 0) continue;
          const dz = logitChange(r, l, u, -step);
          if (dz !== 0) out[bo + u] += rowDecrease(r, dz);
        }
        if (l === 0) continue;
        const below = r * H + hiddenOffset[l - 1];
        for (let t = 0; t < nIn; t++) {
          const a = hidden[below + t];
          if (!(a > 0)) continue;
          for (let u = 0; u < nOut; u++) {
            const idx = off + u * nIn + t;
            const step = eta * v[idx];
            if (step === 0) continue;
            const dz = logitChange(r, l, u, -step * a);
            if (dz !== 0) out[idx] += rowDecrease(r, dz);
          }
        }
      }
    }
    // Output weights (the last hidden layer's activations) and the output bias: every row.
    const hL = sizes[L];
    const last = hiddenOffset[L - 1];
    const stepBias = eta * v[bOut];
    for (let r = 0; r < N; r++) {
      const zr = r * H + last;
      for (let t = 0; t < hL; t++) {
        const a = hidden[zr + t];
        if (!(a > 0)) continue;
        const step = eta * v[wOut + t];
        if (step !== 0) out[wOut + t] += rowDecrease(r, -step * a);
      }
      if (stepBias !== 0) out[bOut] += rowDecrease(r, -stepBias);
    }
  }

  /** One forward pass over the shard storing what coordinateDecrease needs (scratch made on first use). */
  private prepareCoordinate(x: Float64Array): CoordinateScratch {
    const L = this.layers - 1;
    const scratch = this.coordinate ?? this.prepareCoordinateScratch();
    const { hidden, hiddenOffset, hiddenTotal: H, p, sigma, softplus } = scratch;
    this.transposeWeights(x);
    for (let r = 0; r < this.rows; r++) {
      const q = -this.b[r] * this.forwardRow(this.A, r, x);
      p[r] = q;
      if (q > 0) {
        const e = Math.exp(-q);
        softplus[r] = q + Math.log1p(e);
        sigma[r] = 1 / (1 + e);
      } else {
        const e = Math.exp(q);
        softplus[r] = Math.log1p(e);
        sigma[r] = e / (1 + e);
      }
      for (let l = 0; l < L; l++) hidden.set(this.z[l], r * H + hiddenOffset[l]);
    }
    return scratch;
  }

  private prepareCoordinateScratch(): CoordinateScratch {
    const sizes = this.layout.sizes;
    const L = this.layers - 1;
    let scratch = this.coordinate;
    if (!scratch) {
      const hiddenOffset: number[] = [];
      let H = 0;
      for (let l = 0; l < L; l++) {
        hiddenOffset.push(H);
        H += sizes[l + 1];
      }
      scratch = this.coordinate = {
        csc: toCsc(this.A),
        hidden: new Float64Array(this.rows * H),
        hiddenOffset,
        hiddenTotal: H,
        p: new Float64Array(this.rows),
        sigma: new Float64Array(this.rows),
        softplus: new Float64Array(this.rows),
        dz: sizes.slice(1).map((n) => new Float64Array(n)),
        da: sizes.slice(1).map((n) => new Float64Array(n)),
        sums: new Float64Array(Math.max(...sizes)),
        steps: new Float64Array(sizes[1]),
        expPlus: new Float64Array(sizes[1]),
        expMinus: new Float64Array(sizes[1]),
      };
    }
    return scratch;
  }
}

/** f = (1/n) Σ f_i over the workers' shards. */
export class MlpProblem implements Problem {
  readonly name = 'mlp';
  readonly d: number;
  readonly workers: readonly MlpShard[];
  readonly totalRows: number;
  readonly convex = false;
  /** Input width: the training set's feature count. */
  readonly inputs: number;
  private readonly scratch: Float64Array;
  /** A forward pass for data other than the shards (test sets), made on first use. */
  private evaluator: MlpForward | undefined;

  constructor(
    data: LabeledData,
    readonly hidden: readonly number[],
    readonly lambda: number,
    shards: readonly Int32Array[],
    options: { kernels?: MlpKernelChoice } = {},
  ) {
    if (shards.length === 0) throw new DcompError('problem: at least one worker shard is required');
    if (!(Number.isFinite(lambda) && lambda >= 0)) throw new DcompError(`mlp: λ must be a finite number ≥ 0, got ${lambda}`);
    this.layout = mlpLayout(data.X.cols, hidden);
    this.inputs = data.X.cols;
    this.d = this.layout.d;
    this.workers = shards.map((rows) => {
      const b = new Float64Array(rows.length);
      for (let i = 0; i < rows.length; i++) b[i] = data.b[rows[i]];
      return new MlpShard(selectRows(data.X, rows), b, this.layout, lambda, options);
    });
    this.totalRows = this.workers.reduce((s, w) => s + w.rows, 0);
    this.scratch = new Float64Array(this.d);
  }

  readonly layout: MlpLayout;

  /** Spec §2 seeded initialisation (He for hidden weights, 1/fan_in for the output, biases 0). */
  initialize(rng: Rng, out: Float64Array): void {
    mlpInitialize(this.layout, rng, out);
  }

  loss(x: Float64Array): number {
    return meanLoss(this.workers, x);
  }

  gradient(x: Float64Array, out: Float64Array): number {
    return meanGradient(this.workers, x, out, this.scratch);
  }

  accuracy(x: Float64Array, data?: LabeledData): number {
    if (data === undefined) {
      let correct = 0;
      for (const w of this.workers) correct += w.correctCount(x);
      return correct / this.totalRows;
    }
    if (data.X.cols > this.inputs) {
      throw new DcompError(
        `${data.source}: has ${data.X.cols} features but the network has ${this.inputs} inputs; align them with --features ${data.X.cols}`,
      );
    }
    if (data.X.rows === 0) return Number.NaN;
    this.evaluator ??= new MlpForward(this.layout);
    return this.evaluator.countCorrect(data.X, data.b, x) / data.X.rows;
  }

  smoothness(): undefined {
    return undefined;
  }
}

export const MLP_OPTIONS: readonly OptionDecl[] = [
  declare('hidden', integerList(1), {
    default: [32],
    help: 'mlp hidden layer widths, e.g. 32 or 64,32 (ReLU)',
    record: 'params',
    placeholder: 'h1,h2,…',
  }),
  declare('l2', real({ min: 0 }), { default: 0, help: 'regularisation λ ≥ 0', record: 'column' }),
];

/** Options of `mlpSpec.create`: the shards, the declared options' values, and (tests, perf) the kernels. */
export interface MlpCreateOptions extends ProblemOptions {
  kernels?: MlpKernelChoice;
}

function hiddenValue(values: OptionValues | undefined): readonly number[] {
  const h = values?.hidden ?? [32];
  if (!Array.isArray(h) || h.length === 0 || !h.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new OptionError('hidden', `expected one integer ≥ 1 or a comma-separated list of them, got ${String(h)}`);
  }
  return h as readonly number[];
}

function lambdaValue(values: OptionValues | undefined): number {
  const l2 = values?.l2 ?? 0;
  if (typeof l2 !== 'number' || !(Number.isFinite(l2) && l2 >= 0)) throw new OptionError('l2', `expected a finite number ≥ 0, got ${String(l2)}`);
  return l2;
}

/** A ProblemSpec whose problems expose the network (layout, shards, logits). */
export interface MlpSpec extends ProblemSpec {
  create(data: LabeledData, options: MlpCreateOptions): MlpProblem;
}

export const mlpSpec: MlpSpec = {
  name: 'mlp',
  description: 'fully connected ReLU network, one logit, logistic loss + (λ/2)‖x‖² (non-convex)',
  options: MLP_OPTIONS,
  convex: false,
  seededInitialization: true,
  create(data: LabeledData, options: MlpCreateOptions): MlpProblem {
    return new MlpProblem(data, hiddenValue(options.values), lambdaValue(options.values), options.shards, { kernels: options.kernels });
  },
};
