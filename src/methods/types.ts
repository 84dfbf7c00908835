import type { OptionDecl, OptionValues } from '../core/options.js';
import type { Compressor, CompressorSpec } from '../compressors/types.js';
import type { Problem, Smoothness } from '../problems/types.js';

/**
 * Local gradient oracle (spec §4): the full local gradient ∇f_i, or a minibatch estimate when the run
 * has `--batch b`. Returns the number of rows it processed (for the `epoch` column).
 */
export interface GradientOracle {
  gradient(worker: number, x: Float64Array, out: Float64Array): number;
}

/** Everything a method reads but does not own. */
export interface MethodEnv {
  readonly problem: Problem;
  /** One compressor instance per worker (each with its own random stream). */
  readonly compressors: readonly Compressor[];
  readonly stepSize: number;
  /** F, bits per float (spec §3). */
  readonly floatBits: number;
  /** I, bits per index (spec §3; default ⌈log2 d⌉, 0 counts values only). */
  readonly indexBits?: number;
  /** The values of the options the method declares (its spec's `options`, e.g. ef21_init), defaults applied. */
  readonly options?: OptionValues;
  /** k for the methods that sparsify by definition (topk-ssgd, gtopk). */
  readonly k?: number;
  readonly oracle: GradientOracle;
}

/**
 * A method's whole state is one explicit value made by `init` and advanced by `step` (optax's
 * init/update pair). For speed `step` advances it in place and allocates nothing: every buffer a
 * method needs lives in its state.
 */
export interface MethodState {
  /** x^t */
  readonly x: Float64Array;
  /** t */
  iteration: number;
  /** Rows processed by all gradient evaluations so far (epoch = rowsProcessed / N). */
  rowsProcessed: number;
  /** Cumulative bits sent, summed over workers (spec §4 traffic model). */
  bitsUpTotal: number;
  /** Cumulative bits received, summed over workers. */
  bitsDownTotal: number;
}

export interface Method<S extends MethodState = MethodState> {
  readonly name: string;
  init(x0: Float64Array, env: MethodEnv): S;
  step(state: S, env: MethodEnv): void;
}

export interface TheoryStepInput {
  readonly smoothness: Smoothness;
  readonly compressor: CompressorSpec;
  readonly d: number;
  readonly k: number | undefined;
}

/** Which compressors a method accepts. */
export type CompressorUse = 'none' | 'any' | 'topk';

export interface MethodSpec {
  readonly name: string;
  readonly description: string;
  /** 'none': only identity (gd); 'any': every registered compressor; 'topk': sparsifies with Top-k by definition. */
  readonly compressorUse: CompressorUse;
  /** The options it reads besides its compressor's (ef21: ef21_init), declared once. */
  readonly options: readonly OptionDecl[];
  /**
   * γ for `--step theory` (spec §4), or a string saying why there is none (the CLI shows it and
   * requires an explicit step).
   */
  theoryStep(input: TheoryStepInput): number | string;
  create(): Method;
}
