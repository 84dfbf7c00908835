import type { SplitMode } from '../data/types.js';

/** One run's configuration: exactly the `dcomp run` options of spec §6, after defaults. */
export interface RunConfig {
  dataset: string; // NAME or PATH
  problem: string;
  method: string;
  compressor: string;
  k?: number;
  workers: number;
  split: SplitMode;
  seed: number;
  /** A number, 'theory' or 'theory*M'. */
  step: string;
  iters: number;
  l2?: number;
  logEvery: number;
  batch?: number;
  ranks?: number[];
  dims?: number[];
  floatBits: number;
  x0: string; // 'zeros' | 'normal' | 'normal:σ'
  backend: 'cpu' | 'gpu';
  test?: string;
  features?: number;
  innerSteps?: number;
  innerStep?: number;
  impCScale?: boolean;
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
  | { status: 'completed'; runId: string; config: RunConfig; stepUsed: number; precision: string; rows: MetricRow[] }
  | { status: 'diverged'; runId: string; config: RunConfig; stepUsed: number; precision: string; rows: MetricRow[]; message: string }
  | { status: 'errored'; runId: string; config: RunConfig; stepUsed: number | undefined; precision: string; rows: MetricRow[]; message: string };
