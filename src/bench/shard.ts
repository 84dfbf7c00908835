/**
 * Sharding for clusters: `--shard i/m` runs the units whose matrix index ≡ i−1 (mod m) (see
 * matrix.ts shardUnits), and `dcomp merge` puts the shards' runs back into matrix order. Merge takes
 * the experiment file to know that order: the CSV carries run ids, not positions, and the expansion of
 * the experiment (the same code the bench uses) maps each run id back to its position.
 */
import { UsageError } from '../core/errors.js';
import { BENCH_COLUMNS, csvLines } from '../report/csv.js';
import { parseCsvRecords } from '../report/read-csv.js';
import type { RunUnit } from './matrix.js';

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
  /** Runs found in more than one input (the first file's copy is kept). */
  readonly duplicates: readonly string[];
}

/**
 * Joins bench files of one experiment into the file an unsharded bench writes: the header, then each
 * unit's block in matrix order. Every unit must be present exactly once (a missing one is an error that
 * names it), and every run in the inputs must belong to the experiment.
 */
export function mergeShards(inputs: readonly ShardFile[], units: readonly RunUnit[], experiment: string): MergeResult {
  const blocks = new Map<string, { file: string; records: string[][] }>();
  const duplicates: string[] = [];
  const header = [...BENCH_COLUMNS];
  const cRunId = header.indexOf('run_id');
  const cExperiment = header.indexOf('experiment');
  for (const { file, text } of inputs) {
    const records = parseCsvRecords(text).filter((r) => !(r.cells.length === 1 && r.cells[0] === ''));
    if (records.length === 0) throw new UsageError(`${file}: empty; expected a dcomp bench CSV`);
    const head = records[0].cells;
    if (head.length !== header.length || head.some((c, i) => c !== header[i])) {
      throw new UsageError(`${file}:1: not a dcomp bench file; expected the header ${header.join(',')}`);
    }
    const seenHere = new Set<string>();
    for (const r of records.slice(1)) {
      if (!r.terminated || r.cells.length !== header.length) {
        throw new UsageError(`${file}:${r.line}: incomplete line (expected ${header.length} cells); finish the shard with --resume before merging`);
      }
      if (r.cells[cExperiment] !== experiment) {
        throw new UsageError(`${file}:${r.line}: experiment "${r.cells[cExperiment]}", but the experiment file is "${experiment}"`);
      }
      const id = r.cells[cRunId];
      const existing = blocks.get(id);
      if (existing && existing.file !== file) {
        if (!seenHere.has(id)) duplicates.push(id);
        seenHere.add(id);
        continue;
      }
      seenHere.add(id);
      if (existing) existing.records.push(r.cells);
      else blocks.set(id, { file, records: [r.cells] });
    }
  }
  const out: string[][] = [];
  const missing: string[] = [];
  const used = new Set<string>();
  for (const unit of units) {
    const found = unit.runs.filter((run) => blocks.has(run.id));
    if (found.length === 0) {
      missing.push(`#${unit.index + 1} (run_id ${unit.runs.map((r) => r.id).join(' or ')})`);
      continue;
    }
    if (found.length > 1) throw new UsageError(`runs ${found.map((r) => r.id).join(', ')} are alternatives of one step sweep (select: best); only one may be present`);
    used.add(found[0].id);
    out.push(...blocks.get(found[0].id)!.records);
  }
  const extra = [...blocks.keys()].filter((id) => !used.has(id));
  if (extra.length > 0) throw new UsageError(`runs not in the experiment "${experiment}": ${extra.join(', ')} (from ${[...new Set(extra.map((id) => blocks.get(id)!.file))].join(', ')})`);
  if (missing.length > 0) throw new UsageError(`missing ${missing.length} of ${units.length} runs of "${experiment}": ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', …' : ''}; are all shards given and finished?`);
  return { text: csvLines([header, ...out]), runs: units.length, duplicates };
}
