/**
 * dcomp's public API: one surface for scripts and notebooks that want the same numbers as the CLI.
 * Layers, lowest first: data → problems → compressors → methods → bench (runner, experiments) → report.
 */
export { SPEC_VERSION } from './core/version.js';
export { createRng, type Rng } from './core/rng.js';
export { DcompError, UsageError, DataFormatError } from './core/errors.js';
export * from './data/index.js';
export * from './problems/index.js';
export * from './compressors/index.js';
export * from './methods/index.js';
export type { RunConfig, MetricRow, RunResult, RunStatus } from './bench/types.js';
export { normalizeConfig, runId, canonicalConfig } from './bench/config.js';
export { prepareRun, executeRun, runOne, startingPoint, type PreparedRun, type RunEnvironment, type RunHooks } from './bench/runner.js';
export { RUN_COLUMNS, BENCH_COLUMNS, runRecords, csvHeader, csvLines, formatNumber } from './report/csv.js';
