import { Command, CommanderError } from 'commander';
import { DcompError } from '../core/errors.js';
import { SPEC_VERSION } from '../core/version.js';
import { log } from './io.js';
import { COMMANDS } from './commands.js';
import { guardStdout } from './output.js';
import { readFileSync } from 'node:fs';

/** The installed package's own version (not $npm_package_version, which is the caller's project's). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `${pkg.version} (spec version ${SPEC_VERSION})`;
}

export function buildProgram(): Command {
  const program = new Command('dcomp')
    .description('Communication compression in distributed optimization: correct, fast, reproducible runs and benchmarks.')
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  $ dcomp bench                                   # the default experiment on mushrooms, CSV in results/
  $ dcomp run --dataset mushrooms --method ef21 --compressor topk --k 10 --workers 20 > run.csv
  $ dcomp plot results/default/1/results.csv --y grad_norm_sq --x bits_up_per_worker
  $ dcomp compare base.csv new.csv --tol grad_norm_sq=1e-9
  $ dcomp compressors --check --dataset mushrooms
  $ dcomp traffic --method gtopk,topk-ssgd --k 100 --workers 2,4,8,16,32,64 --d 100000

Datasets are looked up in --data-dir, $DCOMP_DATA_DIR, the user cache, the embedded mushrooms copy,
then downloaded (checksum-verified). Exit codes: 0 ok, 1 failed work or gate, 2 bad usage.
Docs: the docs/ folder of the package.`,
    );
  for (const make of COMMANDS) {
    const cmd = make();
    cmd.exitOverride();
    program.addCommand(cmd);
  }
  return program;
}

/** Entry point: exit codes 0 ok, 1 failed work or gate, 2 bad usage. */
export async function main(argv: string[]): Promise<void> {
  // `dcomp … | head` closes stdout early: that is the reader's choice, not a failure; any other failed
  // write to stdout (a full disk behind `> file`) is exit 1 with one line.
  guardStdout(process.stdout, log);
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeFor(err);
  }
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // help and version exit 0; everything else commander reports is bad usage
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    return 2;
  }
  if (err instanceof DcompError) {
    log(`dcomp: ${err.message}`);
    return err.exitCode;
  }
  log(`dcomp: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return 1;
}
