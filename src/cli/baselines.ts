import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Command } from 'commander';
import { DcompError, UsageError } from '../core/errors.js';
import { baselineSubset } from '../bench/baseline.js';
import { loadExperiment } from '../bench/experiment.js';
import { compareTables, DEFAULT_TOLERANCES, failureSummary, formatCompareReport } from '../report/compare.js';
import { readResultsCsv } from '../report/read-csv.js';
import { benchAction, BenchFailedError, resolveExperimentFile } from './bench.js';
import { log } from './io.js';
import { parseInteger } from './options.js';
import { writeOutputFile } from './output.js';
import { listReproductions, reproductionFile, REPRO_DIR } from './reproduce.js';

export const BASELINE_DIR = 'results/baselines';

const HELP = `
Every reproduction (${REPRO_DIR}/*.yaml) declares a baseline: subset, a small fast part of it. Its CSV
is stored in ${BASELINE_DIR}/<name>.csv. Without --update, each subset is rerun into a temporary file
and compared with the stored CSV exactly as dcomp compare does (default tolerances: ${Object.entries(DEFAULT_TOLERANCES).map(([k, v]) => `${k}=${v}`).join(', ')};
time_ms is not compared); any difference, missing or extra run fails the gate (exit 1) after all are
checked. With --update the subsets are rerun and the stored CSVs replaced: do that on purpose, when a
change moves the numbers, and say why in the commit (docs/ci.md).

Examples:
  $ dcomp baselines                       # the CI gate (.ci/run calls it after npm test)
  $ dcomp baselines kasiuk-logreg --update
  $ dcomp baselines --update              # regenerate every baseline (e.g. after a spec version bump)`;

interface BaselinesOptions {
  update?: boolean;
  dir: string;
  jobs?: number;
  dataDir?: string;
}

export function baselinesCommand(): Command {
  return new Command('baselines')
    .description('the regression gate: rerun every reproduction\'s baseline subset and compare with the stored CSV (--update to refresh)')
    .argument('[names...]', `reproductions (default: every ${REPRO_DIR}/*.yaml with a baseline:), or experiment files`)
    .option('--update', `rerun the subsets and replace the stored CSVs in --dir`)
    .option('--dir <dir>', 'where the stored baselines are', BASELINE_DIR)
    .option('--jobs <n>', 'runs in parallel (default: the number of cores)', parseInteger(1))
    .option('--data-dir <dir>', 'directory with LIBSVM files (searched first)')
    .addHelpText('after', HELP)
    .action(async (names: string[], opts: BaselinesOptions) => {
      const files = names.length > 0 ? names.map(reproductionFile) : listReproductions().map((r) => `${REPRO_DIR}/${basename(r.file)}`);
      const subsets = files.map((file) => {
        const experiment = loadExperiment(resolveExperimentFile(file), file);
        const subset = baselineSubset(experiment);
        if (!subset && names.length > 0) throw new UsageError(`${file}: declares no baseline: subset`);
        return { file, subset };
      });
      const scratch = mkdtempSync(join(tmpdir(), 'dcomp-baselines-'));
      const failures: string[] = [];
      try {
        for (const { file, subset } of subsets) {
          if (!subset) {
            log(`baselines: ${file}: no baseline: subset, skipped`);
            continue;
          }
          const stored = join(opts.dir, `${subset.name}.csv`);
          if (!opts.update && !existsSync(stored)) {
            failures.push(`${subset.name}: no stored baseline ${stored}; create it with: dcomp baselines ${subset.name} --update`);
            continue;
          }
          const fresh = join(scratch, `${subset.name}.csv`);
          const t0 = Date.now();
          try {
            await benchAction(file, { experiment: subset, baseline: true, out: fresh, quiet: true, plot: false, claims: false, jobs: opts.jobs, dataDir: opts.dataDir });
          } catch (err) {
            // a diverged run is part of what the baseline records; the comparison decides
            if (!(err instanceof BenchFailedError)) throw err;
          }
          const seconds = ((Date.now() - t0) / 1000).toFixed(1);
          if (opts.update) {
            moveInto(fresh, stored, opts.dir === BASELINE_DIR);
            log(`baselines: ${subset.name}: stored ${stored} (${seconds} s)`);
            continue;
          }
          const report = compareTables(readResultsCsv(stored), readResultsCsv(fresh));
          process.stdout.write(formatCompareReport(report, stored, `${subset.name} rerun`));
          log(`baselines: ${subset.name}: ${report.pass ? 'PASS' : 'FAIL'} (${seconds} s)`);
          if (!report.pass) failures.push(`${subset.name}: ${failureSummary(report)}`);
        }
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
      if (failures.length > 0) {
        throw new DcompError(`baselines: ${failures.length} gate(s) failed:\n  ${failures.join('\n  ')}\nIf the change is meant to move these numbers: dcomp baselines NAME --update, and say why in the commit (docs/ci.md).`);
      }
    });
}

/** Replaces the stored file only once the new one is complete (a failed bench leaves the old one). */
function moveInto(from: string, to: string, createDirectories: boolean): void {
  let text: string;
  try {
    text = readFileSync(from, 'utf8');
  } catch (err) {
    throw new DcompError(`${from}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  writeOutputFile(to, text, { command: `dcomp baselines --update`, createDirectories });
}
