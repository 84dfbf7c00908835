/**
 * The reproduction page `dcomp report` writes: one markdown file (and its SVG figures) from a bench
 * result and its experiment file — what was run, the figures (terminal text and SVG), the claims'
 * verdicts with a sentence for each claim that does not hold, the final values of every run and the
 * experiment file itself. Pure: everything the page shows is passed in or computed from the table.
 */
import { describeClaim, explainFailure, formatValue, matchesFilters, verdictMarkdown, type Claim, type ClaimVerdict } from './claims.js';
import { defaultLogScale, renderSeries, scaleNote, seriesFromTable } from './plot.js';
import { parseNumberCell, type ResultTable } from './read-csv.js';
import { renderSvg } from './svg.js';

export interface PageFigure {
  readonly x: string;
  readonly y: string;
  readonly logX: boolean;
  readonly logY?: boolean;
  /** Runs whose column (or params entry) is one of the values, for every column given. */
  readonly filter: ReadonlyArray<readonly [string, readonly string[]]>;
  readonly title?: string;
}

/** How the bench that produced the table went, when the page is made right after it. */
export interface Measured {
  readonly wallMs: number;
  readonly jobs: number;
  /** Runs executed, step sweeps included. */
  readonly runsExecuted: number;
  /** e.g. "2 × Intel Xeon …, Node 20.11.0". */
  readonly machine: string;
}

export interface PageInput {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  /** The experiment file as the user named it, and its text. */
  readonly experimentFile: string;
  readonly experimentText: string;
  readonly resultsFile: string;
  readonly table: ResultTable;
  readonly claims: readonly Claim[];
  readonly verdicts: readonly ClaimVerdict[];
  readonly figures: readonly PageFigure[];
  /** Extra sections, already rendered (e.g. the `dcomp traffic` table). */
  readonly sections: ReadonlyArray<{ readonly title: string; readonly markdown: string }>;
  readonly measured?: Measured;
  /** "dcomp 0.1.0 (spec version 2)". */
  readonly generator: string;
  /** How to regenerate this page, e.g. `dcomp reproduce kasiuk-logreg`. */
  readonly regenerate: string;
  /** File names (relative to the page) for the SVG figures, one per figure. */
  readonly svgNames: readonly string[];
}

export interface Page {
  readonly markdown: string;
  readonly files: ReadonlyArray<{ readonly name: string; readonly content: string }>;
}

/** The machine-readable line at the end of a page (read back by `dcomp reproduce --list`). */
export const MEASURED_MARK = 'dcomp-measured';

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 90) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - 60 * m)} s`;
}

function runsSummary(table: ResultTable): { runs: number; rows: number } {
  return { runs: new Set(table.rows.map((r) => r.run_id)).size, rows: table.rows.length };
}

const FINAL_CONFIG = ['dataset', 'problem', 'method', 'compressor', 'k', 'workers', 'split', 'l2', 'batch', 'x0', 'params'];
const FINAL_METRICS = ['grad_norm_sq', 'loss', 'loss_gap', 'train_acc', 'test_acc', 'bits_up_per_worker', 'time_ms'];

/** One line per run: the configuration that varies, the step used, and the last row's metrics. */
export function finalValuesTable(table: ResultTable): string {
  const byRun = new Map<string, Readonly<Record<string, string>>[]>();
  for (const row of table.rows) {
    const list = byRun.get(row.run_id);
    if (list) list.push(row);
    else byRun.set(row.run_id, [row]);
  }
  const firsts = [...byRun.values()].map((rows) => rows[0]);
  const config = FINAL_CONFIG.filter((c) => table.columns.includes(c) && new Set(firsts.map((r) => r[c])).size > 1);
  const metrics = FINAL_METRICS.filter((c) => table.columns.includes(c) && table.rows.some((r) => r[c] !== ''));
  const head = ['run_id', ...config, 'step', 'iteration', ...metrics, 'status'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const rows of byRun.values()) {
    const last = rows[rows.length - 1];
    const num = (c: string) => {
      const v = parseNumberCell(last[c]);
      return v === undefined ? '' : c === 'time_ms' ? String(Math.round(v)) : formatValue(v);
    };
    const cells = [`\`${last.run_id}\``, ...config.map((c) => last[c]), num('step'), last.iteration, ...metrics.map(num), last.status];
    lines.push(`| ${cells.map((c) => (c ?? '').replace(/\|/g, '\\|')).join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

function describeFilter(f: PageFigure): string {
  return f.filter.map(([k, v]) => `${k}=${v.join('|')}`).join(', ');
}

function figureTitle(f: PageFigure, log: boolean): string {
  const filter = f.filter.length > 0 ? ` (${describeFilter(f)})` : '';
  return f.title ?? `${f.y} vs ${f.x}${filter}${scaleNote({ log, logX: f.logX })}`;
}

export function buildPage(input: PageInput): Page {
  const out: string[] = [];
  const files: Array<{ name: string; content: string }> = [];
  const { runs, rows } = runsSummary(input.table);
  out.push(`# ${input.title ?? input.name}`, '');
  if (input.description) out.push(input.description, '');
  out.push(
    `Generated by \`dcomp report\` (${input.generator}) from \`${input.resultsFile}\` (${runs} runs, ${rows} rows) and \`${input.experimentFile}\`. ` +
      `Do not edit by hand; regenerate with \`${input.regenerate}\`.`,
    '',
  );
  if (input.measured) {
    const m = input.measured;
    out.push(`Measured here: the bench took **${formatDuration(m.wallMs)}** of wall time with ${m.jobs} job(s), ${m.runsExecuted} runs including the step sweeps, on ${m.machine}.`, '');
  }

  out.push('## Claims', '');
  if (input.claims.length === 0) out.push('This experiment declares no claims.', '');
  else {
    for (const c of input.claims) out.push(`- \`${c.id}\`${c.statement ? `: ${c.statement}` : ''} — ${describeClaim(c)}.`);
    out.push('');
    out.push(verdictMarkdown(input.verdicts).trimEnd(), '');
    const failing = input.verdicts.filter((v) => v.verdict === 'does not hold');
    if (failing.length > 0) {
      out.push('### Where the claims that do not hold do hold', '');
      for (const v of failing) out.push(`- ${explainFailure(v, input.table)}`);
      out.push('');
    }
    const unknown = input.verdicts.filter((v) => v.verdict === 'cannot be evaluated');
    for (const v of unknown) {
      const reasons = v.reason ? [v.reason] : v.settings.filter((s) => s.reason).map((s) => s.reason as string);
      out.push(`- \`${v.claim.id}\` cannot be evaluated: ${[...new Set(reasons)].join('; ')}.`);
    }
    if (unknown.length > 0) out.push('');
  }

  out.push('## Figures', '');
  input.figures.forEach((f, i) => {
    const log = f.logY ?? defaultLogScale(f.y);
    const table = { ...input.table, rows: input.table.rows.filter((row) => matchesFilters(row, f.filter)) };
    const series = seriesFromTable(table, { x: f.x, y: f.y, log, logX: f.logX });
    const title = figureTitle(f, log);
    out.push(`### ${title}`, '');
    if (series.length === 0) {
      out.push(`No rows match ${describeFilter(f)}.`, '');
      return;
    }
    const name = input.svgNames[i];
    files.push({ name, content: renderSvg(series, { x: f.x, y: f.y, log, logX: f.logX, title }) });
    out.push(`![${title}](${name})`, '');
    out.push('```text', renderSeries(series, { x: f.x, y: f.y, log, logX: f.logX, color: false, title, width: 72, height: 16 }).trimEnd(), '```', '');
  });

  for (const s of input.sections) out.push(`## ${s.title}`, '', s.markdown.trimEnd(), '');

  out.push('## Final values of every run', '', finalValuesTable(input.table), '');
  out.push('## Configuration', '', `\`${input.experimentFile}\`:`, '', '```yaml', input.experimentText.trimEnd(), '```', '');
  if (input.measured) {
    const meta = { experiment: input.name, wall_ms: Math.round(input.measured.wallMs), jobs: input.measured.jobs, runs: input.measured.runsExecuted };
    out.push(`<!-- ${MEASURED_MARK} ${JSON.stringify(meta)} -->`, '');
  }
  return { markdown: out.join('\n'), files };
}

/** The measurement a page records (undefined when it has none). */
export function readMeasured(markdown: string): { wallMs: number; jobs: number; runs: number } | undefined {
  const m = new RegExp(`<!-- ${MEASURED_MARK} (\\{.*\\}) -->`).exec(markdown);
  if (!m) return undefined;
  try {
    const v = JSON.parse(m[1]) as { wall_ms?: unknown; jobs?: unknown; runs?: unknown };
    if (typeof v.wall_ms !== 'number' || typeof v.jobs !== 'number' || typeof v.runs !== 'number') return undefined;
    return { wallMs: v.wall_ms, jobs: v.jobs, runs: v.runs };
  } catch {
    return undefined;
  }
}
