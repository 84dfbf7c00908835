/**
 * `dcomp perf`: the project's own benchmark (issues 3–5, "Performance"). Measures first, prints
 * after: a table on stderr (for people) and CSV on stdout or --out (for scripts), so that
 * `dcomp perf > perf.csv` keeps both.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { CASE_GROUPS, DEFAULT_DATASETS, runPerf, SCALE_GRIDS, SCALES, type CaseGroup, type PerfEnvironment, type Scale } from '../bench/perf-cases.js';
import { DEFAULT_MEASURE, PERF_COLUMNS, perfCsvCells, type PerfRecord } from '../bench/perf.js';
import { DcompError, UsageError } from '../core/errors.js';
import { gpuPerfRecords } from './perf-gpu.js';
import { log, terminalPolicy } from './io.js';
import { parseInteger, parsePositive } from './options.js';
import { claimOutput, type OutputClaim } from './output.js';
import { datasetInputPaths, datasetLocations } from './paths.js';

const EXAMPLES = `
Examples:
  $ DCOMP_DATA_DIR=../shared/datasets dcomp perf > perf.csv
  $ dcomp perf --datasets mushrooms --cases gradient,gd,ef21-topk --reps 50
  $ dcomp perf --cases topk --no-baselines --out topk.csv
  $ dcomp perf --cases scale --scale medium --no-baselines
  $ dcomp perf --backend gpu --datasets mushrooms,a9a,w8a > gpu.csv    # gpu.js kernels vs float64 cpu

Cases: ${CASE_GROUPS.join(', ')}.
Each figure is the median over repetitions (after warm-up) with p10–p90 and min; each row carries the
baseline's median (for the gradient the fastest of several C loops compiled with cc -O2/-O3/-O3
-march=native, vectorized numpy/scipy for the rest; n/a when no compiler or numpy, and for the
synthetic scale cases) and ours/baseline as a time ratio (< 1: dcomp is faster).
The table goes to stderr, the CSV to stdout (or --out). See docs/performance.md.`;

function parseList<T extends string>(allowed: readonly T[] | undefined, what: string) {
  return (value: string): T[] => {
    const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (items.length === 0) throw new InvalidArgumentError(`expected a comma-separated list of ${what}`);
    if (allowed) {
      const bad = items.filter((s) => !allowed.includes(s as T));
      if (bad.length) throw new InvalidArgumentError(`unknown ${what} ${bad.join(', ')}; expected some of ${allowed.join(', ')}`);
    }
    return items as T[];
  };
}

export function perfCommand(): Command {
  return new Command('perf')
    .description("time dcomp's hot paths (parse, gradient, top-k, compressors, method iterations) against C and numpy baselines")
    .option('--datasets <list>', 'datasets (names or paths), comma-separated', parseList<string>(undefined, 'datasets'), DEFAULT_DATASETS)
    .option('--cases <list>', `cases to run, comma-separated (default all): ${CASE_GROUPS.join(',')}`, parseList<CaseGroup>(CASE_GROUPS, 'cases'))
    .option('--reps <R>', 'at least R timed samples per case', parseInteger(1), DEFAULT_MEASURE.reps)
    .option('--min-time-ms <T>', 'and at least T ms of sampling per case', parsePositive, DEFAULT_MEASURE.minTimeMs)
    .option('--warmup-ms <W>', 'warm-up per case before sampling', parsePositive, DEFAULT_MEASURE.warmupMs)
    .addOption(
      new Option('--scale <grid>', `synthetic problems (N×d) of the scale cases: ${SCALES.map((g) => `${g} ${SCALE_GRIDS[g].map((p) => `${p.rows / 1e3}k×${p.cols / 1e3}k`).join(', ')}`).join('; ')}`)
        .choices(SCALES)
        .default('small'),
    )
    .option('--baselines', 'run the C and numpy baselines', true)
    .option('--no-baselines', 'skip the baselines')
    .option('--out <file>', 'write the CSV to a file instead of stdout')
    .option('--data-dir <dir>', 'directory with LIBSVM files (searched first)')
    .option('--quiet', 'no progress lines on stderr')
    .option('--backend <name>', 'cpu (the cases above) or gpu (the gpu.js kernels in every mode beside float64 cpu; docs/backends.md)', 'cpu')
    .option('--gpu-mode <list>', 'with --backend gpu: modes to time, comma-separated (default: every mode that runs here)', parseList<string>(undefined, 'modes'))
    .addHelpText('after', EXAMPLES)
    .action(async (opts) => {
      const locations = datasetLocations(opts.dataDir);
      if (opts.backend !== 'cpu' && opts.backend !== 'gpu') throw new UsageError(`--backend: expected cpu or gpu, got "${opts.backend}"`);
      const policy = terminalPolicy({ quiet: opts.quiet });
      // Claimed before measuring, so that a bad --out fails in a second, not after minutes of timing.
      const output: OutputClaim | undefined = opts.out === undefined ? undefined : claimOutput(opts.out, { inputs: datasetInputPaths(opts.datasets, locations), command: 'dcomp perf' });
      if (opts.backend === 'gpu') {
        const measure = { ...DEFAULT_MEASURE, reps: opts.reps, minTimeMs: opts.minTimeMs, warmupMs: opts.warmupMs };
        let gpu;
        try {
          gpu = await gpuPerfRecords({ datasets: opts.datasets, modes: opts.gpuMode, measure, locations, log: opts.quiet ? () => {} : log });
        } catch (err) {
          output?.release();
          throw err;
        }
        log(formatTable(gpu.records));
        if (output) output.writeFile(gpu.csv);
        else process.stdout.write(gpu.csv);
        const failed = gpu.records.filter((r) => r.error !== undefined);
        if (failed.length) throw new DcompError(`perf: ${failed.length} gpu mode(s) failed (see the error column)`);
        return;
      }
      let result;
      try {
        result = await runPerf({
          datasets: opts.datasets,
          cases: opts.cases,
          measure: { ...DEFAULT_MEASURE, reps: opts.reps, minTimeMs: opts.minTimeMs, warmupMs: opts.warmupMs },
          baselines: opts.baselines,
          scale: opts.scale as Scale,
          dataDir: locations.dataDir,
          envDataDir: locations.envDataDir,
          cacheDir: locations.cacheDir,
          childEnv: process.env,
          onProgress: opts.quiet ? undefined : (m) => (policy.progress ? process.stderr.write(`\r\x1b[K${m}`) : log(m)),
        });
      } catch (err) {
        output?.release();
        throw err;
      }
      if (policy.progress && !opts.quiet) process.stderr.write('\r\x1b[K');
      log(formatEnvironment(result.environment));
      log(formatTable(result.records));
      const csv = stringify([[...PERF_COLUMNS], ...result.records.map(perfCsvCells)]);
      if (output) output.writeFile(csv);
      else process.stdout.write(csv);
      const failed = result.records.filter((r) => r.error !== undefined);
      if (failed.length) throw new DcompError(`perf: ${failed.length} case(s) failed (see the error column)`);
    });
}

export function formatEnvironment(env: PerfEnvironment): string {
  const lines = [
    `machine: ${env.cpu}, ${env.cores} cores; node ${env.node}; numpy ${env.numpy ?? 'n/a'}, scipy ${env.scipy ?? 'n/a'}; C: ${env.cc ?? 'n/a'}`,
    ...env.baselineNotes.map((n) => `note: ${n}`),
  ];
  return lines.join('\n');
}

/** Three significant digits, no exponent for the magnitudes perf produces. */
export function fmt(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return 'n/a';
  if (x >= 1000) return x.toFixed(0);
  return x.toPrecision(3);
}

/** A plain aligned text table of the records (stderr). */
export function formatTable(records: readonly PerfRecord[]): string {
  const header = ['case', 'dataset', 'params', 'unit', 'median', 'p10–p90', 'min', 'baseline (min)', 'ratio (best)', 'note'];
  const rows = records.map((r) => {
    if (r.error !== undefined) return [r.case, r.dataset, r.params, r.unit, 'error', '', '', '', '', r.error];
    const s = r.stats;
    const b = r.baseline;
    return [
      r.case, r.dataset, r.params, r.unit, fmt(s?.median), s ? `${fmt(s.p10)}–${fmt(s.p90)}` : '', fmt(s?.min),
      b ? `${b.kind} ${fmt(b.stats.median)} (${fmt(b.stats.min)})` : 'n/a', r.ratio === undefined ? 'n/a' : `${r.ratio.toFixed(2)} (${r.ratioBest === undefined ? 'n/a' : r.ratioBest.toFixed(2)})`,
      [b?.check, r.note].filter((x) => x).join('; '),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
