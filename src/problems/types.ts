import type { OptionDecl, OptionValues } from '../core/options.js';
import type { Rng } from '../core/rng.js';
import type { LabeledData } from '../data/types.js';

/**
 * One worker's objective f_i on its shard (spec §2). Implementations evaluate in O(nnz of the shard)
 * and never allocate per call (scratch buffers are made once in the constructor).
 */
export interface LocalObjective {
  readonly d: number;
  /** N_i, rows in this worker's shard. */
  readonly rows: number;
  /** f_i(x). */
  loss(x: Float64Array): number;
  /** Writes ∇f_i(x) into `out` (length d); returns f_i(x). */
  gradient(x: Float64Array, out: Float64Array): number;
  /**
   * Optional: writes the same ∇f_i(x) as `gradient` (bit for bit) without evaluating f_i(x), for callers
   * that discard the loss (the methods' gradient oracle); saves a log1p per row.
   */
  gradientOnly?(x: Float64Array, out: Float64Array): void;
  /**
   * Minibatch estimate: the same formula with the data term averaged over the local rows
   * `rows[0..count)` (local indices in [0, N_i)) instead of the whole shard; the regulariser is exact.
   * Writes into `out`, returns the minibatch loss.
   */
  batchGradient(x: Float64Array, rows: Int32Array, count: number, out: Float64Array): number;
  /**
   * Optional O(nnz) structure for the importance compressor (a):
   * out[j] = f_i(x) − f_i(x − eta·v[j]·e_j) for every j. Problems without such structure omit it
   * and callers fall back to d evaluations of `loss`.
   */
  coordinateDecrease?(x: Float64Array, v: Float64Array, eta: number, out: Float64Array): void;
}

/** Smoothness constants (spec §2). */
export interface Smoothness {
  readonly L: number;
  readonly Li: Float64Array;
  /** L̃ = sqrt((1/n) Σ L_i²) */
  readonly Ltilde: number;
}

/**
 * f(x) = (1/n) Σ_i f_i(x) over the n workers' shards (spec §2). Nothing here assumes that the
 * parameter count d equals the data's feature count (for `mlp` it does not).
 */
export interface Problem {
  readonly name: string;
  /** Parameter count: the length of x, of every gradient and of x⁰; what compressors and k are sized by. */
  readonly d: number;
  readonly workers: readonly LocalObjective[];
  /** N, all rows across workers. */
  readonly totalRows: number;
  /** Whether f is convex (then f* is computed for loss_gap). */
  readonly convex: boolean;
  /** f(x) */
  loss(x: Float64Array): number;
  /** Writes ∇f(x) into `out`; returns f(x). */
  gradient(x: Float64Array, out: Float64Array): number;
  /**
   * Share of rows of `data` (default: the training rows) whose predicted sign (spec §2: logit z ≥ 0 → +1)
   * matches b. `data` may be any LabeledData with at most the training set's feature count (missing
   * features are 0); more is an error that names the data's source.
   */
  accuracy(x: Float64Array, data?: LabeledData): number;
  /** L, L_i, L̃, or undefined when the problem has none in closed form. */
  smoothness(): Smoothness | undefined;
  /** The problem's own seeded initialisation into `out` (length d), when it has one (mlp; `x0: init`). */
  initialize?(rng: Rng, out: Float64Array): void;
}

export interface ProblemOptions {
  /**
   * The values of the options the problem declares (its spec's `options`, e.g. l2), by name; a
   * missing value takes the declared default.
   */
  values?: OptionValues;
  /** Row indices of the training data owned by each worker (shards from data/split). */
  shards: readonly Int32Array[];
}

export interface ProblemSpec {
  readonly name: string;
  readonly description: string;
  /** The options it reads (l2 with its own default, …), declared once. */
  readonly options: readonly OptionDecl[];
  readonly convex: boolean;
  /** The problem has its own seeded initialisation (mlp), the default x⁰ (`x0: init`). */
  readonly seededInitialization?: boolean;
  create(data: LabeledData, options: ProblemOptions): Problem;
}
