import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { DcompError, UsageError } from '../core/errors.js';
import { SPEC_VERSION } from '../core/version.js';
import type { Experiment } from '../bench/experiment.js';
import { evaluateClaims } from '../report/claims.js';
import { buildPage, type Measured, type PageFigure } from '../report/markdown.js';
import { readResultsCsv } from '../report/read-csv.js';
import { loadBenchExperiment, packageRoot, resolveExperimentFile } from './bench.js';
import { log } from './io.js';
import { writeOutputFile } from './output.js';
import { DEFAULT_WORKERS, trafficRows, trafficText } from './traffic.js';

const HELP = `
Writes one markdown page from a bench result and its experiment file: what was run, the claims'
verdict table with a sentence for each claim that does not hold (where it holds instead, computed from
the data), the figures (terminal text in a code block and an SVG beside the page, one per entry of the
file's report.figures, else its plot:), the dcomp traffic table when report.traffic asks for it, the
final values of every run and the experiment file itself. The SVGs are named after the page
(PAGE-1.svg, …). The page never overwrites its inputs.

Examples:
  $ dcomp report results/kasiuk-logreg/2/results.csv --experiment experiments/repro/kasiuk-logreg.yaml --out kasiuk.md
  $ dcomp reproduce kasiuk-logreg       # bench, claims and this page in one go`;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return `dcomp ${pkg.version}, spec version ${SPEC_VERSION}`;
}

export function machineDescription(): string {
  const model = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  return `${availableParallelism()} cores available (${model}), Node ${process.version}`;
}


export interface ReportRequest {
  readonly csvFile: string;
  /** As the user named it (shown on the page) and the experiment it parses to. */
  readonly experimentFile: string;
  readonly experiment: Experiment;
  readonly out: string;
  readonly measured?: Measured;
  readonly regenerate?: string;
  /** Create the page's directory when missing (default paths only; an explicit path must exist). */
  readonly createDirectories?: boolean;
}

export function figuresOf(experiment: Experiment): PageFigure[] {
  if (experiment.report.figures.length > 0) return [...experiment.report.figures];
  return [{ x: experiment.plot.x ?? 'iteration', y: experiment.plot.y ?? 'grad_norm_sq', logX: Boolean(experiment.plot.log_x), filter: [] }];
}

/** Builds the page and writes it and its SVGs; returns the files written. */
export function writeReport(r: ReportRequest): string[] {
  const page = resolve(r.out);
  const experimentPath = resolveExperimentFile(r.experimentFile);
  for (const input of [resolve(r.csvFile), experimentPath]) {
    if (page === input) throw new UsageError(`--out: ${r.out} is an input of the report; choose another file`);
  }
  const table = readResultsCsv(r.csvFile);
  const e = r.experiment;
  const verdicts = evaluateClaims(e.claims, table);
  const figures = figuresOf(e);
  const stem = basename(r.out).replace(/\.md$/i, '');
  const svgNames = figures.map((_, i) => `${stem}-${i + 1}.svg`);
  const sections: Array<{ title: string; markdown: string }> = [];
  if (e.report.traffic) {
    const t = e.report.traffic;
    const workers = t.workers ?? DEFAULT_WORKERS;
    const rows = trafficRows({ methods: t.methods, k: t.k, d: t.d, workers, floatBits: 32 });
    sections.push({
      title: `Traffic per step (the model of spec §4), k = ${t.k}, d = ${t.d}`,
      markdown: `\`dcomp traffic --method ${t.methods.join(',')} --k ${t.k} --d ${t.d} --workers ${workers.join(',')}\`:\n\n\`\`\`text\n${trafficText(rows).trimEnd()}\n\`\`\`\n`,
    });
  }
  let text: string;
  try {
    text = readFileSync(experimentPath, 'utf8');
  } catch (err) {
    throw new DcompError(`${r.experimentFile}: cannot read: ${(err as Error).message}`);
  }
  const built = buildPage({
    name: e.name,
    title: e.report.title,
    description: e.description,
    experimentFile: r.experimentFile,
    experimentText: text,
    resultsFile: r.csvFile,
    table,
    claims: e.claims,
    verdicts,
    figures,
    sections,
    measured: r.measured,
    generator: packageVersion(),
    regenerate: r.regenerate ?? `dcomp report ${r.csvFile} --experiment ${r.experimentFile} --out ${r.out}`,
    svgNames,
  });
  const written: string[] = [];
  for (const f of built.files) {
    const file = join(dirname(r.out), f.name);
    if ([resolve(r.csvFile), experimentPath].includes(resolve(file))) throw new UsageError(`--out: the figure ${file} would overwrite an input`);
    writeOutputFile(file, f.content, { inputs: [r.csvFile, experimentPath], command: `dcomp report ${r.out}`, createDirectories: r.createDirectories });
    written.push(file);
  }
  writeOutputFile(r.out, built.markdown, { inputs: [r.csvFile, experimentPath], command: `dcomp report ${r.out}`, createDirectories: r.createDirectories });
  written.unshift(r.out);
  return written;
}

export function reportCommand(): Command {
  return new Command('report')
    .description('a markdown page (claims, figures as text and SVG, final values, configuration) from a bench result')
    .argument('<file>', 'results CSV written by dcomp bench')
    .requiredOption('--experiment <file>', 'the experiment file the CSV was run from')
    .requiredOption('--out <page.md>', 'markdown file to write (SVG figures go beside it)')
    .addHelpText('after', HELP)
    .action((file: string, opts: { experiment: string; out: string }) => {
      const experiment = loadBenchExperiment(opts.experiment, false);
      const written = writeReport({ csvFile: file, experimentFile: opts.experiment, experiment, out: opts.out });
      log(`wrote ${written.join(', ')}`);
    });
}
