import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { DcompError } from '../core/errors.js';
import { loadExperiment } from '../bench/experiment.js';
import { mergeShards } from '../bench/shard.js';
import { plannedUnits, resolveExperimentFile } from './bench.js';
import { runEnvironment } from './environment.js';
import { log, terminalPolicy } from './io.js';
import { writeOutputFile } from './output.js';

const HELP = `
The shards' runs are put back in matrix order, which merge takes from the experiment file (the CSV
holds run ids, not positions): the result is byte for byte the file an unsharded bench writes (apart
from time_ms). Every run of the experiment must be present; missing or foreign runs are errors (exit 2).
Nothing is trusted: a missing column, a run's rows that are not exactly those its configuration
implies, a run twice in one file, or two different copies of a run in two files (time_ms aside) is an
error naming the file and line (exit 1); identical copies are kept once.

Example (Slurm array, see docs/cluster.md):
  $ dcomp bench my.yaml --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT --out shards/$SLURM_ARRAY_TASK_ID.csv
  $ dcomp merge shards/*.csv --experiment my.yaml --out results.csv`;

export function mergeCommand(): Command {
  return new Command('merge')
    .description('join the CSVs of bench shards (--shard i/m) into the file an unsharded bench writes')
    .argument('<files...>', 'shard CSVs (any order)')
    .requiredOption('--experiment <file>', 'the experiment file the shards ran (gives the matrix order)')
    .option('--out <file>', 'merged CSV (default: stdout)', '-')
    .addHelpText('after', HELP)
    .option('--data-dir <dir>', 'directory with LIBSVM files (run ids hash the datasets\' content)')
    .action(async (files: string[], opts: { experiment: string; out: string; dataDir?: string }) => {
      const experimentFile = resolveExperimentFile(opts.experiment);
      const experiment = loadExperiment(experimentFile, opts.experiment);
      const units = await plannedUnits(experiment, runEnvironment(opts.dataDir, terminalPolicy()));
      const inputs = files.map((file) => {
        try {
          return { file, text: readFileSync(file, 'utf8') };
        } catch (err) {
          throw new DcompError(`${file}: cannot read: ${(err as Error).message}`);
        }
      });
      const merged = mergeShards(inputs, units, experiment.name);
      if (merged.duplicates.length > 0) log(`merge: ${merged.duplicates.length} run(s) appear in several files; identical apart from time_ms, kept the first file's copy: ${merged.duplicates.join(', ')}`);
      if (opts.out === '-') process.stdout.write(merged.text);
      else {
        writeOutputFile(opts.out, merged.text, { inputs: [experimentFile, ...files], command: `dcomp merge --out ${opts.out}` });
        log(`merge: ${merged.runs} runs from ${files.length} file(s) → ${opts.out}`);
      }
    });
}
