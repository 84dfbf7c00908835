import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { DcompError, UsageError } from '../core/errors.js';
import { SPEC_VERSION } from '../core/version.js';
import { loadExperiment } from '../bench/experiment.js';
import { expandExperiment } from '../bench/matrix.js';
import { formatDuration, readMeasured } from '../report/markdown.js';
import { benchAction, BenchFailedError, packageRoot, resolveExperimentFile, type BenchSummary } from './bench.js';
import { log } from './io.js';
import { parseInteger } from './options.js';
import { machineDescription, writeReport } from './report.js';

/** Where the reproductions live, relative to the working directory or the package. */
export const REPRO_DIR = 'experiments/repro';
/** Where their committed pages live (and the measured times `--list` shows). */
export const PAGES_DIR = 'docs/reproductions';

const HELP = `
NAME is one of experiments/repro/NAME.yaml (see --list), or a path to an experiment file. Runs the
bench (progress bars on a TTY only; --resume continues an interrupted one), prints the claims' verdict
table, and writes the report page with its SVG figures. Defaults: the CSV in
results/<name>/${SPEC_VERSION}/results.csv, the page beside it as <name>.md. The committed pages are made with
--page ${PAGES_DIR}/<name>.md. Exit codes: 0 done (whatever the verdicts, unless --strict), 1 a run
failed (the page is still written) or --strict and a claim does not hold, 2 bad usage.

Examples:
  $ dcomp reproduce --list
  $ dcomp reproduce kasiuk-logreg
  $ dcomp reproduce ef21-paper --jobs 2 --page ${PAGES_DIR}/ef21-paper.md`;

export interface Reproduction {
  readonly name: string;
  readonly file: string;
  readonly description?: string;
  readonly runs: number;
  readonly measured?: { wallMs: number; jobs: number; runs: number };
  readonly error?: string;
}

/** The shipped reproductions (package first, the working directory's own added), sorted by name. */
export function listReproductions(root: string = packageRoot()): Reproduction[] {
  const dir = join(root, REPRO_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const name = f.replace(/\.yaml$/, '');
      const file = join(dir, f);
      const page = join(root, PAGES_DIR, `${name}.md`);
      const measured = existsSync(page) ? readMeasured(readFileSync(page, 'utf8')) : undefined;
      try {
        const experiment = loadExperiment(file, `${REPRO_DIR}/${f}`);
        const runs = expandExperiment(experiment).reduce((s, u) => s + u.runs.length, 0);
        return { name, file, description: experiment.description, runs, measured };
      } catch (err) {
        return { name, file, runs: 0, measured, error: (err as Error).message.split('\n')[0] };
      }
    });
}

/** NAME → its experiment file (as the user should see it). */
export function reproductionFile(name: string): string {
  if (name.endsWith('.yaml') || name.endsWith('.yml') || name.includes('/')) return name;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new UsageError(`NAME: expected a reproduction name (see dcomp reproduce --list), got "${name}"`);
  const file = `${REPRO_DIR}/${name}.yaml`;
  if (!existsSync(resolveExperimentFile(file))) {
    const known = listReproductions().map((r) => r.name);
    throw new UsageError(`NAME: no reproduction "${name}"; known: ${known.join(', ') || '(none)'}`);
  }
  return file;
}

interface ReproduceOptions {
  list?: boolean;
  jobs?: number;
  out?: string;
  page?: string;
  resume?: boolean;
  strict?: boolean;
  dataDir?: string;
}

export function reproduceCommand(): Command {
  return new Command('reproduce')
    .description('run one reproduction end to end: bench, claims, report page (--list: the reproductions and their time here)')
    .argument('[name]', 'reproduction name (experiments/repro/NAME.yaml) or experiment file')
    .option('--list', 'list the reproductions with their runs and the time measured here')
    .option('--jobs <n>', 'runs in parallel (default: the number of cores)', parseInteger(1))
    .option('--out <file>', `bench CSV (default results/<name>/${SPEC_VERSION}/results.csv)`)
    .option('--page <file.md>', 'report page to write (default: beside the CSV, <name>.md); its SVGs go beside it')
    .option('--resume', 'continue an interrupted bench into --out')
    .option('--strict', 'exit 1 when a claim does not hold or cannot be evaluated')
    .option('--data-dir <dir>', 'directory with LIBSVM files (searched first)')
    .addHelpText('after', HELP)
    .action(async (name: string | undefined, opts: ReproduceOptions) => {
      if (opts.list) {
        if (name !== undefined) throw new UsageError('--list: takes no NAME');
        process.stdout.write(listText(listReproductions()));
        return;
      }
      if (name === undefined) throw new UsageError(`NAME: required (one of: ${listReproductions().map((r) => r.name).join(', ')}); see --list`);
      await reproduce(reproductionFile(name), opts);
    });
}

function listText(list: readonly Reproduction[]): string {
  if (list.length === 0) return `no reproductions in ${REPRO_DIR}/\n`;
  const rows = list.map((r) => [
    r.name,
    r.error ? 'invalid' : String(r.runs),
    r.measured ? `${formatDuration(r.measured.wallMs)} (${r.measured.jobs} job${r.measured.jobs === 1 ? '' : 's'})` : 'not measured',
    r.error ?? r.description ?? '',
  ]);
  const head = ['name', 'runs', 'time here', 'what'];
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const lines = [head, ...rows].map((r) => r.map((c, j) => (j === r.length - 1 ? c : c.padEnd(widths[j]))).join('  ').trimEnd());
  return lines.join('\n') + `\n(times measured by dcomp reproduce NAME --page ${PAGES_DIR}/NAME.md on this project's machine; "runs" counts every step of the sweeps)\n`;
}

async function reproduce(file: string, opts: ReproduceOptions): Promise<void> {
  const experiment = loadExperiment(resolveExperimentFile(file), file);
  const out = opts.out ?? join('results', experiment.name, String(SPEC_VERSION), 'results.csv');
  const page = opts.page ?? join('results', experiment.name, String(SPEC_VERSION), `${experiment.name}.md`);
  log(`reproduce ${experiment.name}: 1/3 bench → ${out}`);
  let summary: BenchSummary | undefined;
  let failure: BenchFailedError | undefined;
  try {
    // out only when given: then the bench may create the default results/<name>/<spec>/ directory
    summary = await benchAction(file, { experiment, out: opts.out, jobs: opts.jobs, resume: opts.resume, dataDir: opts.dataDir, plot: false, claims: true });
  } catch (err) {
    if (!(err instanceof BenchFailedError)) throw err;
    failure = err;
    summary = err.summary;
  }
  if (!summary) return; // interrupted: the bench said how to resume
  log(`reproduce ${experiment.name}: 2/3 claims: ${verdictCounts(summary)}`);
  const written = writeReport({
    csvFile: out,
    experimentFile: file,
    experiment,
    out: page,
    measured: opts.resume ? undefined : { wallMs: summary.wallMs, jobs: summary.jobs, runsExecuted: expandExperiment(experiment).reduce((s, u) => s + u.runs.length, 0), machine: machineDescription() },
    regenerate: `dcomp reproduce ${experiment.name} --page ${page}`,
    createDirectories: opts.page === undefined,
  });
  log(`reproduce ${experiment.name}: 3/3 report → ${written.join(', ')} (${formatDuration(summary.wallMs)} of bench)`);
  if (failure) throw failure;
  if (opts.strict) {
    const bad = summary.verdicts.filter((v) => v.verdict !== 'holds');
    if (bad.length > 0) throw new DcompError(`claims (--strict): ${bad.map((v) => `${v.claim.id} ${v.verdict}`).join(', ')}`);
  }
}

function verdictCounts(summary: BenchSummary): string {
  const v = summary.verdicts;
  if (v.length === 0) return 'none declared';
  const n = (what: string) => v.filter((x) => x.verdict === what).length;
  return `${n('holds')} hold, ${n('does not hold')} do not hold, ${n('cannot be evaluated')} cannot be evaluated`;
}
