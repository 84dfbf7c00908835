import { Command, Option } from 'commander';
import { DcompError, UsageError } from '../core/errors.js';
import { loadExperiment } from '../bench/experiment.js';
import { evaluateClaims, renderVerdicts } from '../report/claims.js';
import { readResultsCsv } from '../report/read-csv.js';
import { resolveExperimentFile } from './bench.js';
import { log } from './io.js';

const HELP = `
Evaluates the claims: of an experiment file (docs/reproductions.md) on a results CSV and prints the
verdict table on stdout: per claim and setting both figures, the relation and holds / does not hold /
cannot be evaluated (with the reason); then, for each claim that does not hold, a sentence saying where
it does hold, if anywhere. The verdicts do not change the exit code unless --strict: then a claim that
does not hold, or cannot be evaluated, exits 1.

Examples:
  $ dcomp claims results/kasiuk-logreg/2/results.csv --experiment experiments/repro/kasiuk-logreg.yaml
  $ dcomp claims results.csv --experiment my.yaml --strict --format markdown`;

export function claimsCommand(): Command {
  return new Command('claims')
    .description("re-evaluate an experiment's claims on a results CSV: the verdict table (exit 1 only with --strict)")
    .argument('<file>', 'results CSV written by dcomp bench')
    .requiredOption('--experiment <file>', 'experiment file declaring the claims (looked up in the working directory, then in the package)')
    .option('--strict', 'exit 1 when a claim does not hold or cannot be evaluated')
    .addOption(new Option('--format <format>', 'table format').choices(['text', 'markdown']).default('text'))
    .addHelpText('after', HELP)
    .action((file: string, opts: { experiment: string; strict?: boolean; format: 'text' | 'markdown' }) => {
      const experiment = loadExperiment(resolveExperimentFile(opts.experiment), opts.experiment);
      if (experiment.claims.length === 0) throw new UsageError(`--experiment: ${opts.experiment} declares no claims:`);
      const table = readResultsCsv(file);
      const names = new Set(table.rows.map((r) => r.experiment).filter((n) => n !== undefined && n !== ''));
      if (names.size > 0 && !names.has(experiment.name)) log(`dcomp: warning: ${file} holds experiment ${[...names].join(', ')}, not ${experiment.name}`);
      const verdicts = evaluateClaims(experiment.claims, table);
      process.stdout.write(renderVerdicts(verdicts, table, opts.format));
      if (opts.strict) {
        const bad = verdicts.filter((v) => v.verdict !== 'holds');
        if (bad.length > 0) throw new DcompError(`claims (--strict): ${bad.map((v) => `${v.claim.id} ${v.verdict}`).join(', ')}`);
      }
    });
}
