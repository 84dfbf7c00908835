/**
 * `--resume`: a bench file holds whole runs in matrix order, so resuming is finding how many runs at
 * the start of the file can be proven complete, cutting the file just after them and running the rest.
 *
 * Nothing is trusted: the k-th block (consecutive rows with one run_id) is kept only when it is run k of
 * the experiment and exactly the rows its configuration implies (run-block.ts: every logged iteration
 * once, in order, a final status, its configuration on every row). The first block that is not is
 * recomputed, with every run after it. A partial last run (kill -9 mid-write) is the expected case and
 * only dropped; a missing, duplicated or altered row in the middle of the file is reported as damage.
 *
 * A file that is not this experiment's (another header, another experiment's name, a first run that is
 * not one of this experiment or shard) is refused rather than cut: it may be someone else's results.
 */
import { UsageError } from '../core/errors.js';
import { escapeControl, quoted } from '../core/text.js';
import { BENCH_COLUMNS } from '../report/csv.js';
import { parseCsvRecords } from '../report/read-csv.js';
import type { RunUnit } from './matrix.js';
import { checkRunBlock, runBlocks } from './run-block.js';

export interface ResumePlan {
  /** Bytes of the existing file to keep (0: start afresh, header included). */
  readonly keepBytes: number;
  /** Units already complete in the file (they are the first `done` units of the list). */
  readonly done: number;
  /** Lines dropped from the end (a partial trailing run, or everything from a damaged run on), for the message. */
  readonly droppedLines: number;
  /**
   * Why the run after the kept ones could not be trusted, when that is more than a partial last run
   * (`file:line: …; it and the runs after it are recomputed`).
   */
  readonly damage?: string;
}

export function planResume(text: string, file: string, units: readonly RunUnit[], experiment: string): ResumePlan {
  const records = parseCsvRecords(text);
  if (records.length === 0 || !records[0].terminated) return { keepBytes: 0, done: 0, droppedLines: records.length };
  const header = records[0].cells;
  const shown = escapeControl(file);
  if (header.length !== BENCH_COLUMNS.length || header.some((c, i) => c !== BENCH_COLUMNS[i])) {
    throw new UsageError(`${shown}: --resume: the header is not that of a dcomp bench file (${BENCH_COLUMNS.join(',')}); choose another --out or remove the file`);
  }
  const cRunId = header.indexOf('run_id');
  const cExperiment = header.indexOf('experiment');
  const body = records.slice(1);
  const blocks = runBlocks(body, cRunId);
  const unitOf = new Map<string, number>();
  units.forEach((u, i) => u.runs.forEach((r) => unitOf.set(r.id, i)));

  // Whose file is it? Judged on its first whole row, which a crash cannot have cut.
  const firstWhole = body.find((r) => r.terminated && r.cells.length === header.length);
  if (firstWhole !== undefined) {
    const foreignExperiment = firstWhole.cells[cExperiment] !== experiment;
    if (foreignExperiment || !unitOf.has(firstWhole.cells[cRunId])) {
      const unit = units[0];
      throw new UsageError(
        `${shown}:${firstWhole.line}: --resume: run 1 of the file (experiment ${quoted(firstWhole.cells[cExperiment])}, run_id ${quoted(firstWhole.cells[cRunId])}) is not ${unit === undefined ? 'a run' : 'run 1'} of this experiment` +
          `${unit === undefined ? '' : ` (run_id ${unit.runs.map((r) => r.id).join(' or ')})`}; it was written by another experiment file, shard or dcomp version, or a dataset's content changed since (run ids hash it). Rerun without --resume or choose another --out`,
      );
    }
  }

  let keepChars = records[0].end;
  let done = 0;
  let damage: string | undefined;
  for (let b = 0; b < blocks.length; b++) {
    const block = blocks[b];
    const first = block[0];
    const id = first.cells[cRunId];
    const isLast = b === blocks.length - 1;
    const where = `${shown}:${first.line}`;
    if (done >= units.length) {
      if (!isLast || (first.terminated && first.cells.length === header.length)) {
        throw new UsageError(`${where}: --resume: the file has more runs than the experiment (${units.length}); it was written by another experiment or shard`);
      }
      break; // a cut line after the last run
    }
    const unit = units[done];
    const run = unit.runs.find((r) => r.id === id);
    if (run === undefined) {
      if (!isLast || first.cells.length === header.length) {
        const at = unitOf.get(id);
        damage = `${where}: run_id ${quoted(id)} where run ${done + 1} (run_id ${unit.runs.map((r) => r.id).join(' or ')}) belongs: ${at === undefined ? 'a run this experiment does not have (an altered row?)' : `run ${at + 1} out of place (a run missing or repeated)`}`;
      }
      break;
    }
    const problem = checkRunBlock(block, header, run, experiment);
    if (problem !== undefined) {
      if (problem.kind === 'damaged' || !isLast) damage = `${shown}:${problem.line}: run ${done + 1} (run_id ${id}): ${problem.reason}`;
      break;
    }
    keepChars = block[block.length - 1].end;
    done++;
  }
  const droppedLines = body.filter((r) => r.end > keepChars).length;
  return { keepBytes: Buffer.byteLength(text.slice(0, keepChars), 'utf8'), done, droppedLines, damage };
}
