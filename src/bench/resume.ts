/**
 * `--resume`: a bench file holds whole runs in matrix order, so resuming is finding the last complete
 * run, cutting the file just after it and running the units after it.
 *
 * A run's block is complete when every one of its lines ends with a newline and has every column, and
 * its last row either has status ≠ ok (it stopped early: diverged/errored) or is the run's last
 * iteration (`iteration` = the configuration's `iters`, which spec §5 always logs). Anything after the
 * last complete block (a run cut by kill -9 mid-write, a half line) is dropped.
 */
import { UsageError } from '../core/errors.js';
import { BENCH_COLUMNS } from '../report/csv.js';
import { parseCsvRecords } from '../report/read-csv.js';
import type { RunUnit } from './matrix.js';

export interface ResumePlan {
  /** Bytes of the existing file to keep (0: start afresh, header included). */
  readonly keepBytes: number;
  /** Units already complete in the file (they are the first `done` units of the list). */
  readonly done: number;
  /** Lines dropped from the end (a partial trailing run), for the message. */
  readonly droppedLines: number;
}

export function planResume(text: string, file: string, units: readonly RunUnit[], experiment: string): ResumePlan {
  const records = parseCsvRecords(text);
  if (records.length === 0 || !records[0].terminated) return { keepBytes: 0, done: 0, droppedLines: records.length };
  const header = records[0].cells;
  if (header.length !== BENCH_COLUMNS.length || header.some((c, i) => c !== BENCH_COLUMNS[i])) {
    throw new UsageError(`${file}: --resume: the header is not that of a dcomp bench file (${BENCH_COLUMNS.join(',')}); choose another --out or remove the file`);
  }
  const col = (name: string) => BENCH_COLUMNS.indexOf(name as (typeof BENCH_COLUMNS)[number]);
  const cRunId = col('run_id');
  const cIteration = col('iteration');
  const cStatus = col('status');
  const cExperiment = col('experiment');

  let keepChars = records[0].end;
  let done = 0;
  let i = 1;
  while (i < records.length) {
    const first = records[i];
    if (first.cells.length !== header.length) break;
    const id = first.cells[cRunId];
    let j = i;
    while (j + 1 < records.length && records[j + 1].cells[cRunId] === id) j++;
    if (done >= units.length) {
      throw new UsageError(`${file}:${first.line}: --resume: the file has more runs than the experiment (${units.length}); it was written by another experiment or shard`);
    }
    const unit = units[done];
    const run = unit.runs.find((r) => r.id === id);
    if (first.cells[cExperiment] !== experiment || run === undefined) {
      throw new UsageError(
        `${file}:${first.line}: --resume: run ${done + 1} of the file (experiment "${first.cells[cExperiment]}", run_id ${id}) is not run ${done + 1} of this experiment ` +
          `(run_id ${unit.runs.map((r) => r.id).join(' or ')}); it was written by another experiment file, shard or dcomp version. Rerun without --resume or choose another --out`,
      );
    }
    const block = records.slice(i, j + 1);
    const last = block[block.length - 1];
    const whole = block.every((r) => r.terminated && r.cells.length === header.length);
    const finished = last.cells[cStatus] !== 'ok' || last.cells[cIteration] === String(run.config.iters);
    if (!whole || !finished) break;
    keepChars = last.end;
    done++;
    i = j + 1;
  }
  const droppedLines = records.slice(i).length;
  return { keepBytes: Buffer.byteLength(text.slice(0, keepChars), 'utf8'), done, droppedLines };
}
