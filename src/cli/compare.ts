import { Command } from 'commander';
import { DcompError } from '../core/errors.js';
import { compareTables, DEFAULT_TOLERANCES, failureSummary, formatCompareReport, parseTolerances, requiredColumns } from '../report/compare.js';
import { readResultsCsv } from '../report/read-csv.js';
import { parsePositive } from './options.js';

const HELP = `
Rows are joined on (run_id, iteration). For each metric the largest relative difference
|a − b| / max(|a|, |b|) is reported with the run and iteration where it occurs; the gate fails (exit 1)
when one exceeds its tolerance, when a run or row is missing or extra, or when a text column (status,
configuration) differs. Both files must have run_id, iteration, status and every metric below (a
missing column, or a (run_id, iteration) row twice in one file, is an error, exit 1). Default relative tolerances:
  ${Object.entries(DEFAULT_TOLERANCES).map(([k, v]) => `${k}=${v}`).join(', ')}
time_ms is compared only with --time-tol RATIO: the total of the runs' final time_ms in NEW may be at
most RATIO times that of BASE (e.g. 1.5 allows 50% slower).

Examples:
  $ dcomp compare baseline.csv results/default/1/results.csv
  $ dcomp compare base.csv new.csv --tol grad_norm_sq=1e-6,loss=1e-9 --time-tol 2`;

export function compareCommand(): Command {
  return new Command('compare')
    .description('regression gate: compare two results CSVs metric by metric (exit 1 beyond tolerance)')
    .argument('<base>', 'reference results CSV')
    .argument('<new>', 'results CSV to check')
    .option('--tol <metric=rel,...>', 'relative tolerances per metric, overriding the defaults')
    .option('--time-tol <ratio>', 'also gate wall time: new total time_ms ≤ ratio × base', parsePositive)
    .addHelpText('after', HELP)
    .action((baseFile: string, newFile: string, opts: { tol?: string; timeTol?: number }) => {
      const tolerances = parseTolerances(opts.tol);
      const required = requiredColumns(tolerances, opts.timeTol);
      const base = readResultsCsv(baseFile, required);
      const next = readResultsCsv(newFile, required);
      const report = compareTables(base, next, tolerances, opts.timeTol);
      process.stdout.write(formatCompareReport(report, baseFile, newFile));
      if (!report.pass) throw new DcompError(`compare: ${newFile} differs from ${baseFile}: ${failureSummary(report)}`);
    });
}
