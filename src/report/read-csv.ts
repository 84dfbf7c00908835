/**
 * Reading a results CSV back (the files `dcomp run` and `dcomp bench` write). Header-driven: callers ask
 * for columns by name, so the reader does not care about column order or extra columns.
 */
import { readFileSync } from 'node:fs';
import { DataFormatError, DcompError } from '../core/errors.js';

export interface CsvRecord {
  readonly cells: string[];
  /** 1-based line where the record starts. */
  readonly line: number;
  /** Offset (in UTF-16 code units of the text) just past the record's terminating newline, or the end of text. */
  readonly end: number;
  /** False for a last record that is not terminated by a newline (a write cut short). */
  readonly terminated: boolean;
}

/**
 * RFC 4180 parsing (quoted fields with "" escapes, LF or CRLF line ends), keeping where each record
 * ends so that `--resume` can cut a file exactly after its last complete run. A UTF-8 byte order mark
 * at the start (spreadsheet exports) is skipped; offsets still count it.
 */
export function parseCsvRecords(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const cells: string[] = [];
    let cell = '';
    let terminated = false;
    for (;;) {
      if (i >= n) break;
      const ch = text[i];
      if (ch === '"' && cell === '') {
        // quoted field
        i++;
        for (;;) {
          if (i >= n) break;
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          cell += c;
          i++;
        }
        continue;
      }
      if (ch === ',') {
        cells.push(cell);
        cell = '';
        i++;
        continue;
      }
      if (ch === '\n' || (ch === '\r' && text[i + 1] === '\n')) {
        i += ch === '\r' ? 2 : 1;
        line++;
        terminated = true;
        break;
      }
      cell += ch;
      i++;
    }
    cells.push(cell);
    records.push({ cells, line: startLine, end: i, terminated });
  }
  return records;
}

/** A results table: the header and one object per row, keyed by column name. */
export interface ResultTable {
  readonly file: string;
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<Readonly<Record<string, string>>>;
  /** The 1-based line of each row in the file, when read from one (for messages). */
  readonly lines?: readonly number[];
}

export function tableFromRecords(file: string, columns: readonly string[], records: readonly (readonly string[])[], lines?: readonly number[]): ResultTable {
  const rows = records.map((cells) => {
    const row: Record<string, string> = {};
    columns.forEach((c, j) => {
      row[c] = cells[j] ?? '';
    });
    return row;
  });
  return { file, columns, rows, lines };
}

/**
 * Parses a results CSV; every record must have as many cells as the header, and the columns named in
 * `required` must exist. Errors name the file and line.
 */
export function parseResultsCsv(text: string, file: string, required: readonly string[] = ['run_id', 'iteration']): ResultTable {
  const records = parseCsvRecords(text);
  if (records.length === 0) throw new DataFormatError(file, 1, 'empty file; expected a CSV header');
  const columns = records[0].cells;
  const missing = required.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new DataFormatError(file, 1, `missing column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')} in the header; expected a dcomp results CSV`);
  }
  const body = records.slice(1).filter((r) => !(r.cells.length === 1 && r.cells[0] === ''));
  for (const r of body) {
    if (r.cells.length !== columns.length) throw new DataFormatError(file, r.line, `expected ${columns.length} cells as in the header, found ${r.cells.length}`);
  }
  return tableFromRecords(file, columns, body.map((r) => r.cells), body.map((r) => r.line));
}

export function readResultsCsv(file: string, required?: readonly string[]): ResultTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DcompError(`${file}: cannot read: ${(err as Error).message}`);
  }
  return parseResultsCsv(text, file, required);
}

/** Reads a numeric cell as written by formatNumber: '' → undefined, inf/-inf/nan → ±Infinity/NaN. */
export function parseNumberCell(cell: string | undefined): number | undefined {
  if (cell === undefined || cell === '') return undefined;
  if (cell === 'inf') return Infinity;
  if (cell === '-inf') return -Infinity;
  if (cell === 'nan') return NaN;
  const x = Number(cell);
  return x;
}
