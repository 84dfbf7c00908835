/**
 * `dcomp compressors`: the registered compressors with their parameters, bit costs and known classes;
 * `dcomp compressors --check`: seeded Monte Carlo estimates of their class constants (seed 000
 * Definitions 1–4) side by side with the lemmas' values, as a table to paste in a paper. The
 * estimation is src/compressors/classes.ts; this file wires data and prints.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DcompError, UsageError } from '../core/errors.js';
import { flagName, type OptionDecl } from '../core/options.js';
import { createRng } from '../core/rng.js';
import { hosvdDims } from '../compressors/hosvd.js';
import { COMPRESSORS } from '../compressors/registry.js';
import type { CompressContext, CompressorSpec, KnownClasses } from '../compressors/types.js';
import { checkCompressor, syntheticVectors, type CheckVector, type CompressorCheck, type ConstantRow } from '../compressors/classes.js';
import type { LocalObjective } from '../problems/types.js';
import { problemSpec } from '../problems/registry.js';
import { loadDataset } from '../data/resolve.js';
import { csvLines, formatNumber } from '../report/csv.js';
import { log } from './io.js';
import { parseChoice, parseInteger, parseIntegerList, parseNonNegative, parsePositive } from './options.js';
import { datasetLocations } from './paths.js';

export const TABLE_FORMATS = ['text', 'markdown', 'csv', 'latex'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

/** What the command touches outside itself; tests replace these. */
export interface CompressorsCommandIo {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Default: the registry. Tests add deliberately broken compressors here. */
  compressors?: ReadonlyMap<string, CompressorSpec>;
}

const EXAMPLES = `
Examples:
  $ dcomp compressors
  $ dcomp compressors --check
  $ dcomp compressors --check --dataset a9a --k 12 --samples 2000 --format latex > classes.tex
  $ dcomp compressors --check --compressor topk,randk --dataset none --d 1000 --k 10 --format markdown

--check estimates, for each compressor and each test vector x (synthetic: gaussian, heavy-tailed,
sparse, equal-magnitude; real: the logreg gradient of --dataset at x = 0 and at a seeded x ~ N(0, I)),
  bias = ‖E C(x) − x‖/‖x‖,  ζ = α = E‖C‖²/‖x‖²,  β = E‖C‖²/⟨E C, x⟩,  γ = ⟨E C, x⟩/‖x‖²,
  δ = 1/(1 − E‖C − x‖²/‖x‖²),
with --samples draws per vector for randomized compressors (1 for deterministic ones). The class
constant is the worst case over the vectors (max for bias, ζ, β, δ; min for α, γ), with intervals
of joint confidence --confidence. A known bound (Lemmas 5–8) violated beyond its interval is an
error: the violations go to stderr and the exit code is 1. imp-a/imp-b/imp-c compress at the point
where each gradient was taken, with the dataset's logreg f and η = --step (default 1/L); hosvd uses
--ranks (default 2).`;

interface CompressorsOptions {
  check?: boolean;
  compressor?: string[];
  dataset: string;
  dataDir?: string;
  d?: number;
  k?: number;
  samples: number;
  seed: number;
  confidence: number;
  ranks?: number[];
  dims?: number[];
  floatBits: number;
  step?: number;
  l2?: number;
  innerSteps?: number;
  innerStep?: number;
  format: TableFormat;
}

function parseNameList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function parseConfidence(value: string): number {
  const c = Number(value);
  if (value.trim() === '' || !(c > 0 && c < 1)) throw new InvalidArgumentError('expected a number in (0, 1), e.g. 0.99');
  return c;
}

export function compressorsCommand(io: CompressorsCommandIo = {}): Command {
  const out = io.stdout ?? ((text: string) => void process.stdout.write(text));
  const err = io.stderr ?? log;
  const env = io.env ?? process.env;
  const registry = io.compressors ?? COMPRESSORS;
  return new Command('compressors')
    .description('list the compressors (parameters, bits, known classes); --check estimates their class constants by Monte Carlo')
    .option('--check', 'estimate the constants of U(ζ), B¹(α,β), B²(γ,β), B³(δ) and compare with the known values')
    .option('--compressor <names>', 'only these compressors, comma-separated (default: all)', parseNameList)
    .option('--dataset <name|path|none>', 'dataset for the real gradients and the importance compressors; none: synthetic vectors only', 'mushrooms')
    .option('--data-dir <dir>', 'directory with LIBSVM files (searched first)')
    .option('--d <d>', 'dimension of the synthetic vectors with --dataset none (default 100); for the listing, the d at which known classes are shown', parseInteger(1))
    .option('--k <k>', 'k of the sparsifiers (default ⌈d/10⌉)', parseInteger(1))
    .option('--samples <S>', 'draws per vector for randomized compressors', parseInteger(2), 1000)
    .option('--seed <s>', 'seed of the test vectors and of the compressors', parseInteger(0), 0)
    .option('--confidence <c>', 'joint confidence of the worst-case intervals, in (0, 1)', parseConfidence, 0.99)
    .option('--ranks <r>', 'hosvd ranks: one for all modes or one per mode (default 2)', parseIntegerList(1))
    .option('--dims <a,b,c>', 'hosvd tensor dims (default: the most balanced order-3 dims)', parseIntegerList(1))
    .option('--float-bits <F>', 'bits per float on the wire', parseInteger(1), 32)
    .option('--step <eta>', 'η of the importance compressors (default 1/L of the dataset\'s logreg)', parsePositive)
    .option('--l2 <lambda>', 'logreg λ (default 1e-3)', parseNonNegative)
    .option('--inner-steps <M>', 'imp-b/imp-c inner steps', parseInteger(1))
    .option('--inner-step <tau0>', 'imp-b/imp-c inner step τ₀', parsePositive)
    .addOption(new Option('--format <fmt>', `table format: ${TABLE_FORMATS.join('|')}`).argParser(parseChoice(TABLE_FORMATS)).default('text'))
    .addHelpText('after', EXAMPLES)
    .action(async (opts: CompressorsOptions) => {
      const names = selectCompressors(registry, opts.compressor);
      if (!opts.check) {
        const d = opts.d ?? 100;
        const k = opts.k ?? Math.max(1, Math.ceil(d / 10));
        if (k > d) throw new UsageError(`--k: expected an integer with 1 ≤ k ≤ d = ${d}, got ${k}`);
        out(formatListing(names.map((n) => registry.get(n)!), d, k, opts.format));
        return;
      }
      await runCheck(names, registry, opts, out, err, env);
    });
}

function selectCompressors(registry: ReadonlyMap<string, CompressorSpec>, requested: string[] | undefined): string[] {
  if (requested === undefined) return [...registry.keys()];
  if (requested.length === 0) throw new UsageError(`--compressor: expected NAME[,NAME…]; known: ${[...registry.keys()].join(', ')}`);
  for (const name of requested) {
    if (!registry.has(name)) throw new UsageError(`--compressor: unknown compressor "${name}"; known: ${[...registry.keys()].join(', ')}`);
  }
  return requested;
}

/** A stand-in objective for --dataset none: compressors that need one are skipped before use. */
const NO_OBJECTIVE: LocalObjective = {
  d: 0,
  rows: 0,
  loss: () => {
    throw new DcompError('this compressor needs an objective: pass --dataset');
  },
  gradient: () => {
    throw new DcompError('this compressor needs an objective: pass --dataset');
  },
  batchGradient: () => {
    throw new DcompError('this compressor needs an objective: pass --dataset');
  },
};

async function runCheck(
  names: string[],
  registry: ReadonlyMap<string, CompressorSpec>,
  opts: CompressorsOptions,
  out: (text: string) => void,
  err: (text: string) => void,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const useData = opts.dataset !== 'none';
  if (useData && opts.d !== undefined) throw new UsageError('--d: the dimension comes from --dataset; use --dataset none to set it');
  let d: number;
  let objective: LocalObjective = NO_OBJECTIVE;
  let eta = opts.step ?? 1;
  const realVectors: { label: string; x: Float64Array; point: Float64Array }[] = [];
  if (useData) {
    const data = await loadDataset(opts.dataset, datasetLocations(opts.dataDir, env));
    d = data.X.cols;
    const all = new Int32Array(data.X.rows);
    for (let i = 0; i < all.length; i++) all[i] = i;
    const problem = problemSpec('logreg').create(data, { values: opts.l2 === undefined ? {} : { l2: opts.l2 }, shards: [all] });
    objective = problem.workers[0];
    if (opts.step === undefined) {
      const s = problem.smoothness();
      if (!s) throw new UsageError('--step: logreg has no smoothness constant here; pass --step');
      eta = 1 / s.L;
    }
    // real gradients at x = 0 and at a seeded x ~ N(0, I)
    const origin = new Float64Array(d);
    const random = new Float64Array(d);
    const rng = createRng(opts.seed, 'compressors-check', 'point');
    for (let i = 0; i < d; i++) random[i] = rng.normal();
    for (const [label, point] of [['∇f(0)', origin], ['∇f(x~N(0,I))', random]] as const) {
      const g = new Float64Array(d);
      problem.gradient(point, g);
      realVectors.push({ label, x: g, point });
    }
  } else {
    d = opts.d ?? 100;
  }
  const k = opts.k ?? Math.max(1, Math.ceil(d / 10));
  if (k > d) throw new UsageError(`--k: expected an integer with 1 ≤ k ≤ d = ${d}, got ${k}`);
  // The default rank 2 is capped at each mode's size (d = 3 makes dims 1×2×2), so that a default the user
  // never gave cannot fail; ranks the user gives are checked as given.
  const ranks = opts.ranks ?? (names.includes('hosvd') ? hosvdDims(d, opts.dims).map((n) => Math.min(2, n)) : [2]);

  const origin = new Float64Array(d);
  const ctxAt = (point: Float64Array): CompressContext => ({ x: point, objective, stepSize: eta });
  const vectors: CheckVector[] = [
    ...syntheticVectors(d, createRng(opts.seed, 'compressors-check', 'vectors')).map((v) => ({ label: v.label, x: v.x, ctx: ctxAt(origin) })),
    ...realVectors.map((v) => ({ label: v.label, x: v.x, ctx: ctxAt(v.point) })),
  ];
  const setup =
    `compressors --check: d = ${d}${useData ? ` (${opts.dataset}, logreg λ = ${opts.l2 ?? 1e-3}, η = ${formatNumber(eta)})` : ''}, k = ${k}, hosvd ranks ${ranks.join(',')}, ` +
    `${opts.samples} draws per vector for randomized compressors, confidence ${opts.confidence}, seed ${opts.seed}; ` +
    `vectors: ${vectors.map((v) => v.label).join(', ')}`;
  err(setup);

  const results: CompressorCheck[] = [];
  for (const name of names) {
    const spec = registry.get(name)!;
    if (spec.needsObjective && !useData) {
      err(`${name}: skipped (needs an objective; pass --dataset)`);
      continue;
    }
    const compressor = spec.create({
      d, floatBits: opts.floatBits, rng: createRng(opts.seed, 'compressors-check', name),
      values: { k, ranks, dims: opts.dims, inner_steps: opts.innerSteps, inner_step: opts.innerStep },
    });
    const known = knownFor(spec, d, k);
    results.push(checkCompressor(name, compressor, vectors, known, { samples: opts.samples, confidence: opts.confidence, randomized: spec.randomized }));
  }
  const caption =
    `Class constants estimated by Monte Carlo (d = ${d}${useData ? `, ${opts.dataset}` : ''}, k = ${k}, ${opts.samples} draws per vector, ` +
    `${vectors.length} test vectors, confidence ${opts.confidence}, seed ${opts.seed}).`;
  out(formatCheckTable(results, opts.format, caption));
  const violations = results.flatMap((r) => r.violations);
  if (violations.length > 0) {
    for (const v of violations) err(`violated: ${v}`);
    throw new DcompError(`compressors --check: ${violations.length} known bound${violations.length === 1 ? '' : 's'} violated beyond the ${opts.confidence} interval`);
  }
}

function knownFor(spec: CompressorSpec, d: number, k: number): KnownClasses | undefined {
  const known = spec.knownClasses?.(d, k);
  if (known === undefined) return undefined;
  // an unbiasedZeta without a knownClasses U entry still claims U(ζ)
  if (known.U === undefined && spec.unbiasedZeta !== undefined) return { ...known, U: { zeta: spec.unbiasedZeta(d, k) } };
  return known;
}

// ---------- tables ----------

const CLASS_LABEL = {
  text: { U: 'U(ζ)', B1: 'B¹(α,β)', B2: 'B²(γ,β)', B3: 'B³(δ)' },
  latex: { U: '$\\mathcal{U}(\\zeta)$', B1: '$\\mathbb{B}^1(\\alpha,\\beta)$', B2: '$\\mathbb{B}^2(\\gamma,\\beta)$', B3: '$\\mathbb{B}^3(\\delta)$' },
  csv: { U: 'U', B1: 'B1', B2: 'B2', B3: 'B3' },
} as const;

const CONSTANT_LABEL = {
  text: { bias: 'bias', zeta: 'ζ', alpha: 'α', beta: 'β', gamma: 'γ', delta: 'δ' },
  latex: { bias: 'bias', zeta: '$\\zeta$', alpha: '$\\alpha$', beta: '$\\beta$', gamma: '$\\gamma$', delta: '$\\delta$' },
  csv: { bias: 'bias', zeta: 'zeta', alpha: 'alpha', beta: 'beta', gamma: 'gamma', delta: 'delta' },
} as const;

type Style = 'text' | 'latex' | 'csv';
const styleOf = (format: TableFormat): Style => (format === 'markdown' ? 'text' : format);

/** 4 significant digits for people; the shortest round-trip form for CSV. */
function num(v: number | undefined, style: Style): string {
  if (style === 'csv') return formatNumber(v);
  if (v === undefined) return style === 'latex' ? '--' : '—';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return style === 'latex' ? (v > 0 ? '$\\infty$' : '$-\\infty$') : v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const s = Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6 ? String(Number(v.toPrecision(4))) : v.toExponential(3);
  return style === 'latex' && s.startsWith('-') ? `$-$${s.slice(1)}` : s;
}

function escapeLatex(s: string): string {
  return s.replace(/\\/g, '\\textbackslash{}').replace(/([&%$#_{}])/g, '\\$1').replace(/~/g, '\\textasciitilde{}').replace(/\^/g, '\\^{}');
}

function latexVector(label: string): string {
  // the two gradient labels are maths; everything else is plain text
  if (label === '∇f(0)') return '$\\nabla f(0)$';
  if (label === '∇f(x~N(0,I))') return '$\\nabla f(x),\\ x\\sim N(0,I)$';
  return escapeLatex(label);
}

function renderTable(header: string[], rows: string[][], format: TableFormat, rightAlign: boolean[], caption?: string): string {
  switch (format) {
    case 'csv':
      return csvLines([header, ...rows]);
    case 'markdown': {
      const esc = (c: string) => c.replace(/\|/g, '\\|');
      const lines = [`| ${header.map(esc).join(' | ')} |`, `|${rightAlign.map((r) => (r ? '---:' : '---')).join('|')}|`];
      for (const r of rows) lines.push(`| ${r.map(esc).join(' | ')} |`);
      return lines.join('\n') + '\n';
    }
    case 'latex': {
      const lines = [
        '% requires \\usepackage{booktabs} (and amssymb for \\mathbb)',
        '\\begin{table}[t]',
        '\\centering',
        ...(caption ? [`\\caption{${escapeLatex(caption)}}`] : []),
        `\\begin{tabular}{${rightAlign.map((r) => (r ? 'r' : 'l')).join('')}}`,
        '\\toprule',
        header.map(escapeLatex).join(' & ') + ' \\\\',
        '\\midrule',
        ...rows.map((r) => r.join(' & ') + ' \\\\'),
        '\\bottomrule',
        '\\end{tabular}',
        '\\end{table}',
      ];
      return lines.join('\n') + '\n';
    }
    default: {
      const widths = header.map((h, c) => Math.max([...h].length, ...rows.map((r) => [...r[c]].length)));
      const pad = (s: string, w: number, right: boolean) => {
        const fill = ' '.repeat(Math.max(0, w - [...s].length));
        return right ? fill + s : s + fill;
      };
      const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i], rightAlign[i])).join('  ').trimEnd() + '\n';
      return line(header) + line(widths.map((w) => '-'.repeat(w))) + rows.map(line).join('');
    }
  }
}

function knownSummary(known: KnownClasses | undefined, style: Style): string {
  if (!known) return style === 'csv' ? '' : style === 'latex' ? '--' : '—';
  const n = (v: number) => num(v, style === 'latex' ? 'text' : style);
  const parts: string[] = [];
  if (known.U) parts.push(`U(ζ=${n(known.U.zeta)})`);
  if (known.B1) parts.push(`B¹(α=${n(known.B1.alpha)}, β=${n(known.B1.beta)})`);
  if (known.B2) parts.push(`B²(γ=${n(known.B2.gamma)}, β=${n(known.B2.beta)})`);
  if (known.B3) parts.push(`B³(δ=${n(known.B3.delta)})`);
  const text = parts.join(' ');
  if (style !== 'latex') return text;
  return escapeLatex(text).replace(/ζ/g, '$\\zeta$').replace(/α/g, '$\\alpha$').replace(/β/g, '$\\beta$').replace(/γ/g, '$\\gamma$').replace(/δ/g, '$\\delta$')
    .replace(/U\(/g, '$\\mathcal{U}$(').replace(/B¹/g, '$\\mathbb{B}^1$').replace(/B²/g, '$\\mathbb{B}^2$').replace(/B³/g, '$\\mathbb{B}^3$');
}

/** `--k` or `--inner-steps=20` (with its declared default): the flag and the YAML key are derived from the same name. */
function describeOption(decl: OptionDecl): string {
  const flag = flagName(decl.name);
  if (decl.default !== undefined && decl.type.takesArgument) return `${flag}=${decl.type.format(decl.default as never)}`;
  return decl.required ? flag : `[${flag}]`;
}

/** The listing of `dcomp compressors`: name, parameters, bits, randomness, known classes at (d, k). */
export function formatListing(specs: readonly CompressorSpec[], d: number, k: number, format: TableFormat): string {
  const style = styleOf(format);
  const header = ['compressor', 'parameters', 'bits', 'randomized', `known classes (d=${d}, k=${k})`, 'description'];
  const cell = (s: string) => (style === 'latex' ? escapeLatex(s) : s);
  const rows = specs.map((s) => [
    cell(s.name),
    cell(s.options.length > 0 ? s.options.map(describeOption).join(' ') + (s.needsObjective ? ' (needs f_i, x, η)' : '') : '—'),
    cell(s.bitsFormula),
    s.randomized ? 'yes' : 'no',
    knownSummary(knownFor(s, d, k), style),
    cell(s.description),
  ]);
  const note = format === 'text' ? `F = --float-bits (default 32); I = --index-bits (default ⌈log2 d⌉; 0 counts values only). Known classes: seed 000 Lemmas 5–8 (spec §3).\n` : '';
  return renderTable(header, rows, format, header.map(() => false), `Compressors, bits and known classes at d=${d}, k=${k}`) + note;
}

function statusCell(row: ConstantRow, style: Style): string {
  if (row.status === 'violated') return style === 'csv' ? 'violated' : 'VIOLATED';
  if (row.status === 'ok') return 'ok';
  return style === 'csv' ? '' : style === 'latex' ? '--' : '—';
}

/** The check table: one row per compressor and constant, estimate and interval next to the known value. */
export function formatCheckTable(results: readonly CompressorCheck[], format: TableFormat, caption?: string): string {
  const style = styleOf(format);
  const confidence = results[0]?.confidence;
  const ci = confidence === undefined ? 'CI' : `${Number((confidence * 100).toPrecision(4))}% CI`;
  const header =
    style === 'csv'
      ? ['compressor', 'class', 'constant', 'worst_case', 'known', 'estimate', 'ci_low', 'ci_high', 'confidence', 'samples', 'worst_vector', 'status']
      : ['compressor', 'class', 'constant', 'worst', 'known', 'estimate', `${ci} low`, `${ci} high`, 'samples', 'worst vector', 'status'];
  const rows: string[][] = [];
  for (const r of results) {
    for (const row of r.rows) {
      const name = style === 'latex' ? escapeLatex(r.compressor) : r.compressor;
      const vector = style === 'latex' ? latexVector(row.worstVector) : row.worstVector;
      const base = [name, CLASS_LABEL[style][row.className], CONSTANT_LABEL[style][row.constant], row.worst, num(row.known, style), num(row.estimate, style), num(row.low, style), num(row.high, style)];
      rows.push(
        style === 'csv'
          ? [...base, formatNumber(r.confidence), String(r.samples), vector, statusCell(row, style)]
          : [...base, String(r.samples), vector, statusCell(row, style)],
      );
    }
  }
  const right = header.map((_, i) => i >= 4 && i <= (style === 'csv' ? 9 : 8));
  return renderTable(header, rows, format, right, caption);
}

export default compressorsCommand;
