import type { OptionValue } from '../core/options.js';
import type { SplitMode } from '../data/types.js';
import type { ShardSizes } from '../data/split.js';

/**
 * One run's configuration after normalisation (config.ts): the run-level options of run-options.ts by
 * their declared names, and the options owned by the run's problem, compressor and method (k, l2,
 * ranks, ef21_init, …) in `options`, only those that apply, defaults filled.
 */
export interface RunConfig {
  dataset: string; // NAME or PATH
  problem: string;
  method: string;
  compressor: string;
  workers: number;
  /** A number, 'theory' or 'theory*M'. */
  step: string;
  iters: number;
  split: SplitMode;
  shard_sizes: ShardSizes;
  seed: number;
  log_every: number;
  batch?: number;
  float_bits: number;
  /** undefined: ⌈log2 d⌉. */
  index_bits?: number;
  /** 'zeros' | 'normal[:σ]' | 'file:PATH' | 'init' */
  x0: string;
  features?: number;
  test?: string;
  holdout?: number;
  backend: 'cpu' | 'gpu';
  gpu_mode?: string;
  allow_software_gpu?: boolean;
  options: Record<string, OptionValue>;
}

/** What the CSV says about what really ran (spec §6 columns beside the configuration). */
export interface RunLabels {
  /** The numeric γ actually used. */
  readonly stepUsed: number | undefined;
  readonly params: string;
  /** zeros | normal:σ | init | file:<sha256> */
  readonly x0: string;
  readonly backend: string;
  readonly device: string;
  readonly precision: string;
}

/** One logged iteration (spec §5). */
export interface MetricRow {
  iteration: number;
  epoch: number;
  loss: number;
  lossGap: number | undefined;
  gradNormSq: number;
  trainAcc: number;
  testAcc: number | undefined;
  bitsUpPerWorker: number;
  bitsUpTotal: number;
  bitsDown: number;
  timeMs: number;
}

export type RunStatus = 'completed' | 'diverged' | 'errored';

/** The result union: a run either completes, diverges (recorded, the matrix goes on) or errors. */
export type RunResult =
  | { status: 'completed'; runId: string; config: RunConfig; labels: RunLabels; rows: MetricRow[] }
  | { status: 'diverged'; runId: string; config: RunConfig; labels: RunLabels; rows: MetricRow[]; message: string }
  | { status: 'errored'; runId: string; config: RunConfig; labels: RunLabels; rows: MetricRow[]; message: string };
