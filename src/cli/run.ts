import { createWriteStream } from 'node:fs';
import { Command, Option } from 'commander';
import { DcompError } from '../core/errors.js';
import { prepareRun, executeRun } from '../bench/runner.js';
import type { RunConfig } from '../bench/types.js';
import { SPLIT_MODES } from '../data/types.js';
import { COMPRESSORS } from '../compressors/registry.js';
import { METHODS } from '../methods/registry.js';
import { PROBLEMS } from '../problems/registry.js';
import { csvHeader, csvLines, runRecords } from '../report/csv.js';
import { log, terminalPolicy } from './io.js';
import { parseChoice, parseInteger, parseIntegerList, parseNonNegative, parsePositive } from './options.js';
import { runEnvironment } from './environment.js';

const EXAMPLES = `
Examples:
  $ dcomp run --dataset mushrooms --method gd --iters 50
  $ dcomp run --dataset mushrooms --method ef21 --compressor topk --k 10 --workers 20 \\
      --step theory --iters 50 --split contiguous --log-every 1 > ef21.csv
  $ dcomp run --dataset a9a --method gtopk --k 12 --workers 16 --batch 64 --iters 200 --log-every 10
  $ dcomp run --dataset ./my-data.libsvm --method cgd --compressor imp-a --k 5 --step 0.5

CSV goes to stdout (or --out); logs and errors to stderr. Exit codes: 0 ok, 1 failed or diverged run, 2 bad usage.`;

export function runCommand(): Command {
  return new Command('run')
    .description('run one method on one dataset and write its trajectory as CSV (spec §5–§6)')
    .requiredOption('--dataset <name|path>', 'dataset name (mushrooms, a9a, w8a, phishing, a1a) or a LIBSVM file path')
    .addOption(new Option('--problem <name>', 'objective').choices([...PROBLEMS.keys()]).default('logreg'))
    .addOption(new Option('--method <name>', 'optimization method').choices([...METHODS.keys()]).makeOptionMandatory())
    .addOption(new Option('--compressor <name>', 'compressor (default identity; topk for topk-ssgd/gtopk)').choices([...COMPRESSORS.keys()]))
    .option('--k <k>', 'coordinates kept by a sparsifier, 1 ≤ k ≤ d', parseInteger(1))
    .option('--workers <n>', 'number of workers n', parseInteger(1), 1)
    .option('--step <gamma>', 'step size: a number, theory or theory*M', 'theory')
    .option('--iters <T>', 'iterations', parseInteger(0), 100)
    .option('--l2 <lambda>', 'regularisation λ (default 1e-3 for logreg, 0.1 for logreg-nonconvex)', parseNonNegative)
    .option('--split <mode>', `how rows are split across workers: ${SPLIT_MODES.join('|')}`, parseChoice(SPLIT_MODES), 'iid')
    .option('--seed <s>', 'seed of every random choice', parseInteger(0), 0)
    .option('--log-every <m>', 'log every m iterations (and always 0 and the last)', parseInteger(1), 1)
    .option('--batch <b>', 'minibatch rows per worker per iteration (default: full local gradients)', parseInteger(1))
    .option('--ranks <r>', 'hosvd ranks: one for all modes or one per mode, e.g. 2 or 2,3,2', parseIntegerList(1))
    .option('--dims <a,b,c>', 'hosvd tensor dims (default: the most balanced order-3 dims)', parseIntegerList(1))
    .option('--float-bits <F>', 'bits per float on the wire', parseInteger(1), 32)
    .option('--x0 <init>', 'starting point: zeros or normal[:σ]', 'zeros')
    .option('--inner-steps <M>', 'imp-b/imp-c inner steps', parseInteger(1))
    .option('--inner-step <tau0>', 'imp-b/imp-c inner step τ₀', parsePositive)
    .option('--imp-c-scale', 'imp-c sends w_j·v_j instead of v_j')
    .option('--features <d>', 'fix the dimension d (e.g. to align a test file)', parseInteger(1))
    .addOption(new Option('--backend <name>', 'compute backend').choices(['cpu', 'gpu']).default('cpu'))
    .option('--test <name|path>', 'test set for test_acc')
    .option('--data-dir <dir>', 'directory with LIBSVM files (searched first)')
    .option('--out <file>', 'write the CSV to a file instead of stdout')
    .addHelpText('after', EXAMPLES)
    .action(async (opts) => {
      const config = {
        dataset: opts.dataset, problem: opts.problem, method: opts.method, compressor: opts.compressor, k: opts.k, workers: opts.workers,
        split: opts.split, seed: opts.seed, step: opts.step, iters: opts.iters, l2: opts.l2, logEvery: opts.logEvery, batch: opts.batch,
        ranks: opts.ranks, dims: opts.dims, floatBits: opts.floatBits, x0: opts.x0, backend: opts.backend, test: opts.test,
        features: opts.features, innerSteps: opts.innerSteps, innerStep: opts.innerStep, impCScale: opts.impCScale === true ? true : undefined,
      } as RunConfig;
      const policy = terminalPolicy();
      const prepared = await prepareRun(config, runEnvironment(opts.dataDir, policy));
      const result = executeRun(prepared);
      const text = csvHeader(false) + csvLines(runRecords(result));
      if (opts.out) {
        await new Promise<void>((resolve, reject) => {
          const stream = createWriteStream(opts.out);
          stream.on('error', reject);
          stream.end(text, () => resolve());
        });
      } else {
        process.stdout.write(text);
      }
      if (result.status !== 'completed') {
        throw new DcompError(`run ${result.runId} ${result.status}: ${result.message}`);
      }
      if (policy.progress) log(`dcomp: run ${result.runId} completed: ${result.rows.length} rows, step ${prepared.stepUsed}`);
    });
}
