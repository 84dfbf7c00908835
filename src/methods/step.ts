/**
 * `--step`: a number, `theory`, or `theory*M` (spec §4), and the theory step sizes themselves.
 */
import { decimal, OptionError } from '../core/options.js';
import type { CompressorSpec } from '../compressors/types.js';
import type { Smoothness } from '../problems/types.js';
import type { MethodSpec, TheoryStepInput } from './types.js';

export type StepChoice =
  | { readonly kind: 'fixed'; readonly value: number }
  | { readonly kind: 'theory'; readonly multiplier: number };

/** What `--step` accepts (one value; experiment files also take sweeps, see bench/experiment.ts). */
export const STEP_ACCEPTS = 'a number > 0, "theory" or "theory*M" (M > 0)';

/** Parses a step text; undefined when it is not accepted. The one parser of `--step`. */
export function parseStepText(text: string): StepChoice | undefined {
  const trimmed = text.trim();
  if (trimmed === 'theory') return { kind: 'theory', multiplier: 1 };
  if (trimmed.startsWith('theory*')) {
    const multiplier = positiveNumber(trimmed.slice('theory*'.length));
    return multiplier === undefined ? undefined : { kind: 'theory', multiplier };
  }
  const value = positiveNumber(trimmed);
  return value === undefined ? undefined : { kind: 'fixed', value };
}

function positiveNumber(text: string): number | undefined {
  const value = decimal(text);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : undefined;
}

export function parseStep(text: string): StepChoice {
  const choice = parseStepText(text);
  if (choice === undefined) throw new OptionError('step', `expected ${STEP_ACCEPTS}, got ${JSON.stringify(text)}`);
  return choice;
}

export interface StepContext {
  readonly method: MethodSpec;
  readonly compressor: CompressorSpec;
  /** undefined when the problem has no smoothness constants (e.g. mlp). */
  readonly smoothness: Smoothness | undefined;
  readonly d: number;
  readonly k: number | undefined;
  /** For the message when there are no smoothness constants. */
  readonly problemName?: string;
}

/** γ for a parsed `--step`; a UsageError naming --step when `theory` has no value here. */
export function resolveStep(choice: StepChoice, context: StepContext): number {
  if (choice.kind === 'fixed') return choice.value;
  if (context.smoothness === undefined) {
    const problem = context.problemName === undefined ? 'this problem' : `problem ${context.problemName}`;
    throw new OptionError('step', `no theory step for ${problem} (it has no smoothness constant L); pass a number`);
  }
  const theory = context.method.theoryStep({ smoothness: context.smoothness, compressor: context.compressor, d: context.d, k: context.k });
  if (typeof theory === 'string') throw new OptionError('step', `${theory}; pass a number`);
  if (!(Number.isFinite(theory) && theory > 0)) {
    throw new OptionError('step', `the theory step for ${context.method.name} came out as ${theory}; pass a number`);
  }
  return theory * choice.multiplier;
}

/** parseStep + resolveStep. */
export function stepFromOption(text: string, context: StepContext): number {
  return resolveStep(parseStep(text), context);
}

// ---- the theory formulas of spec §4 ----

/** Compressors of class B³(δ) (spec §3 Lemmas 5–8; identity is B³(1)): for these cgd's step is 1/L. */
const B3_COMPRESSORS = new Set(['identity', 'topk', 'brandk', 'adaptive']);

export function unknownConstantReason(method: string, compressor: string): string {
  return `no theory step for ${method} with ${compressor} (its contraction constant is not known a priori)`;
}

/** cgd: 1/L with a B³(δ) compressor; 1/(L·ζ) with an unbiased U(ζ) one (randk: ζ = d/k). */
export function cgdTheoryStep(L: number, compressor: CompressorSpec, d: number, k: number | undefined): number | string {
  if (B3_COMPRESSORS.has(compressor.name) || compressor.knownClasses?.(d, k ?? d).B3 !== undefined) return 1 / L;
  if (compressor.name === 'randk' || compressor.unbiasedZeta !== undefined) {
    if (k === undefined) return `no theory step for cgd with ${compressor.name} without --k`;
    const zeta = compressor.unbiasedZeta?.(d, k) ?? d / k;
    return 1 / (L * zeta);
  }
  return unknownConstantReason('cgd', compressor.name);
}

/** α of ‖C(x) − x‖² ≤ (1 − α)‖x‖² when known (identity: 1; topk: k/d; else the spec's contractionAlpha). */
export function contractionAlpha(compressor: CompressorSpec, d: number, k: number | undefined): number | undefined {
  if (compressor.name === 'identity') return 1;
  if (compressor.contractionAlpha !== undefined && k !== undefined) return compressor.contractionAlpha(d, k);
  if (compressor.name === 'topk' && k !== undefined) return k / d;
  return undefined;
}

/**
 * EF21 (seed 001): γ = 1/(L + L̃·sqrt(β/θ)), θ = 1 − sqrt(1 − α), β = (1 − α)/(1 − sqrt(1 − α)).
 * α = 1 (no compression) gives β = 0 and γ = 1/L.
 */
export function ef21TheoryStep(L: number, Ltilde: number, alpha: number): number {
  const root = Math.sqrt(1 - alpha);
  const theta = 1 - root;
  const beta = (1 - alpha) / (1 - root);
  return 1 / (L + Ltilde * Math.sqrt(beta / theta));
}

/**
 * The runner's entry point: `--step` text → γ. `input` is called only for `theory` (computing the
 * smoothness constants costs a power iteration, which a fixed step does not need).
 * `compressorName` is kept for the runner's call shape; the reason strings already name it.
 */
export function resolveStepSize(text: string, method: MethodSpec, input: () => TheoryStepInput, compressorName?: string): number {
  const choice = parseStep(text);
  if (choice.kind === 'fixed') return choice.value;
  const theory = method.theoryStep(input());
  if (typeof theory === 'string') throw new OptionError('step', `${theory}; pass a number`);
  if (!(Number.isFinite(theory) && theory > 0)) {
    throw new OptionError('step', `the theory step for ${method.name}${compressorName ? ` with ${compressorName}` : ''} came out as ${theory}; pass a number`);
  }
  return theory * choice.multiplier;
}
