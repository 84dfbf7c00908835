import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { DcompError, UsageError } from '../core/errors.js';
import { SPEC_VERSION } from '../core/version.js';
import { runBench, type BenchHooks } from '../bench/bench.js';
import { loadExperiment, type Experiment } from '../bench/experiment.js';
import { baselineSubset } from '../bench/baseline.js';
import { evaluateClaims, renderVerdicts, type ClaimVerdict } from '../report/claims.js';
import { expandExperiment, runLabel, shardUnits, type PlannedRun, type RunUnit } from '../bench/matrix.js';
import { defaultJobs, WorkerPool } from '../bench/pool.js';
import { planResume, type ResumePlan } from '../bench/resume.js';
import { parseShard, type Shard } from '../bench/shard.js';
import type { RunConfig, RunResult } from '../bench/types.js';
import { csvHeader, formatNumber } from '../report/csv.js';
import { defaultLogScale, renderTerminalPlot, scaleNote, X_COLUMNS, Y_COLUMNS } from '../report/plot.js';
import { parseResultsCsv, readResultsCsv, type ResultTable } from '../report/read-csv.js';
import { describeFsError } from '../data/libsvm.js';
import { resolveDataset, verifyDataset } from '../data/resolve.js';
import { parseX0, readX0File } from '../data/x0.js';
import type { RunContent } from '../bench/config.js';
import type { RunEnvironment } from '../bench/runner.js';
import { runEnvironment } from './environment.js';
import { prepareGpuEnvironment } from './gpu.js';
import { log, terminalPolicy, type TerminalPolicy } from './io.js';
import { parseInteger } from './options.js';
import { claimOutput, stdoutStream, type OutputStream } from './output.js';
import { datasetLocations, datasetInputPaths } from './paths.js';

const DEFAULT_EXPERIMENT = 'experiments/default.yaml';

const HELP = `
Experiment files are documented in docs/bench.md. Runs are written in matrix order (the order of
--list), one block of rows per run, appended and flushed as each run completes; the bytes do not depend
on --jobs (apart from time_ms).

Interrupting: Ctrl-C (SIGINT) or SIGTERM stops at once, keeps every run already written, and exits 130
(SIGINT) or 143 (SIGTERM). After a crash or kill -9, rerun with --resume: the runs at the start of the
file that are exactly the rows their configuration implies are kept, the first that is not (a partial
last run, or a missing, doubled or altered row, which is reported) is recomputed with every run after
it, and the final file equals an uninterrupted bench's.

The output is locked (FILE.lock) while a bench writes it: a second one on the same file is refused,
naming the first. An --out that is the experiment file or a dataset is refused; an explicit --out's
directory must exist (the default results/ directories are created).

Exit codes: 0 every run completed; 1 a run diverged or errored (all runs are still recorded) or the
experiment failed; 2 bad usage or an invalid experiment file; 130/143 interrupted.

Examples:
  $ dcomp bench                                   # experiments/default.yaml
  $ dcomp bench experiments/default.yaml --list
  $ dcomp bench my.yaml --jobs 4 --out results.csv
  $ dcomp bench my.yaml --resume                  # continue after a crash
  $ dcomp bench my.yaml --shard 2/8 --out shard-2.csv && dcomp merge shard-*.csv --experiment my.yaml --out all.csv
  $ duckdb -c "SELECT method, compressor, min(grad_norm_sq) FROM 'results/default/${SPEC_VERSION}/results.csv' GROUP BY ALL"`;

/** The package root (bin/, experiments/, dist/), from dist/src/cli/bench.js. */
export function packageRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url));
}

/** A relative experiment path is looked up in the working directory, then in the package (its shipped experiments). */
export function resolveExperimentFile(file: string, cwd: string = process.cwd()): string {
  const local = resolve(cwd, file);
  if (existsSync(local) || isAbsolute(file)) return local;
  const shipped = join(packageRoot(), file);
  return existsSync(shipped) ? shipped : local;
}

export function describeUnit(unit: RunUnit): string {
  if (unit.runs.length === 1) return `${unit.runs[0].id}  ${runLabel(unit.runs[0].config)}`;
  const steps = unit.runs.map((r) => r.config.step).join(' | ');
  return `best of ${unit.runs.length}  ${runLabel(unit.runs[0].config, false)} step=${steps}`;
}

function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function finalNorm(result: RunResult): string {
  const last = result.rows[result.rows.length - 1];
  return last ? last.gradNormSq.toExponential(3) : 'n/a';
}

/** Progress: bars on a TTY (per running job + overall with ETA), a plain line per finished run otherwise. */
function progressReporter(policy: TerminalPolicy, quiet: boolean, units: readonly RunUnit[], alreadyDone: number, totalUnits: number): BenchHooks & { stop(): void; note(line: string): void } {
  const runs = units.flatMap((u) => u.runs);
  const totalRuns = runs.length;
  const weight = (run: PlannedRun) => Math.max(1, run.config.iters);
  const totalWork = runs.reduce((s, r) => s + weight(r), 0);
  const started = new Map<PlannedRun, number>();
  const partial = new Map<PlannedRun, number>();
  let finishedRuns = 0;
  let finishedWork = 0;
  let unitsWritten = alreadyDone;

  if (!policy.progress) {
    return {
      onRunStart(run) {
        started.set(run, Date.now());
      },
      onRunEnd(run, result) {
        finishedRuns++;
        const ms = Date.now() - (started.get(run) ?? Date.now());
        if (quiet && result.status === 'completed') return;
        const message = result.status === 'completed' ? '' : `: ${'message' in result ? result.message : ''}`;
        log(`[${finishedRuns}/${totalRuns}] ${result.status === 'completed' ? 'ok' : result.status} ${runLabel(run.config)}  ‖∇f‖² ${finalNorm(result)}  ${formatDuration(ms)}${message}`);
      },
      onUnitWritten(unit, kept, selection) {
        unitsWritten++;
        if (selection && !quiet) log(selectionLine(unit, kept, selection.results));
      },
      stop() {},
      note(line) {
        log(line);
      },
    };
  }

  const multibar = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      autopadding: true,
      etaBuffer: 50,
      format: ' {label} |{bar}| {value}/{total}',
    },
    cliProgress.Presets.shades_classic,
  );
  const overall = multibar.create(totalWork, 0, { label: 'overall', units: `${alreadyDone}/${totalUnits}` }, {
    format: ' runs {units} |{bar}| {percentage}% | elapsed {duration_formatted} | ETA {eta_formatted}',
  });
  const bars = new Map<PlannedRun, cliProgress.SingleBar>();
  const refresh = () => {
    let work = finishedWork;
    for (const v of partial.values()) work += v;
    overall.update(Math.min(work, totalWork), { units: `${unitsWritten}/${totalUnits}` });
  };
  return {
    onRunStart(run) {
      started.set(run, Date.now());
      bars.set(run, multibar.create(Math.max(1, run.config.iters), 0, { label: runLabel(run.config).slice(0, 60).padEnd(60) }));
    },
    onRunProgress(run, iteration) {
      bars.get(run)?.update(iteration);
      partial.set(run, iteration);
      refresh();
    },
    onRunEnd(run, result) {
      finishedRuns++;
      finishedWork += weight(run);
      partial.delete(run);
      const bar = bars.get(run);
      if (bar) {
        bar.stop();
        multibar.remove(bar);
        bars.delete(run);
      }
      if (result.status !== 'completed') multibar.log(`${result.status}: ${runLabel(run.config)}: ${'message' in result ? result.message : ''}\n`);
      refresh();
    },
    onUnitWritten(unit, kept, selection) {
      unitsWritten++;
      if (selection) multibar.log(selectionLine(unit, kept, selection.results) + '\n');
      refresh();
    },
    stop() {
      multibar.stop();
    },
    note(line) {
      multibar.log(line.endsWith('\n') ? line : line + '\n');
    },
  };
}

function selectionLine(unit: RunUnit, kept: RunResult, results: readonly RunResult[]): string {
  const tried = results.map((r, i) => `${unit.runs[i].config.step}: ${r.status === 'completed' ? finalNorm(r) : r.status}`).join(', ');
  return `select best: ${runLabel(unit.runs[0].config, false)}: kept step=${kept.config.step} (γ=${formatNumber(kept.labels.stepUsed)}) of {${tried}}`;
}

export interface BenchCliOptions {
  list?: boolean;
  dryRun?: boolean;
  jobs?: number;
  out?: string;
  resume?: boolean;
  shard?: Shard;
  quiet?: boolean;
  dataDir?: string;
  plot: boolean;
  plotY?: string;
  plotX?: string;
  /** Evaluate and print the experiment's claims at the end (--no-claims: false). */
  claims?: boolean;
  /** Run the file's `baseline:` subset instead of the whole experiment. */
  baseline?: boolean;
  /** Programmatic callers (reproduce, baselines) pass the experiment they have already loaded. */
  experiment?: Experiment;
}

/** What a finished bench hands back to programmatic callers. */
export interface BenchSummary {
  readonly experiment: Experiment;
  readonly out: string;
  readonly wallMs: number;
  readonly runs: number;
  readonly failed: number;
  readonly verdicts: readonly ClaimVerdict[];
  readonly jobs: number;
}

export function benchCommand(): Command {
  return new Command('bench')
    .description('run an experiment file: a matrix of runs in parallel, one long-format CSV, a plot at the end')
    .argument('[file]', `experiment file (YAML; see docs/bench.md); looked up in the working directory, then in the package`, DEFAULT_EXPERIMENT)
    .option('--list', 'print the runs the file expands to (in matrix order) and exit')
    .option('--dry-run', 'validate and print the plan (runs, output file, what --resume would skip) without running')
    .option('--jobs <n>', 'runs in parallel (worker threads; default: the number of cores)', parseInteger(1))
    .option('--out <file>', `CSV output file, or - for stdout (default results/<experiment>/${SPEC_VERSION}/results.csv)`)
    .option('--resume', 'continue an interrupted bench: keep the runs of --out proven complete, recompute from the first that is not')
    .option('--shard <i/m>', 'run only the i-th of m deterministic slices of the matrix (runs whose index ≡ i−1 mod m); join with dcomp merge', parseShard)
    .option('--quiet', 'no progress bars, per-run lines or plot; only failures and the summary')
    .option('--data-dir <dir>', 'directory with LIBSVM files (searched first)')
    .option('--no-plot', 'no terminal plot at the end')
    .option('--no-claims', "do not evaluate the experiment's claims at the end")
    .option('--baseline', "run only the file's baseline: subset (what CI gates; default --out results/<experiment>/<spec>/baseline.csv)")
    .addOption(new Option('--plot-y <column>', "metric of the final plot (default: the experiment's plot.y, else grad_norm_sq)").choices([...Y_COLUMNS]))
    .addOption(new Option('--plot-x <column>', "x axis of the final plot (default: the experiment's plot.x, else iteration)").choices([...X_COLUMNS]))
    .addHelpText('after', HELP)
    .action(async (file: string, opts: BenchCliOptions) => {
      await benchAction(file, opts);
    });
}

/** Loads an experiment file, or its `baseline:` subset; a missing subset is a usage error. */
export function loadBenchExperiment(fileArg: string, baseline: boolean | undefined): Experiment {
  const experiment = loadExperiment(resolveExperimentFile(fileArg), fileArg);
  if (!baseline) return experiment;
  const subset = baselineSubset(experiment);
  if (!subset) throw new UsageError(`--baseline: ${fileArg} declares no baseline: subset (see docs/ci.md)`);
  return subset;
}

/** `dcomp bench`; returns undefined for --list, --dry-run and an interrupted bench. */
export async function benchAction(fileArg: string, opts: BenchCliOptions): Promise<BenchSummary | undefined> {
  const experimentFile = resolveExperimentFile(fileArg);
  const experiment = opts.experiment ?? loadBenchExperiment(fileArg, opts.baseline);
  const policy = terminalPolicy({ quiet: opts.quiet });
  const environment = runEnvironment(opts.dataDir, policy);
  const allUnits = await plannedUnits(experiment, environment);
  if (allUnits.length === 0) throw new UsageError(`${fileArg}: the experiment expands to no runs (its exclude: entries remove every run); nothing to do`);
  const units = shardUnits(allUnits, opts.shard);
  const shardNote = opts.shard ? ` (shard ${opts.shard.index}/${opts.shard.count} of ${allUnits.length})` : '';

  if (opts.list) {
    const lines = units.map((u) => `${String(u.index + 1).padStart(4)}  ${describeUnit(u)}`);
    process.stdout.write(`# ${experiment.name}: ${units.length} runs${shardNote}\n${lines.join('\n')}${lines.length ? '\n' : ''}`);
    return;
  }

  const out = opts.out ?? join('results', experiment.name, String(SPEC_VERSION), opts.baseline ? 'baseline.csv' : 'results.csv');
  const toStdout = out === '-';
  if (toStdout && opts.resume) throw new UsageError('--resume: needs an output file (--out FILE), not stdout');

  if (opts.dryRun) {
    const resumeFrom = opts.resume && existsSync(out) ? planResume(readOutput(out), out, units, experiment.name) : { done: 0, damage: undefined };
    const lines = units.map((u, i) => `${String(u.index + 1).padStart(4)}  ${i < resumeFrom.done ? '(done) ' : ''}${describeUnit(u)}`);
    process.stdout.write(`# ${experiment.name}: ${units.length} runs${shardNote}\n${lines.join('\n')}${lines.length ? '\n' : ''}`);
    if (resumeFrom.damage) log(`resume: ${resumeFrom.damage}; it and the runs after it would be recomputed`);
    log(`dry run: would run ${units.length - resumeFrom.done} of ${units.length} runs${opts.resume ? ` (--resume: ${resumeFrom.done} already complete in ${out})` : ''} and write ${toStdout ? 'stdout' : out}`);
    return;
  }

  // The output is claimed before anything runs: a bad path, a second bench on the same file or an
  // --out that is one of the inputs (experiment, datasets — resolved above —, x0 files) fails now, and
  // the file cannot change between resume's read and cut.
  const inputSpecs = units.flatMap((u) => u.runs.flatMap((r) => [r.config.dataset, ...(r.config.test === undefined ? [] : [r.config.test])]));
  const x0Inputs = units.flatMap((u) => u.runs.flatMap((r) => {
    const x0 = parseX0(r.config.x0);
    return x0?.kind === 'file' ? [x0.path] : [];
  }));
  const claim = toStdout
    ? undefined
    : claimOutput(out, {
        inputs: [experimentFile, ...datasetInputPaths(new Set(inputSpecs), datasetLocations(opts.dataDir)), ...x0Inputs],
        command: `dcomp bench ${fileArg}${opts.shard ? ` --shard ${opts.shard.index}/${opts.shard.count}` : ''}`,
        createDirectories: opts.out === undefined,
      });
  let resumeFrom: ResumePlan = { keepBytes: 0, done: 0, droppedLines: 0 };
  let output: OutputStream;
  try {
    if (claim && opts.resume && existsSync(out)) resumeFrom = planResume(readOutput(out), out, units, experiment.name);
    // A file written with write+fsync per run (a crash loses at most the run being written), or stdout.
    output = claim ? claim.openStream({ keepBytes: resumeFrom.keepBytes, syncEachWrite: true }) : stdoutStream();
  } catch (err) {
    claim?.release();
    throw err;
  }
  const todo = units.slice(resumeFrom.done);
  const jobs = Math.max(1, Math.min(opts.jobs ?? defaultJobs(), Math.max(1, todo.reduce((s, u) => s + u.runs.length, 0))));

  if (resumeFrom.damage) log(`resume: ${resumeFrom.damage}; it and the ${units.length - resumeFrom.done - 1} run(s) after it are recomputed`);
  if (opts.resume && !toStdout && (resumeFrom.done > 0 || resumeFrom.droppedLines > 0)) {
    log(`resume: ${resumeFrom.done} of ${units.length} runs already complete in ${out}${resumeFrom.droppedLines > 0 ? `; dropped ${resumeFrom.droppedLines} line(s) after them` : ''}`);
  }
  const runCount = todo.reduce((sum, u) => sum + u.runs.length, 0);
  if (!opts.quiet && !policy.progress) {
    log(`bench ${experiment.name}: ${todo.length} runs${runCount > todo.length ? ` (${runCount} with the step sweeps)` : ''}${shardNote}, ${jobs} job(s), writing ${toStdout ? 'stdout' : out}`);
  }

  const controller = new AbortController();
  if (todo.some((u) => u.runs.some((r) => r.config.backend === 'gpu'))) prepareGpuEnvironment();
  const pool = new WorkerPool(jobs, { ...environment, optionStyle: 'yaml' });
  const written: string[] = [];
  const evaluate = opts.claims !== false && !opts.baseline && experiment.claims.length > 0;
  const keep = toStdout && ((opts.plot && !opts.quiet) || evaluate);
  let writeError: unknown;
  const sink = (text: string) => {
    if (keep) written.push(text);
    try {
      output.write(text);
    } catch (err) {
      // Nothing more can be recorded: stop the runs now rather than compute rows that would be lost.
      writeError ??= err;
      controller.abort();
      void pool.terminate();
      throw err;
    }
  };
  try {
    if (resumeFrom.keepBytes === 0) sink(csvHeader(true));
  } catch (err) {
    await pool.close();
    throw err;
  }

  let signalName: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalName) process.exit(sig === 'SIGINT' ? 130 : 143); // a second Ctrl-C: leave now
    signalName = sig;
    controller.abort();
    void pool.terminate();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const reporter = progressReporter(policy, Boolean(opts.quiet), todo, resumeFrom.done, units.length);
  const t0 = Date.now();
  let outcome;
  try {
    outcome = await runBench({ experiment: experiment.name, units: todo, jobs, execute: pool.execute, write: sink, hooks: reporter, signal: controller.signal, selectBy: experiment.selectBy });
  } catch (err) {
    throw writeError ?? err;
  } finally {
    reporter.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await pool.close();
    output.close();
  }
  if (writeError !== undefined) throw writeError;

  const total = resumeFrom.done + outcome.written;
  if (outcome.interrupted || signalName) {
    log(`interrupted (${signalName ?? 'stopped'}): ${total} of ${units.length} runs are complete in ${toStdout ? 'stdout' : out}` + (toStdout ? '' : `; continue with: dcomp bench ${fileArg} --resume${opts.out ? ` --out ${opts.out}` : ''}${opts.shard ? ` --shard ${opts.shard.index}/${opts.shard.count}` : ''}`));
    process.exitCode = signalName === 'SIGTERM' ? 143 : 130;
    return undefined;
  }

  const wallMs = Date.now() - t0;
  const readBack = (): ResultTable =>
    // the header goes through the sink too, so what was written to stdout is a whole results CSV
    toStdout ? parseResultsCsv(written.join(''), 'stdout') : readResultsCsv(out);
  if (opts.plot && !opts.quiet) {
    const plotY = opts.plotY ?? experiment.plot.y ?? 'grad_norm_sq';
    const plotX = opts.plotX ?? experiment.plot.x ?? 'iteration';
    const logX = Boolean(experiment.plot.log_x) && (opts.plotX === undefined || opts.plotX === experiment.plot.x);
    const table = readBack();
    if (table.rows.length > 0) {
      const scale = { log: defaultLogScale(plotY), logX };
      process.stderr.write('\n' + renderTerminalPlot(table, { x: plotX, y: plotY, ...scale, color: policy.color, title: `${experiment.name}: ${plotY} vs ${plotX}${scaleNote(scale)}` }) + '\n');
    }
  }
  let verdicts: ClaimVerdict[] = [];
  if (evaluate) {
    const table = readBack();
    verdicts = evaluateClaims(experiment.claims, table);
    process.stderr.write(`\nclaims of ${experiment.name} (re-evaluate with: dcomp claims ${toStdout ? 'FILE.csv' : out} --experiment ${fileArg}):\n${renderVerdicts(verdicts, table, 'text')}`);
  }

  const failed = outcome.failed;
  log(`bench ${experiment.name}: ${outcome.written} runs written in ${formatDuration(wallMs)}${resumeFrom.done ? ` (+${resumeFrom.done} kept from before)` : ''}, ${failed.length} failed → ${toStdout ? 'stdout' : out}`);
  const summary: BenchSummary = { experiment, out, wallMs, runs: outcome.written, failed: failed.length, verdicts, jobs };
  if (failed.length > 0) {
    const list = failed.slice(0, 10).map((r) => `${r.runId} ${runLabel(r.config)} ${r.status}${'message' in r ? `: ${r.message}` : ''}`);
    throw new BenchFailedError(`${failed.length} of ${units.length} runs did not complete (all are recorded in the CSV with their status):\n  ${list.join('\n  ')}${failed.length > 10 ? '\n  …' : ''}`, summary);
  }
  return summary;
}

/** Some runs diverged or errored: everything is written; the summary is kept for callers that go on. */
export class BenchFailedError extends DcompError {
  constructor(message: string, readonly summary: BenchSummary) {
    super(message, 1);
  }
}


/**
 * The experiment's units with their run ids. run_id hashes the data's content (spec v2 §6): every
 * dataset, test set and x0 file is resolved (downloaded once) and hashed first.
 */
export async function plannedUnits(experiment: Experiment, environment: RunEnvironment): Promise<RunUnit[]> {
  const contents = await contentHashes(expandExperiment(experiment), environment);
  return expandExperiment(experiment, (config) => contentOf(config, contents));
}

/** sha256 of each dataset, test set and x0 file the runs name (undefined: not available; the run will say why). */
type ContentHashes = ReadonlyMap<string, string | undefined>;

/**
 * Resolves (and if needed downloads, once, with its progress bar) every dataset the runs need before
 * the workers start, so that parallel runs do not each try the same download, and hashes its content
 * for the run ids. A dataset that cannot be had is reported here; its runs then record the error and
 * the rest of the matrix goes on.
 */
async function contentHashes(units: readonly RunUnit[], environment: RunEnvironment): Promise<ContentHashes> {
  const datasets = new Set<string>();
  const x0Files = new Set<string>();
  for (const unit of units) {
    for (const run of unit.runs) {
      datasets.add(run.config.dataset);
      if (run.config.test !== undefined) datasets.add(run.config.test);
      const x0 = parseX0(run.config.x0);
      if (x0?.kind === 'file') x0Files.add(x0.path);
    }
  }
  const out = new Map<string, string | undefined>();
  for (const name of datasets) {
    try {
      out.set(`data:${name}`, (await verifyDataset(await resolveDataset(name, environment))).sha256);
    } catch (err) {
      out.set(`data:${name}`, undefined);
      log(`dcomp: dataset ${name} is not available, its runs will be recorded as errored: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  for (const path of x0Files) {
    try {
      out.set(`x0:${path}`, readX0File(path).sha256);
    } catch (err) {
      out.set(`x0:${path}`, undefined);
      log(`dcomp: ${err instanceof Error ? err.message : String(err)}; its runs will be recorded as errored`);
    }
  }
  return out;
}

function contentOf(config: RunConfig, hashes: ContentHashes): RunContent | undefined {
  const dataset = hashes.get(`data:${config.dataset}`);
  if (dataset === undefined) return undefined;
  const x0 = parseX0(config.x0);
  return {
    dataset,
    test: config.test === undefined ? undefined : hashes.get(`data:${config.test}`),
    x0: x0?.kind === 'file' ? hashes.get(`x0:${x0.path}`) : undefined,
  };
}

/** The existing output, for --resume. */
function readOutput(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new DcompError(`${file}: --resume: cannot read: ${describeFsError(err)}`);
  }
}
