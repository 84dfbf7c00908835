import type { Command } from 'commander';
import { runCommand } from './run.js';

/**
 * Every subcommand lives in its own file under src/cli/ and exports a factory `() => Command`;
 * this list wires them into `dcomp`. Order is the order of `dcomp --help`.
 */
export const COMMANDS: ReadonlyArray<() => Command> = [
  runCommand,
];
