/**
 * Terminal plots of a results table: one series per run (run_id), a chosen metric against a chosen x
 * column. Pure: rows in, a string out.
 *
 * Resampling, honestly: every series is evaluated on one common grid of columns spanning all series'
 * x, by linear interpolation between its own neighbouring points (in the plotted scale, i.e. of log10 y
 * on a log axis; in log10 x on a log x axis), and only inside its own x range — no extrapolation, so a series that stops early (or
 * starts late: ef21 already sends at iteration 0) leaves the columns outside its range empty. Points
 * that cannot be drawn (non-finite, or ≤ 0 on a log axis — e.g. the 0 bits of iteration 0 on a log x
 * axis) are left out.
 *
 * Drawing uses asciichart's line symbols and colours; asciichart's own `plot` cannot leave gaps (it
 * needs every series defined from the first column), so the grid is drawn here.
 */
import * as asciichart from 'asciichart';
import { UsageError } from '../core/errors.js';
import { escapeControl } from '../core/text.js';
import { parseNumberCell, type ResultTable } from './read-csv.js';

export const X_COLUMNS = ['iteration', 'epoch', 'bits_up_per_worker', 'bits_up_total', 'bits_down', 'time_ms'] as const;
export const Y_COLUMNS = ['grad_norm_sq', 'loss', 'loss_gap', 'train_acc', 'test_acc', 'epoch', 'bits_up_per_worker', 'bits_up_total', 'bits_down', 'time_ms'] as const;

/** Configuration columns that tell runs apart in a legend. */
const CONFIG_COLUMNS = ['experiment', 'dataset', 'problem', 'method', 'compressor', 'k', 'workers', 'split', 'seed', 'step', 'backend', 'precision'];

/** Log scale by default for the quantities that fall over orders of magnitude. */
export function defaultLogScale(y: string): boolean {
  return y === 'grad_norm_sq' || y === 'loss_gap';
}

export interface Series {
  readonly runId: string;
  readonly label: string;
  /** Ascending x (log10 x on a log x axis). */
  readonly xs: readonly number[];
  /** y in the plotted scale (log10 y on a log axis). */
  readonly ys: readonly number[];
}

export interface SeriesOptions {
  readonly x: string;
  readonly y: string;
  readonly log: boolean;
  /** log10 x axis (bits span orders of magnitude). */
  readonly logX?: boolean;
  /** Keep rows whose column equals the value (all must hold). */
  readonly filters?: ReadonlyArray<readonly [string, string]>;
}

function checkColumn(table: ResultTable, option: '--x' | '--y', name: string, accepted: readonly string[]): void {
  if (!accepted.includes(name)) throw new UsageError(`${option}: unknown column "${name}"; accepted: ${accepted.join(', ')}`);
  if (!table.columns.includes(name)) throw new UsageError(`${option}: ${table.file} has no column "${name}"`);
}

/** One series per run_id, in order of first appearance; labels name the configuration columns that differ. */
export function seriesFromTable(table: ResultTable, options: SeriesOptions): Series[] {
  checkColumn(table, '--x', options.x, X_COLUMNS);
  checkColumn(table, '--y', options.y, Y_COLUMNS);
  for (const [key] of options.filters ?? []) {
    if (!table.columns.includes(key)) throw new UsageError(`--filter: ${table.file} has no column "${key}"; columns: ${table.columns.join(', ')}`);
  }
  const rows = table.rows.filter((row) => (options.filters ?? []).every(([k, v]) => row[k] === v));
  const byRun = new Map<string, Array<Readonly<Record<string, string>>>>();
  for (const row of rows) {
    const id = row.run_id;
    const list = byRun.get(id);
    if (list) list.push(row);
    else byRun.set(id, [row]);
  }
  const firstRows = [...byRun.values()].map((r) => r[0]);
  const varying = CONFIG_COLUMNS.filter((c) => table.columns.includes(c) && new Set(firstRows.map((r) => r[c])).size > 1);
  const labelColumns = varying.length > 0 ? varying : ['method', 'compressor', 'k'].filter((c) => table.columns.includes(c));
  const labels = firstRows.map((r) =>
    labelColumns
      .filter((c) => r[c] !== '' && r[c] !== undefined)
      .map((c) => (c === 'method' || c === 'compressor' || c === 'dataset' || c === 'experiment' ? r[c] : `${c}=${shortValue(c, r[c])}`))
      .join(' '),
  );
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);

  return [...byRun.entries()].map(([runId, runRows], i) => {
    const points: Array<[number, number]> = [];
    for (const row of runRows) {
      const x = parseNumberCell(row[options.x]);
      const y = parseNumberCell(row[options.y]);
      if (x === undefined || y === undefined || !Number.isFinite(x) || !Number.isFinite(y)) continue;
      if ((options.log && y <= 0) || (options.logX && x <= 0)) continue;
      points.push([options.logX ? Math.log10(x) : x, options.log ? Math.log10(y) : y]);
    }
    points.sort((a, b) => a[0] - b[0]);
    const label = counts.get(labels[i])! > 1 || labels[i] === '' ? `${labels[i]} ${runId}`.trim() : labels[i];
    return { runId, label, xs: points.map((p) => p[0]), ys: points.map((p) => p[1]) };
  });
}

/** Legends stay short: the numeric step to 3 significant digits (the CSV keeps every digit). */
function shortValue(column: string, value: string): string {
  const x = Number(value);
  return column === 'step' && value !== '' && Number.isFinite(x) ? String(Number(x.toPrecision(3))) : value;
}

/** The series' value at x by linear interpolation between its neighbours; NaN outside its own x range. */
export function interpolate(series: Series, x: number): number {
  const { xs, ys } = series;
  const n = xs.length;
  if (n === 0 || x < xs[0] || x > xs[n - 1]) return NaN;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid;
    else hi = mid;
  }
  if (xs[lo] === x) return ys[lo];
  if (xs[hi] === x) return ys[hi];
  const t = (x - xs[lo]) / (xs[hi] - xs[lo]);
  return ys[lo] + t * (ys[hi] - ys[lo]);
}

/** Shortest readable label of a value in the original scale. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

const PALETTE = [
  asciichart.blue, asciichart.red, asciichart.green, asciichart.yellow, asciichart.magenta, asciichart.cyan,
  asciichart.lightred, asciichart.lightgreen, asciichart.lightblue, asciichart.lightmagenta, asciichart.lightcyan, asciichart.lightyellow,
];
/** Without colour, series are told apart by their marker; with colour, the series after the palette's 12 lines too. */
const MARKERS = ['*', '+', 'o', 'x', '#', '@', '%', '&', '=', '~', '^', '$', ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'];

interface SeriesStyle {
  /** Drawn as a line of box-drawing characters (else as one marker per column). */
  readonly line: boolean;
  readonly marker: string;
  readonly color: asciichart.Color | undefined;
}

/**
 * Series i's look. With colour: the 12 palette colours as lines, then markers in those colours, so
 * that no two of the first 12 + MARKERS.length series look alike; without colour, one marker each.
 */
export function seriesStyle(i: number, color: boolean): SeriesStyle {
  if (!color) return { line: false, marker: MARKERS[i % MARKERS.length], color: undefined };
  const paint = PALETTE[i % PALETTE.length];
  if (i < PALETTE.length) return { line: true, marker: '─', color: paint };
  return { line: false, marker: MARKERS[(i - PALETTE.length) % MARKERS.length], color: paint };
}

/** How many series can be told apart. */
export function distinctStyles(color: boolean): number {
  return color ? PALETTE.length + MARKERS.length : MARKERS.length;
}

export interface TerminalPlotOptions extends SeriesOptions {
  readonly width?: number;
  readonly height?: number;
  /** ANSI colours (only when the terminal policy allows). */
  readonly color: boolean;
  readonly title?: string;
}

/** " (log scale)", " (log x)", " (log-log)" or "" for titles. */
export function scaleNote(options: { readonly log: boolean; readonly logX?: boolean }): string {
  if (options.log && options.logX) return ' (log-log)';
  if (options.logX) return ' (log x)';
  return options.log ? ' (log scale)' : '';
}

export function renderSeries(series: readonly Series[], options: TerminalPlotOptions): string {
  const width = Math.max(10, options.width ?? 72);
  const height = Math.max(3, options.height ?? 15);
  const drawn = series.filter((s) => s.xs.length > 0);
  const yName = options.y;
  const title = options.title ?? `${options.y} vs ${options.x}${scaleNote(options)}`;
  if (drawn.length === 0) return `${title}: nothing to plot (no finite${options.log || options.logX ? ' positive' : ''} values)\n`;

  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const s of drawn) {
    xMin = Math.min(xMin, s.xs[0]);
    xMax = Math.max(xMax, s.xs[s.xs.length - 1]);
    for (const y of s.ys) {
      yMin = Math.min(yMin, y);
      yMax = Math.max(yMax, y);
    }
  }
  if (yMax === yMin) {
    yMax += 0.5;
    yMin -= 0.5;
  }
  const columnX = (c: number) => (xMax === xMin ? xMin : xMin + ((xMax - xMin) * c) / (width - 1));
  const rowOf = (v: number) => Math.round(((v - yMin) / (yMax - yMin)) * (height - 1));

  // grid[row][col], row 0 at the top
  const grid: string[][] = Array.from({ length: height }, () => new Array<string>(width).fill(' '));
  const styles = drawn.map((_, i) => seriesStyle(i, options.color));
  const put = (row: number, col: number, ch: string, i: number) => {
    const paint = styles[i].color;
    grid[height - 1 - row][col] = paint === undefined ? ch : asciichart.colored(ch, paint);
  };
  drawn.forEach((s, i) => {
    const values = Array.from({ length: width }, (_, c) => interpolate(s, columnX(c)));
    if (xMax === xMin) values.fill(s.ys[s.ys.length - 1]);
    for (let c = 0; c < width; c++) {
      const v = values[c];
      if (Number.isNaN(v)) continue;
      const y0 = rowOf(v);
      if (!styles[i].line) {
        put(y0, c, styles[i].marker, i);
        continue;
      }
      const next = c + 1 < width ? values[c + 1] : NaN;
      if (Number.isNaN(next)) {
        put(y0, c, '─', i);
        continue;
      }
      const y1 = rowOf(next);
      if (y0 === y1) put(y0, c, '─', i);
      else {
        put(y1, c, y0 > y1 ? '╰' : '╭', i);
        put(y0, c, y0 > y1 ? '╮' : '╯', i);
        for (let y = Math.min(y0, y1) + 1; y < Math.max(y0, y1); y++) put(y, c, '│', i);
      }
    }
  });

  const label = (row: number) => {
    const v = yMin + ((yMax - yMin) * row) / (height - 1);
    return formatTick(options.log ? 10 ** v : v);
  };
  const labels = Array.from({ length: height }, (_, r) => label(height - 1 - r));
  const pad = Math.max(...labels.map((l) => l.length));
  const lines: string[] = [title, `${' '.repeat(pad)} ${yName}`];
  grid.forEach((cells, r) => lines.push(`${labels[r].padStart(pad)} ┤${cells.join('')}`));
  lines.push(`${' '.repeat(pad)} └${'─'.repeat(width)}`);
  const xTick = (v: number) => formatTick(options.logX ? 10 ** v : v);
  const left = xTick(xMin);
  const mid = xTick((xMin + xMax) / 2);
  const right = xTick(xMax);
  const axis = new Array<string>(width + 2).fill(' ');
  const place = (text: string, at: number) => {
    const start = Math.max(0, Math.min(width + 2 - text.length, at));
    for (let j = 0; j < text.length; j++) axis[start + j] = text[j];
  };
  place(left, 1);
  place(mid, 1 + Math.floor((width - mid.length) / 2));
  place(right, width + 1 - right.length);
  lines.push(`${' '.repeat(pad)}${axis.join('')}`);
  lines.push(`${' '.repeat(pad)} ${options.x}${options.logX ? ' (log scale)' : ''}`.padEnd(pad + 1 + width));
  drawn.forEach((s, i) => {
    const style = styles[i];
    const glyph = style.line ? '───' : ` ${style.marker} `;
    lines.push(`  ${style.color === undefined ? glyph : asciichart.colored(glyph, style.color)} ${escapeControl(s.label)}`);
  });
  const distinct = distinctStyles(options.color);
  if (drawn.length > distinct) lines.push(`  (${drawn.length} series: from series ${distinct + 1} on the markers repeat; narrow with --filter)`);
  const empty = series.filter((s) => s.xs.length === 0);
  if (empty.length > 0) lines.push(`  (not drawn, no plottable values: ${empty.map((s) => escapeControl(s.label)).join('; ')})`);
  return lines.map((l) => l.trimEnd()).join('\n') + '\n';
}

/** `dcomp plot` and the plot at the end of a bench: a results table to a terminal chart. */
export function renderTerminalPlot(table: ResultTable, options: TerminalPlotOptions): string {
  return renderSeries(seriesFromTable(table, options), options);
}
