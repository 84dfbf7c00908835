import type { OptionDecl, OptionValues } from '../core/options.js';
import type { Rng } from '../core/rng.js';
import type { TopKKernels } from '../backends/types.js';
import type { LocalObjective } from '../problems/types.js';

/**
 * What crosses the wire (GRACE's split: only this is counted as bits). Owned and reused by the
 * compressor that produced it; valid until that compressor's next `compress` call.
 * - 'sparse': pairs (indices[t], values[t]) for t < nnz, indices ascending or in selection order.
 * - 'dense': values[0..d) is the decoded vector C(v) (also used for hosvd, whose wire payload is the
 *   core and factor matrices; the receiver's reconstruction is what `values` holds, `bits` counts the
 *   payload).
 */
export interface WireMessage {
  format: 'sparse' | 'dense';
  nnz: number;
  indices: Int32Array;
  values: Float64Array;
  bits: number;
}

/** What a compressor may look at besides the vector (importance compressors need f_i, x and η). */
export interface CompressContext {
  /** Current iterate x. */
  readonly x: Float64Array;
  /** The sending worker's objective f_i. */
  readonly objective: LocalObjective;
  /** The method's step γ, used as η by the importance compressors (spec §3). */
  readonly stepSize: number;
}

export interface Compressor {
  readonly name: string;
  readonly d: number;
  compress(v: Float64Array, ctx: CompressContext): WireMessage;
}

export interface CompressorOptions {
  d: number;
  /** Bits per float F (spec §3). */
  floatBits: number;
  /** Bits per index I (spec §3; `--index-bits`); default ⌈log2 d⌉. */
  indexBits?: number;
  /** This compressor instance's own random stream (one instance per worker). */
  rng: Rng;
  /**
   * The values of the options this compressor declares (its spec's `options`), by name, defaults
   * applied (see core/options.ts). Read with the helpers of compressors/options.ts.
   */
  values: OptionValues;
  /** A backend's top-k threshold (--backend gpu): topk then selects with it (topk-gpu.ts). */
  topKKernels?: TopKKernels;
}

/** Contraction facts used by theory step sizes and `compressors --check`. */
export interface CompressorTheory {
  /** ‖C(x) − x‖² ≤ (1 − α)‖x‖² holds deterministically or in expectation with this α, if known. */
  contractionAlpha?(d: number, k: number): number;
  /** Unbiased with E‖C(x)‖² ≤ ζ‖x‖², if so. */
  unbiasedZeta?(d: number, k: number): number;
  /** Known class constants (seed 000 Lemmas 5–8) for the table of `compressors --check`. */
  knownClasses?(d: number, k: number): KnownClasses;
}

export interface KnownClasses {
  U?: { zeta: number };
  B1?: { alpha: number; beta: number };
  B2?: { gamma: number; beta: number };
  B3?: { delta: number };
}

export interface CompressorSpec extends CompressorTheory {
  readonly name: string;
  readonly description: string;
  /** The options it reads (declared once in compressors/options.ts or in its own file). */
  readonly options: readonly OptionDecl[];
  /** Human-readable bit cost, e.g. 'k·(F + I)' (I = index bits, default ⌈log2 d⌉). */
  readonly bitsFormula: string;
  /** True when C depends on f_i and x (importance compressors). */
  readonly needsObjective: boolean;
  /** True when C draws random numbers. */
  readonly randomized: boolean;
  create(options: CompressorOptions): Compressor;
}
