import type { Command } from 'commander';
import { runCommand } from './run.js';
import { datasetsCommand } from './datasets.js';
import { benchCommand } from './bench.js';
import { plotCommand } from './plot.js';
import { compareCommand } from './compare.js';
import { mergeCommand } from './merge.js';
import { compressorsCommand } from './compressors.js';
import { perfCommand } from './perf.js';
import { trafficCommand } from './traffic.js';
import { claimsCommand } from './claims.js';
import { reportCommand } from './report.js';
import { reproduceCommand } from './reproduce.js';
import { baselinesCommand } from './baselines.js';
import { doctorCommand } from './doctor.js';

/**
 * Every subcommand lives in its own file under src/cli/ and exports a factory `() => Command`;
 * this list wires them into `dcomp`. Order is the order of `dcomp --help`.
 */
export const COMMANDS: ReadonlyArray<() => Command> = [
  runCommand,
  () => datasetsCommand(),
  benchCommand,
  plotCommand,
  compareCommand,
  mergeCommand,
  () => compressorsCommand(),
  perfCommand,
  () => trafficCommand(),
  claimsCommand,
  reportCommand,
  reproduceCommand,
  baselinesCommand,
  () => doctorCommand(),
];
