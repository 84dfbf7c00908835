import type { Rng } from '../core/rng.js';
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
  /** Kept coordinates, 1 ≤ k ≤ d (sparsifiers). */
  k?: number;
  /** Bits per float F (spec §3). */
  floatBits: number;
  /** This compressor instance's own random stream (one instance per worker). */
  rng: Rng;
  /** hosvd: ranks (one for all modes or one per mode) and dims. */
  ranks?: readonly number[];
  dims?: readonly number[];
  /** imp-b / imp-c: M inner steps and τ₀. */
  innerSteps?: number;
  innerStep?: number;
  /** imp-c: return Σ w_j v_j e_j instead of Σ v_j e_j. */
  impCScale?: boolean;
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
  /** CLI parameters it reads, e.g. ['k'] or ['ranks', 'dims']. */
  readonly params: readonly string[];
  /** Human-readable bit cost, e.g. 'k·(F + ⌈log2 d⌉)'. */
  readonly bitsFormula: string;
  readonly requiresK: boolean;
  /** True when C depends on f_i and x (importance compressors). */
  readonly needsObjective: boolean;
  /** True when C draws random numbers. */
  readonly randomized: boolean;
  create(options: CompressorOptions): Compressor;
}
