/**
 * Sharding for clusters: `--shard i/m` runs the units whose matrix index ≡ i−1 (mod m) (see
 * matrix.ts shardUnits), and `dcomp merge` puts the shards' runs back into matrix order. Merge takes
 * the experiment file to know that order: the CSV carries run ids, not positions, and the expansion of
 * the experiment (the same code the bench uses) maps each run id back to its position.
 */
import { DataFormatError, DcompError, UsageError } from '../core/errors.js';
import { escapeControl, quoted } from '../core/text.js';
import { BENCH_COLUMNS, csvLines } from '../report/csv.js';
import { parseCsvRecords, type CsvRecord } from '../report/read-csv.js';
import type { PlannedRun, RunUnit } from './matrix.js';
import { checkRunBlock, runBlocks } from './run-block.js';

export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Parses `i/m` with 1 ≤ i ≤ m. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard: expected i/m with 1 ≤ i ≤ m (e.g. 2/4 for the second of four slices), got "${text}"`);
  }
  return { index, count };
}

export interface ShardFile {
  readonly file: string;
  readonly text: string;
}

export interface MergeResult {
  readonly text: string;
  readonly runs: number;
  /** Runs found in more than one input with the same rows (apart from time_ms); the first file's copy is kept. */
  readonly duplicates: readonly string[];
}

interface Block {
  readonly file: string;
  readonly records: readonly CsvRecord[];
}

/** The first cell (other than time_ms) where two copies of a run differ, for the message; undefined when none. */
function firstDifference(a: Block, b: Block, header: readonly string[]): string | undefined {
  const cTime = header.indexOf('time_ms');
  if (a.records.length !== b.records.length) return `${a.records.length} rows in one, ${b.records.length} in the other`;
  for (let i = 0; i < a.records.length; i++) {
    const x = a.records[i].cells;
    const y = b.records[i].cells;
    for (let j = 0; j < header.length; j++) {
      if (j !== cTime && x[j] !== y[j]) return `${header[j]} ${quoted(x[j])} at ${escapeControl(a.file)}:${a.records[i].line}, ${quoted(y[j])} at ${escapeControl(b.file)}:${b.records[i].line}`;
    }
  }
  return undefined;
}

/**
 * Joins bench files of one experiment into the file an unsharded bench writes: the header, then each
 * unit's block in matrix order. Nothing is trusted: every file must have the bench header and whole
 * lines; every run's block must be exactly the rows its configuration implies (run-block.ts); a run may
 * appear once per file, and in several files only as identical copies (apart from time_ms). Those are
 * errors naming the file and line (exit 1). A run that is missing, or that is not in the experiment,
 * means the wrong files or experiment were given (exit 2).
 */
export function mergeShards(inputs: readonly ShardFile[], units: readonly RunUnit[], experiment: string): MergeResult {
  const header = [...BENCH_COLUMNS];
  const cRunId = header.indexOf('run_id');
  const cExperiment = header.indexOf('experiment');
  const planned = new Map<string, PlannedRun>();
  for (const unit of units) for (const run of unit.runs) planned.set(run.id, run);
  const blocks = new Map<string, Block>();
  const duplicates: string[] = [];
  const foreign = new Map<string, string>(); // run id → file
  for (const { file, text } of inputs) {
    const shown = escapeControl(file);
    const records = parseCsvRecords(text).filter((r) => !(r.cells.length === 1 && r.cells[0] === ''));
    if (records.length === 0) throw new DataFormatError(shown, 1, 'empty file; expected a dcomp bench CSV');
    const head = records[0].cells;
    const missing = header.filter((c) => !head.includes(c));
    if (missing.length > 0) throw new DataFormatError(shown, 1, `missing column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')}; expected the dcomp bench header ${header.join(',')}`);
    if (head.length !== header.length || head.some((c, i) => c !== header[i])) {
      throw new DataFormatError(shown, 1, `not the dcomp bench header (columns differ or are in another order); expected ${header.join(',')}`);
    }
    const body = records.slice(1);
    for (const r of body) {
      if (!r.terminated || r.cells.length !== header.length) {
        throw new DataFormatError(shown, r.line, `incomplete line (${r.cells.length} of ${header.length} cells${r.terminated ? '' : ', no line end'}); finish the shard with --resume before merging`);
      }
      if (r.cells[cExperiment] !== experiment) {
        throw new UsageError(`${shown}:${r.line}: experiment ${quoted(r.cells[cExperiment])}, but the experiment file is ${quoted(experiment)}`);
      }
    }
    const seenHere = new Map<string, number>(); // run id → line of its block in this file
    for (const records of runBlocks(body, cRunId)) {
      const id = records[0].cells[cRunId];
      const line = records[0].line;
      const earlier = seenHere.get(id);
      if (earlier !== undefined) throw new DataFormatError(shown, line, `run ${quoted(id)} appears twice in this file (its rows start at lines ${earlier} and ${line})`);
      seenHere.set(id, line);
      const run = planned.get(id);
      if (run === undefined) {
        if (!foreign.has(id)) foreign.set(id, file);
        continue;
      }
      const problem = checkRunBlock(records, header, run, experiment);
      if (problem !== undefined) {
        throw new DataFormatError(shown, problem.line, `run ${id}: ${problem.reason}${problem.kind === 'partial' ? '; finish the shard with --resume before merging' : ''}`);
      }
      const block: Block = { file, records };
      const existing = blocks.get(id);
      if (existing === undefined) {
        blocks.set(id, block);
        continue;
      }
      const difference = firstDifference(existing, block, header);
      if (difference !== undefined) throw new DcompError(`run ${id} has two different copies, in ${escapeControl(existing.file)} and ${shown}: ${difference}; keep the right one`);
      duplicates.push(id);
    }
  }
  if (foreign.size > 0) {
    const extra = [...foreign.keys()];
    throw new UsageError(`runs not in the experiment ${quoted(experiment)}: ${extra.map((id) => escapeControl(id)).join(', ')} (from ${[...new Set(foreign.values())].map((f) => escapeControl(f)).join(', ')})`);
  }
  const out: string[][] = [];
  const missing: string[] = [];
  for (const unit of units) {
    const found = unit.runs.filter((run) => blocks.has(run.id));
    if (found.length === 0) {
      missing.push(`#${unit.index + 1} (run_id ${unit.runs.map((r) => r.id).join(' or ')})`);
      continue;
    }
    if (found.length > 1) throw new UsageError(`runs ${found.map((r) => r.id).join(', ')} are alternatives of one step sweep (select: best); only one may be present`);
    out.push(...blocks.get(found[0].id)!.records.map((r) => r.cells));
  }
  if (missing.length > 0) throw new UsageError(`missing ${missing.length} of ${units.length} runs of ${quoted(experiment)}: ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', …' : ''}; are all shards given and finished?`);
  return { text: csvLines([header, ...out]), runs: units.length, duplicates };
}
