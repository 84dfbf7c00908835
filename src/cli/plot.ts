import { Command, Option } from 'commander';
import { DcompError, UsageError } from '../core/errors.js';
import { defaultLogScale, renderSeries, seriesFromTable, X_COLUMNS, Y_COLUMNS } from '../report/plot.js';
import { readResultsCsv } from '../report/read-csv.js';
import { renderSvg } from '../report/svg.js';
import { log, terminalPolicy } from './io.js';
import { writeOutputFile } from './output.js';

const HELP = `
One series per run (run_id), labelled by the configuration columns that differ between runs. In the
terminal, series are resampled onto one x grid by linear interpolation, each only within its own x
range (no extrapolation); the SVG draws every point. Log scale is the default for grad_norm_sq and
loss_gap (--linear to turn it off, --log to force it); values ≤ 0 cannot be drawn on a log scale.
--log-x puts x on a log10 scale (bits span orders of magnitude); rows with x ≤ 0 (the 0 bits of
iteration 0) are then left out.

Examples:
  $ dcomp plot results/default/1/results.csv
  $ dcomp plot results.csv --y loss_gap --x bits_up_per_worker --filter method=ef21 --svg ef21.svg
  $ dcomp plot results.csv --x bits_up_per_worker --log-x`;

function collectFilter(value: string, previous: Array<[string, string]>): Array<[string, string]> {
  const m = /^([^=]+)=(.*)$/.exec(value);
  if (!m) throw new UsageError(`--filter: expected COLUMN=VALUE (e.g. method=ef21), got "${value}"`);
  return [...previous, [m[1].trim(), m[2]]];
}

export function plotCommand(): Command {
  return new Command('plot')
    .description('plot a results CSV: a metric against iterations, epochs, bits or time (terminal, or --svg for papers)')
    .argument('<file>', 'results CSV written by dcomp run or dcomp bench')
    .addOption(new Option('--y <column>', 'metric').choices([...Y_COLUMNS]).default('grad_norm_sq'))
    .addOption(new Option('--x <column>', 'x axis').choices([...X_COLUMNS]).default('iteration'))
    .option('--filter <column=value>', 'keep only rows where the column has this value (repeatable)', collectFilter, [])
    .option('--log', 'log10 y axis (default for grad_norm_sq and loss_gap)')
    .option('--linear', 'linear y axis')
    .option('--log-x', 'log10 x axis (for bits)')
    .option('--svg <file>', 'write a standalone SVG figure to this file instead of the terminal plot')
    .option('--width <columns>', 'terminal plot width', (v) => Number(v), 72)
    .option('--height <rows>', 'terminal plot height', (v) => Number(v), 15)
    .addHelpText('after', HELP)
    .action((file: string, opts: { y: string; x: string; filter: Array<[string, string]>; log?: boolean; linear?: boolean; logX?: boolean; svg?: string; width: number; height: number }) => {
      if (opts.log && opts.linear) throw new UsageError('--log and --linear: choose one');
      const logScale = opts.log ? true : opts.linear ? false : defaultLogScale(opts.y);
      const table = readResultsCsv(file);
      if (table.rows.length === 0) throw new DcompError(`${file}: no data rows (only a header); nothing to plot`);
      const logX = Boolean(opts.logX);
      const series = seriesFromTable(table, { x: opts.x, y: opts.y, log: logScale, logX, filters: opts.filter });
      if (series.length === 0) throw new UsageError(`--filter: no rows of ${file} match ${opts.filter.map(([k, v]) => `${k}=${v}`).join(', ')}`);
      if (opts.svg) {
        writeOutputFile(opts.svg, renderSvg(series, { x: opts.x, y: opts.y, log: logScale, logX }), { inputs: [file], command: `dcomp plot --svg ${opts.svg}` });
        log(`wrote ${opts.svg} (${series.length} series)`);
        return;
      }
      const policy = terminalPolicy();
      process.stdout.write(renderSeries(series, { x: opts.x, y: opts.y, log: logScale, logX, color: policy.color && Boolean(process.stdout.isTTY), width: opts.width, height: opts.height }));
    });
}
