import type { Command } from 'commander';

/**
 * Every subcommand lives in its own file under src/cli/ and exports a factory `() => Command`;
 * this list wires them into `dcomp`. Order is the order of `dcomp --help`.
 */
export const COMMANDS: ReadonlyArray<() => Command> = [];
