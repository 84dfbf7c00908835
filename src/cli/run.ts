import { Command } from 'commander';
import { DcompError } from '../core/errors.js';
import { prepareRun, executeRun, type RowStatus } from '../bench/runner.js';
import { allDeclarations, normalizeConfig } from '../bench/config.js';
import type { MetricRow } from '../bench/types.js';
import { csvHeader, csvLines, rowCells, runPrefix } from '../report/csv.js';
import { log, terminalPolicy } from './io.js';
import { addDeclaredOptions, declaredValues } from './options.js';
import { runEnvironment } from './environment.js';
import { claimOutput, stdoutStream } from './output.js';
import { prepareGpuEnvironment } from './gpu.js';

const EXAMPLES = `
Every option above is declared once by its owner (the run, a problem, a compressor or a method); an
option that does not apply to the run (e.g. --k with identity) is an error. Experiment files take the
same options as YAML keys (--inner-steps → inner_steps).

Examples:
  $ dcomp run --dataset mushrooms --method gd --iters 50
  $ dcomp run --dataset mushrooms --method ef21 --compressor topk --k 10 --workers 20 \\
      --step theory --iters 50 --split contiguous --log-every 1 > ef21.csv
  $ dcomp run --dataset mushrooms --problem logreg-nonconvex --l2 0.1 --method ef21 --compressor topk --k 1 \\
      --workers 20 --split contiguous --shard-sizes floor --ef21-init full --x0 file:x0.txt --step 0.00128 --iters 200
  $ dcomp run --dataset a9a --method gtopk --k 12 --workers 16 --batch 64 --iters 200 --log-every 10
  $ dcomp run --dataset ./my-data.libsvm --method cgd --compressor imp-a --k 5 --step 0.5

CSV goes to stdout (or --out), one row as each iteration is logged; logs and errors to stderr.
Exit codes: 0 ok, 1 failed or diverged run, 2 bad usage, 130/143 interrupted (the rows so far are kept).`;

export function runCommand(): Command {
  const declared = allDeclarations();
  const command = new Command('run').description('run one method on one dataset and write its trajectory as CSV (spec §5–§6)');
  addDeclaredOptions(command, declared)
    .option('--data-dir <dir>', 'directory with LIBSVM files (searched first)')
    .option('--out <file>', 'write the CSV to a file instead of stdout')
    .addHelpText('after', EXAMPLES)
    .action(async () => {
      const opts = command.opts() as { dataDir?: string; out?: string };
      // OptionErrors name the flag (their default rendering); exit 2.
      const config = normalizeConfig(declaredValues(command, declared));
      const policy = terminalPolicy();
      if (config.backend === 'gpu') prepareGpuEnvironment();
      // Claimed before any work, so that a bad or busy --out fails at once; never one of the inputs.
      const claim = opts.out === undefined ? undefined : claimOutput(opts.out, { command: 'dcomp run' });
      let prepared;
      try {
        prepared = await prepareRun(config, { ...runEnvironment(opts.dataDir, policy), onLog: (line) => log(`dcomp: ${line}`) });
        claim?.checkInputs(prepared.inputs);
      } catch (err) {
        claim?.release();
        throw err;
      }
      const sink = claim === undefined ? stdoutStream() : claim.openStream();
      const prefix = runPrefix(prepared.runId, prepared.config, prepared.labels);
      const controller = new AbortController();
      let signal: NodeJS.Signals | undefined;
      const onSignal = (sig: NodeJS.Signals) => {
        signal = sig;
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let result;
      try {
        sink.write(csvHeader(false));
        result = await executeRun(prepared, {
          keepRows: false,
          signal: controller.signal,
          onRow: (row: MetricRow, status: RowStatus) => sink.write(csvLines([rowCells(prefix, row, status)])),
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        sink.close();
        prepared.release();
      }
      if (signal) {
        log(`dcomp: run ${prepared.runId} interrupted (${signal}); the rows logged so far are written`);
        process.exitCode = signal === 'SIGTERM' ? 143 : 130;
        return;
      }
      if (result.status !== 'completed') throw new DcompError(`run ${result.runId} ${result.status}: ${result.message}`);
      if (policy.progress) log(`dcomp: run ${result.runId} completed, step ${prepared.labels.stepUsed}`);
    });
  return command;
}

