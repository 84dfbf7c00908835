/**
 * Measurement core of `dcomp perf` (hyperfine / tinybench style): warm up, calibrate how many calls
 * make one sample, collect samples, and only then summarise. Nothing here prints: the CLI gets
 * records back and decides how to show them, so output never disturbs a measurement.
 *
 * Timing uses process.hrtime.bigint (ns); each sample is the mean time of `inner` back-to-back calls,
 * with `inner` chosen so a sample lasts about `targetSampleMs` (µs-scale operations would otherwise
 * drown in timer resolution and call overhead of the clock itself).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Order statistics of one set of samples, in the samples' unit. */
export interface Stats {
  readonly n: number;
  readonly median: number;
  /** 10th / 90th percentiles (linear interpolation between order statistics). */
  readonly p10: number;
  readonly p90: number;
  /** Quartiles, for the IQR. */
  readonly q1: number;
  readonly q3: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
}

/** Quantile q ∈ [0, 1] of ascending `sorted` (type 7: linear between the order statistics). */
export function quantile(sorted: readonly number[], q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export function summarize(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  let sum = 0;
  for (const s of sorted) sum += s;
  const n = sorted.length;
  return {
    n,
    median: quantile(sorted, 0.5),
    p10: quantile(sorted, 0.1),
    p90: quantile(sorted, 0.9),
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
    min: n === 0 ? NaN : sorted[0],
    max: n === 0 ? NaN : sorted[n - 1],
    mean: n === 0 ? NaN : sum / n,
  };
}

export interface MeasureOptions {
  /** At least this many samples… */
  readonly reps: number;
  /** …and keep sampling until this much time has been spent (ms). */
  readonly minTimeMs: number;
  /** Warm-up before calibrating (ms; at least 2 calls), so the JIT has compiled the hot paths. */
  readonly warmupMs: number;
  /** Aim for samples of about this length (ms). */
  readonly targetSampleMs: number;
  /** Stop sampling after this long even if `reps` is not reached (ms), so a slow case cannot hang. */
  readonly maxTimeMs: number;
}

export const DEFAULT_MEASURE: MeasureOptions = { reps: 30, minTimeMs: 300, warmupMs: 100, targetSampleMs: 2, maxTimeMs: 20_000 };

export interface Measurement {
  /** Time per call of each sample, µs. */
  readonly samplesUs: number[];
  /** Calls per sample. */
  readonly inner: number;
  readonly stats: Stats;
}

const nowNs = (): bigint => process.hrtime.bigint();

let gcFunction: (() => void) | undefined | null = null;

/**
 * A full garbage collection before a case, so that building one case's inputs (or loading the
 * datasets) is not paid for by the next measurement through concurrent marking and sweeping on a
 * 2-core machine. Uses `gc` when Node runs with --expose-gc, else enables it for a fresh context
 * (the usual benchmark-harness way); a no-op if neither works.
 */
export function collectGarbage(): void {
  if (gcFunction === null) {
    gcFunction = undefined;
    const global = globalThis as { gc?: () => void };
    if (typeof global.gc === 'function') gcFunction = global.gc;
    else {
      try {
        setFlagsFromString('--expose-gc');
        gcFunction = runInNewContext('gc') as () => void;
      } catch {
        gcFunction = undefined;
      }
    }
  }
  gcFunction?.();
}
const msSince = (t0: bigint): number => Number(nowNs() - t0) / 1e6;

/** Calls per sample so that one sample lasts about `targetSampleMs`, given a per-call estimate. */
export function innerCount(perCallMs: number, targetSampleMs: number): number {
  if (!(perCallMs > 0)) return 1;
  return Math.max(1, Math.min(1_000_000, Math.round(targetSampleMs / perCallMs)));
}

/** Measures a synchronous operation; see the module comment. */
export function measureSync(fn: () => unknown, options: MeasureOptions = DEFAULT_MEASURE): Measurement {
  let calls = 0;
  const w0 = nowNs();
  while (calls < 2 || msSince(w0) < options.warmupMs) {
    fn();
    calls++;
  }
  const inner = innerCount(msSince(w0) / calls, options.targetSampleMs);
  const samplesUs: number[] = [];
  const start = nowNs();
  for (;;) {
    const t0 = nowNs();
    for (let i = 0; i < inner; i++) fn();
    samplesUs.push(Number(nowNs() - t0) / 1e3 / inner);
    const spent = msSince(start);
    if ((samplesUs.length >= options.reps && spent >= options.minTimeMs) || spent >= options.maxTimeMs) break;
  }
  return { samplesUs, inner, stats: summarize(samplesUs) };
}

/** The same for an operation that returns a promise (file reading); one call per sample. */
export async function measureAsync(fn: () => Promise<unknown>, options: MeasureOptions = DEFAULT_MEASURE): Promise<Measurement> {
  let calls = 0;
  const w0 = nowNs();
  while (calls < 2 || msSince(w0) < options.warmupMs) {
    await fn();
    calls++;
  }
  const samplesUs: number[] = [];
  const start = nowNs();
  for (;;) {
    const t0 = nowNs();
    await fn();
    samplesUs.push(Number(nowNs() - t0) / 1e3);
    const spent = msSince(start);
    if ((samplesUs.length >= options.reps && spent >= options.minTimeMs) || spent >= options.maxTimeMs) break;
  }
  return { samplesUs, inner: 1, stats: summarize(samplesUs) };
}

/** Which reference a row is compared with. */
/** `cpu`: dcomp's own float64 CPU path, beside a float32 gpu figure (dcomp perf --backend gpu). */
export type BaselineKind = 'c' | 'numpy' | 'cpu';

/** A baseline's own measurement of the same operation (µs per call), from its own process. */
export interface BaselineFigure {
  readonly kind: BaselineKind;
  readonly stats: Stats;
  /** E.g. 'max rel diff 2e-16 vs ours' — how the baseline's result compared with ours. */
  readonly check?: string;
  /** Which of several variants this is (the C gradient: loop and compiler flags), when there are several. */
  readonly variant?: string;
  /** Every variant measured, with its figures; `stats` is the best of them by the median. */
  readonly variants?: readonly { readonly variant: string; readonly stats: Stats }[];
}

export type PerfUnit = 'us' | 'MB/s';

/** One row of `dcomp perf`. */
export interface PerfRecord {
  /** Case group: parse, gradient, topk, gd, ef21-topk, imp-a, … */
  readonly case: string;
  /** Dataset name, or '' for synthetic cases (topk on random vectors). */
  readonly dataset: string;
  /** Parameters in words: 'n=20 k=12', 'd=1000000 k=10000'. */
  readonly params: string;
  readonly unit: PerfUnit;
  /** Our figure in `unit` (for MB/s, computed from each time sample: p10 is the slow end). */
  readonly stats?: Stats;
  readonly inner?: number;
  readonly baseline?: BaselineFigure;
  /**
   * ours / baseline as a ratio of times (for MB/s the inverse ratio of throughputs), so < 1 always
   * means we are faster.
   */
  readonly ratio?: number;
  /** The ratio of best samples (see bestTimeRatio). */
  readonly ratioBest?: number;
  /** Anything worth knowing about the row (verification, why a baseline is missing). */
  readonly note?: string;
  /** Set when the case could not run; the other fields are then absent. */
  readonly error?: string;
}

/** Converts µs-per-call samples of processing `bytes` into MB/s samples (10^6 bytes per second). */
export function throughputSamples(samplesUs: readonly number[], bytes: number): number[] {
  return samplesUs.map((us) => bytes / us);
}

/** ours/baseline as a time ratio, from medians; undefined when either is missing. */
export function timeRatio(unit: PerfUnit, ours: Stats | undefined, baseline: Stats | undefined): number | undefined {
  if (!ours || !baseline || !(ours.median > 0) || !(baseline.median > 0)) return undefined;
  return unit === 'MB/s' ? baseline.median / ours.median : ours.median / baseline.median;
}

/**
 * The same ratio from each side's best sample (min time, max throughput): the figure least disturbed
 * by other processes on a busy machine, reported next to the median ratio.
 */
export function bestTimeRatio(unit: PerfUnit, ours: Stats | undefined, baseline: Stats | undefined): number | undefined {
  if (!ours || !baseline) return undefined;
  const r = unit === 'MB/s' ? baseline.max / ours.max : ours.min / baseline.min;
  return Number.isFinite(r) && r > 0 ? r : undefined;
}

/** Column order of the CSV (long format: one row per case). */
export const PERF_COLUMNS = [
  'case', 'dataset', 'params', 'unit', 'median', 'p10', 'p90', 'q1', 'q3', 'min', 'samples', 'calls_per_sample',
  'baseline', 'baseline_median', 'baseline_p10', 'baseline_p90', 'baseline_min', 'ratio', 'ratio_best', 'note', 'error',
] as const;

/** A record as CSV cells in PERF_COLUMNS order ('' for absent values; numbers in shortest form). */
export function perfCsvCells(r: PerfRecord): string[] {
  const num = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '' : String(x));
  const s = r.stats;
  const b = r.baseline;
  return [
    r.case, r.dataset, r.params, r.unit, num(s?.median), num(s?.p10), num(s?.p90), num(s?.q1), num(s?.q3), num(s?.min),
    num(s?.n), num(r.inner), b?.kind ?? '', num(b?.stats.median), num(b?.stats.p10), num(b?.stats.p90), num(b?.stats.min), num(r.ratio), num(r.ratioBest),
    [b?.check, r.note].filter((x) => x !== undefined && x !== '').join('; '), r.error ?? '',
  ];
}
