/**
 * `dcomp traffic`: the per-step traffic model of spec §4 for topk-ssgd (all-gather, O(k n)) and gtopk
 * (tree reduction + broadcast, O(k log n)) against the number of workers, as a table on stdout and a
 * terminal plot on stderr; optionally an α-β time per step. docs/communication.md explains the model.
 */
import { Command, Option } from 'commander';
import asciichart from 'asciichart';
import { UsageError } from '../core/errors.js';
import { csvLines, formatNumber } from '../report/csv.js';
import {
  alphaBetaSeconds, sparseMessageBits, sparseSyncTraffic, SPARSE_SYNC_METHODS, type SparseSyncMethod, type StepTraffic,
} from '../methods/traffic.js';
import { terminalPolicy } from './io.js';

export interface TrafficOptions {
  methods: readonly SparseSyncMethod[];
  k: number;
  d: number;
  workers: readonly number[];
  floatBits: number;
  /** α-β model: seconds per round and bits per second; both or neither. */
  latency?: number;
  bandwidth?: number;
}

export interface TrafficRow {
  readonly method: SparseSyncMethod;
  readonly messageBits: number;
  readonly traffic: StepTraffic;
  /** α-β seconds per step, when --latency/--bandwidth are given. */
  readonly seconds?: number;
}

export const DEFAULT_WORKERS = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/** One row per (method, n), methods in the order given, n ascending as given. */
export function trafficRows(options: TrafficOptions): TrafficRow[] {
  const rows: TrafficRow[] = [];
  for (const method of options.methods) {
    for (const n of options.workers) {
      const traffic = sparseSyncTraffic(method, n, options.k, options.d, options.floatBits);
      const seconds = options.latency !== undefined && options.bandwidth !== undefined ? alphaBetaSeconds(traffic, options.latency, options.bandwidth) : undefined;
      rows.push({ method, messageBits: sparseMessageBits(options.k, options.d, options.floatBits), traffic, seconds });
    }
  }
  return rows;
}

const COLUMNS = [
  'method', 'workers', 'message_bits', 'sent_per_worker', 'received_per_worker', 'busiest_sent', 'busiest_received',
  'total_sent', 'network_total', 'rounds', 'critical_path_bits',
] as const;

function cells(row: TrafficRow, withTime: boolean, format: (x: number) => string): string[] {
  const t = row.traffic;
  const out = [
    row.method, String(t.workers), format(row.messageBits), format(t.sentPerWorker), format(t.receivedPerWorker), format(t.busiestSent),
    format(t.busiestReceived), format(t.totalSent), format(t.totalReceived), String(t.rounds), format(t.criticalPathBits),
  ];
  if (withTime) out.push(format(row.seconds ?? NaN));
  return out;
}

export function trafficCsv(rows: readonly TrafficRow[]): string {
  const withTime = rows.some((r) => r.seconds !== undefined);
  const header = withTime ? [...COLUMNS, 'seconds_per_step'] : [...COLUMNS];
  return csvLines([header, ...rows.map((r) => cells(r, withTime, formatNumber))]);
}

/** Integers as they are; fractions with 6 significant digits. */
function readable(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(6)));
}

export function trafficText(rows: readonly TrafficRow[]): string {
  const withTime = rows.some((r) => r.seconds !== undefined);
  const header = withTime ? [...COLUMNS, 'seconds_per_step'] : [...COLUMNS];
  const body = rows.map((r) => cells(r, withTime, readable));
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((line) => line[c].length)));
  const render = (line: readonly string[]) => line.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [render(header), ...body.map(render)].join('\n') + '\n' + 'bits per step; per-worker columns are averages over the n workers; network_total = bits delivered over all links\n';
}

/** Columns drawn between two consecutive worker counts (asciichart draws one column per value). */
const COLUMNS_PER_STEP = 6;

/** Linear interpolation between consecutive points, so each n gets several columns of the chart. */
function stretch(values: readonly number[]): number[] {
  if (values.length < 2) return [...values];
  const out: number[] = [];
  for (let i = 0; i + 1 < values.length; i++) {
    for (let c = 0; c < COLUMNS_PER_STEP; c++) out.push(values[i] + ((values[i + 1] - values[i]) * c) / COLUMNS_PER_STEP);
  }
  out.push(values[values.length - 1]);
  return out;
}

/**
 * Critical-path bits (or α-β seconds) against n, one series per method: one panel with all methods
 * on a common linear y axis (the O(k n) curve dwarfs the O(k log n) one), then one panel per method
 * on its own scale, where the shape of each growth law is visible. x is the list of n as given
 * (equally spaced, so a doubling list is a log2 n axis: O(log n) is a straight line there).
 */
export function trafficPlot(rows: readonly TrafficRow[], options: TrafficOptions, color: boolean): string {
  const useTime = rows.some((r) => r.seconds !== undefined);
  const series = options.methods.map((m) => stretch(rows.filter((r) => r.method === m).map((r) => (useTime ? r.seconds! : r.traffic.criticalPathBits))));
  const palette = [asciichart.blue, asciichart.red, asciichart.green, asciichart.magenta];
  const colorOf = (i: number) => palette[i % palette.length];
  const chart = (indices: number[]) =>
    asciichart.plot(indices.map((i) => series[i]), {
      height: 10,
      colors: color ? indices.map(colorOf) : undefined,
      format: (y: number) => compact(y).padStart(9),
    });
  const label = (i: number) => (color ? asciichart.colored(`── ${options.methods[i]}`, colorOf(i)) : `── ${options.methods[i]}`);
  const what = useTime ? 'α-β seconds per step' : 'critical-path bits per step';
  const axis = `x: n = ${options.workers.join(', ')} (equally spaced)`;
  const all = options.methods.map((_, i) => i);
  const panels = [`${what}, ${axis}\n${chart(all)}\n${all.map(label).join('   ')}${color ? '' : ' (series in this order)'}\n`];
  if (all.length > 1) for (const i of all) panels.push(`${what}, ${options.methods[i]} alone\n${chart([i])}\n`);
  return panels.join('\n');
}

function compact(y: number): string {
  const a = Math.abs(y);
  if (a >= 1e9) return `${(y / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(y / 1e6).toFixed(2)}M`;
  if (a >= 1e3) return `${(y / 1e3).toFixed(2)}k`;
  if (a > 0 && a < 1e-2) return y.toExponential(1);
  return y.toFixed(2);
}

// ---- option parsing ----

function integer(option: string, text: string, min: number): number {
  const t = text.trim();
  if (!/^\d+$/.test(t) || Number(t) < min || !Number.isSafeInteger(Number(t))) {
    throw new UsageError(`${option}: expected an integer ≥ ${min}, got "${text}"`);
  }
  return Number(t);
}

function positive(option: string, text: string, allowZero: boolean): number {
  const t = text.trim();
  const v = /^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : NaN;
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new UsageError(`${option}: expected a ${allowZero ? 'non-negative' : 'positive'} number, got "${text}"`);
  }
  return v;
}

export interface RawTrafficOptions {
  method: string;
  k?: string;
  d?: string;
  workers: string;
  floatBits: string;
  latency?: string;
  bandwidth?: string;
}

export function parseTrafficOptions(raw: RawTrafficOptions): TrafficOptions {
  const methods = raw.method.split(',').map((m) => m.trim());
  for (const m of methods) {
    if (!(SPARSE_SYNC_METHODS as readonly string[]).includes(m)) {
      throw new UsageError(`--method: unknown method "${m}"; accepted: ${SPARSE_SYNC_METHODS.join(', ')} (comma-separated)`);
    }
  }
  if (new Set(methods).size !== methods.length) throw new UsageError(`--method: "${raw.method}" names a method twice`);
  if (raw.d === undefined) throw new UsageError('--d: required, the dimension d (an integer ≥ 1)');
  if (raw.k === undefined) throw new UsageError('--k: required, the kept coordinates k (an integer with 1 ≤ k ≤ d)');
  const d = integer('--d', raw.d, 1);
  const k = integer('--k', raw.k, 1);
  if (k > d) throw new UsageError(`--k: must satisfy 1 ≤ k ≤ d = ${d}, got ${k}`);
  const workers = raw.workers.split(',').map((w) => integer('--workers', w, 1));
  if (workers.length === 0) throw new UsageError('--workers: expected a comma-separated list of worker counts, e.g. 2,4,8');
  const floatBits = integer('--float-bits', raw.floatBits, 1);
  if ((raw.latency === undefined) !== (raw.bandwidth === undefined)) {
    throw new UsageError(`${raw.latency === undefined ? '--bandwidth' : '--latency'}: the α-β model needs both --latency (seconds per round) and --bandwidth (bits per second)`);
  }
  const latency = raw.latency === undefined ? undefined : positive('--latency', raw.latency, true);
  const bandwidth = raw.bandwidth === undefined ? undefined : positive('--bandwidth', raw.bandwidth, false);
  return { methods: methods as SparseSyncMethod[], k, d, workers, floatBits, latency, bandwidth };
}

export interface TrafficCommandIo {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  env?: NodeJS.ProcessEnv;
}

const HELP = `
Per step, for each method and worker count n: bits each worker sends and receives (average and the
busiest worker), the total over all links, the rounds (latency steps) and the bits on the critical
path. P = k·(F + ⌈log2 d⌉) is one sparse message. topk-ssgd all-gathers: each worker sends P and
receives (n − 1)·P, so its critical path grows as O(k n); gtopk reduces along a binary tree and
broadcasts back, 2⌈log2 n⌉ rounds of P: O(k log n). The table goes to stdout, the plot to stderr.
With --latency and --bandwidth: α-β time per step = rounds·α + critical-path bits / bandwidth.

Examples:
  $ dcomp traffic --k 100 --d 100000
  $ dcomp traffic --method gtopk --k 25 --d 25000 --workers 4,8,16,32 --format csv > traffic.csv
  $ dcomp traffic --k 1000 --d 1000000 --latency 5e-6 --bandwidth 1e10`;

export function trafficCommand(io: TrafficCommandIo = {}): Command {
  const out = io.stdout ?? ((text: string) => void process.stdout.write(text));
  const err = io.stderr ?? ((text: string) => void process.stderr.write(text));
  return new Command('traffic')
    .description('bits per worker, total traffic, rounds and critical path per step of topk-ssgd vs gtopk against n')
    .option('--method <list>', `comma-separated: ${SPARSE_SYNC_METHODS.join(', ')}`, SPARSE_SYNC_METHODS.join(','))
    .option('--k <K>', 'kept coordinates per message (1 ≤ k ≤ d)')
    .option('--d <D>', 'dimension d')
    .option('--workers <list>', 'comma-separated worker counts', DEFAULT_WORKERS.join(','))
    .option('--float-bits <F>', 'bits per float', '32')
    .option('--latency <seconds>', 'α: seconds per communication round (with --bandwidth)')
    .option('--bandwidth <bits/s>', 'link bandwidth in bits per second (with --latency)')
    .addOption(new Option('--format <format>', 'table format on stdout').choices(['text', 'csv']).default('text'))
    .option('--no-plot', 'skip the terminal plot on stderr')
    .addHelpText('after', HELP)
    .action((raw: RawTrafficOptions & { format: 'text' | 'csv'; plot: boolean }) => {
      const options = parseTrafficOptions(raw);
      const rows = trafficRows(options);
      out(raw.format === 'csv' ? trafficCsv(rows) : trafficText(rows));
      if (raw.plot && options.workers.length > 1) err(trafficPlot(rows, options, terminalPolicy({}, io.env ?? process.env).color));
    });
}
