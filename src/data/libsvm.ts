/**
 * LIBSVM text reader (spec §1) into CSR.
 *
 * A hand-written byte scanner: no per-token strings, splits or regexes on the hot path, output in
 * growable typed arrays. `LibsvmParser` accepts the text in chunks of any size (a line may span
 * chunks), so files are streamed from disk (or from the bzip2 decoder) and never held twice.
 */
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { DataFormatError, DcompError, UsageError } from '../core/errors.js';
import { escapeControl } from '../core/text.js';
import type { CsrMatrix, LabeledData } from './types.js';
import { bunzip2Chunks, isBzip2 } from './bzip2.js';

export interface LibsvmOptions {
  /** Name used in error messages (usually the path). */
  file: string;
  /** Fixed dimension d (`--features d`); an index above it is an error. Default: the largest index seen. */
  features?: number;
  /**
   * The label pair of another file (e.g. the training file's `labelValues`, for a test file), so both
   * map alike; a label outside it is an error. Default: the two distinct labels of this file.
   */
  labels?: readonly number[];
}

export type LibsvmFileOptions = Omit<LibsvmOptions, 'file'> & { file?: string };

/** Parsed data plus the SHA-256 (hex) of the uncompressed text and its length in bytes. */
export type LibsvmFile = LabeledData & { readonly sha256: string; readonly textBytes: number };

const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const HASH = 35;
const COLON = 58;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const LOWER_E = 101;
const UPPER_E = 69;
const MAX_INDEX = 2147483647;
/**
 * The largest dimension d a dataset may have: every method keeps several d-vectors of float64 per
 * worker, and the WebAssembly kernels keep 24·d bytes per shard in a 4 GiB memory. 2^26 (67,108,864:
 * kdd2012's 54.7M features fit) runs a two-row file in ~6 GB; an index beyond it is refused at its
 * line instead of failing later in an allocation.
 */
export const MAX_FEATURES = 67108864;

/** Exact powers of ten: m·10^e with m < 2^53 and |e| ≤ 22 is then one correctly rounded operation. */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB || c === CR;
}

/** Ends a token: whitespace, end of line, or the start of a comment. */
function isDelimiter(c: number): boolean {
  return c === SPACE || c === TAB || c === CR || c === LF || c === HASH;
}

/**
 * Decimal number in buf[start, end): `[+-]digits[.digits][(e|E)[+-]digits]` (either digit run may be
 * empty, not both). Returns NaN for anything else or a non-finite result. Short numbers take
 * Clinger's exact fast path; longer ones go through Number(), which rounds correctly.
 */
export function parseDecimal(buf: Uint8Array, start: number, end: number): number {
  let p = start;
  if (p >= end) return NaN;
  let negative = false;
  let c = buf[p];
  if (c === MINUS || c === PLUS) {
    negative = c === MINUS;
    p++;
  }
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  while (p < end && (c = buf[p]) >= ZERO && c <= NINE) {
    mantissa = mantissa * 10 + (c - ZERO);
    digits++;
    p++;
  }
  if (p < end && buf[p] === DOT) {
    p++;
    while (p < end && (c = buf[p]) >= ZERO && c <= NINE) {
      mantissa = mantissa * 10 + (c - ZERO);
      digits++;
      scale--;
      p++;
    }
  }
  if (digits === 0) return NaN;
  if (p < end && (buf[p] === LOWER_E || buf[p] === UPPER_E)) {
    p++;
    let expNegative = false;
    if (p < end && (buf[p] === MINUS || buf[p] === PLUS)) {
      expNegative = buf[p] === MINUS;
      p++;
    }
    let exponent = 0;
    let expDigits = 0;
    while (p < end && (c = buf[p]) >= ZERO && c <= NINE) {
      if (exponent < 100000) exponent = exponent * 10 + (c - ZERO);
      expDigits++;
      p++;
    }
    if (expDigits === 0) return NaN;
    scale += expNegative ? -exponent : exponent;
  }
  if (p !== end) return NaN;
  let value: number;
  if (digits <= 15 && scale >= -22 && scale <= 22) {
    value = scale >= 0 ? mantissa * POW10[scale] : mantissa / POW10[-scale];
    if (negative) value = -value;
  } else {
    value = Number(latin1.decode(buf.subarray(start, end)));
  }
  return Number.isFinite(value) ? value : NaN;
}

/** Incremental LIBSVM parser: `push` chunks of text in order, then `finish`. */
export class LibsvmParser {
  private readonly file: string;
  private readonly fixedFeatures: number | undefined;
  private readonly givenLabels: readonly number[] | undefined;
  private line = 0;
  private carry: Uint8Array | undefined;
  private finished = false;

  private colIdx = new Int32Array(1 << 16);
  private values = new Float64Array(1 << 16);
  private nnz = 0;
  private rowPtr = new Int32Array(1 << 12);
  private rawLabels = new Float64Array(1 << 12);
  private rows = 0;
  private maxIndex = 0;
  private firstLabel = NaN;
  private secondLabel = NaN;

  constructor(options: LibsvmOptions) {
    this.file = options.file;
    const features = options.features;
    if (features !== undefined && !(Number.isInteger(features) && features >= 1)) {
      throw new UsageError(`--features must be a positive integer (the dimension d), got ${features}`);
    }
    if (features !== undefined && features > MAX_FEATURES) {
      throw new UsageError(`--features ${features} is too large: dcomp supports dimensions up to ${MAX_FEATURES} (2^26)`);
    }
    this.fixedFeatures = features;
    if (options.labels !== undefined) {
      const given = options.labels;
      if (given.length !== 2 || !(given[0] < given[1])) {
        throw new DcompError(`${this.file}: the label pair to map must be two ascending numbers, got [${given.join(', ')}]`);
      }
      this.givenLabels = given;
    }
    this.rowPtr[0] = 0;
  }

  /** Feeds the next piece of the text. The chunk is not kept (it may be reused by the caller). */
  push(chunk: Uint8Array): void {
    if (this.finished) throw new Error('LibsvmParser.push after finish');
    let start = 0;
    if (this.carry !== undefined) {
      const newline = chunk.indexOf(LF);
      if (newline < 0) {
        this.carry = concatBytes(this.carry, chunk, 0, chunk.length);
        return;
      }
      const joined = concatBytes(this.carry, chunk, 0, newline + 1);
      this.carry = undefined;
      this.parseLines(joined, 0, joined.length);
      start = newline + 1;
    }
    const lastNewline = chunk.lastIndexOf(LF);
    if (lastNewline < start) {
      if (start < chunk.length) this.carry = copyBytes(chunk, start, chunk.length);
      return;
    }
    this.parseLines(chunk, start, lastNewline + 1);
    if (lastNewline + 1 < chunk.length) this.carry = copyBytes(chunk, lastNewline + 1, chunk.length);
  }

  /** Parses any last line without a newline and returns the data with labels mapped to ±1. */
  finish(): LabeledData {
    if (this.finished) throw new Error('LibsvmParser.finish called twice');
    if (this.carry !== undefined) {
      const last = this.carry;
      this.carry = undefined;
      this.parseLines(last, 0, last.length);
    }
    this.finished = true;
    if (this.rows === 0) {
      throw new DataFormatError(this.file, Math.max(1, this.line), 'no data rows: expected lines of the form "label index:value index:value ..."');
    }
    let labelValues: number[];
    if (this.givenLabels !== undefined) {
      labelValues = [this.givenLabels[0], this.givenLabels[1]];
    } else if (Number.isNaN(this.secondLabel)) {
      throw new DcompError(
        `${this.file}: every row has the label ${this.firstLabel}; a binary problem needs two distinct labels ` +
          '(the smaller maps to -1, the larger to +1)',
      );
    } else {
      labelValues = this.firstLabel < this.secondLabel ? [this.firstLabel, this.secondLabel] : [this.secondLabel, this.firstLabel];
    }
    const negative = labelValues[0];
    const b = new Float64Array(this.rows);
    for (let r = 0; r < this.rows; r++) b[r] = this.rawLabels[r] === negative ? -1 : 1;
    const X: CsrMatrix = {
      rows: this.rows,
      cols: this.fixedFeatures ?? this.maxIndex,
      rowPtr: this.rowPtr.slice(0, this.rows + 1),
      colIdx: this.colIdx.slice(0, this.nnz),
      values: this.values.slice(0, this.nnz),
    };
    return { X, b, labelValues, source: this.file };
  }

  /** buf[start, end) holds whole lines (the last one may lack its newline only at the end of input). */
  private parseLines(buf: Uint8Array, start: number, end: number): void {
    let p = start;
    while (p < end) p = this.parseLine(buf, p, end);
  }

  /** Parses the line starting at `p`; returns the index just past its newline. */
  private parseLine(buf: Uint8Array, p: number, end: number): number {
    this.line++;
    // A UTF-8 byte order mark (written by some editors) before the first line is not data.
    if (this.line === 1 && end - p >= 3 && buf[p] === 0xef && buf[p + 1] === 0xbb && buf[p + 2] === 0xbf) p += 3;
    let c = 0;
    while (p < end && isBlank((c = buf[p]))) p++;
    if (p >= end) return end;
    if (c === LF) return p + 1;
    if (c === HASH) return skipLine(buf, p, end);

    const labelStart = p;
    while (p < end && !isDelimiter(buf[p])) p++;
    const label = parseDecimal(buf, labelStart, p);
    if (Number.isNaN(label)) {
      this.fail(`bad label '${text(buf, labelStart, p)}': expected a number at the start of the line`);
    }
    this.recordLabel(label);

    const fixed = this.fixedFeatures;
    let previous = 0;
    for (;;) {
      while (p < end && isBlank((c = buf[p]))) p++;
      if (p >= end) break;
      if (c === LF) {
        p++;
        break;
      }
      if (c === HASH) {
        p = skipLine(buf, p, end);
        break;
      }
      const tokenStart = p;
      let index = 0;
      let indexDigits = 0;
      while (p < end && (c = buf[p]) >= ZERO && c <= NINE) {
        if (index <= MAX_INDEX) index = index * 10 + (c - ZERO);
        indexDigits++;
        p++;
      }
      if (indexDigits === 0 || p >= end || buf[p] !== COLON) {
        while (p < end && !isDelimiter(buf[p])) p++;
        const token = text(buf, tokenStart, p);
        if (token.includes(':')) {
          this.fail(`bad feature index in '${token}': expected an integer index ≥ 1 before ':'`);
        }
        this.fail(`bad token '${token}': expected index:value`);
      }
      p++; // ':'
      const valueStart = p;
      while (p < end && !isDelimiter(buf[p])) p++;
      const value = parseDecimal(buf, valueStart, p);
      if (Number.isNaN(value)) {
        this.fail(`bad value in '${text(buf, tokenStart, p)}': expected a number after ':'`);
      }
      if (index === 0) {
        this.fail(`feature index 0 in '${text(buf, tokenStart, p)}': indices are 1-based, expected ≥ 1`);
      }
      if (index > MAX_FEATURES) {
        this.fail(`feature index in '${text(buf, tokenStart, p)}' is too large: dcomp supports dimensions up to ${MAX_FEATURES} (2^26)`);
      }
      if (index <= previous) {
        this.fail(`feature index ${index} after ${previous}: expected strictly ascending indices within a line`);
      }
      if (fixed !== undefined && index > fixed) {
        this.fail(`feature index ${index} exceeds --features ${fixed}: expected indices from 1 to ${fixed}`);
      }
      previous = index;
      if (this.nnz === this.colIdx.length) this.growEntries();
      this.colIdx[this.nnz] = index - 1;
      this.values[this.nnz] = value;
      this.nnz++;
    }
    if (previous > this.maxIndex) this.maxIndex = previous;
    if (this.rows + 1 === this.rawLabels.length) this.growRows();
    this.rawLabels[this.rows] = label;
    this.rows++;
    this.rowPtr[this.rows] = this.nnz;
    return p;
  }

  private recordLabel(label: number): void {
    const given = this.givenLabels;
    if (given !== undefined) {
      if (label !== given[0] && label !== given[1]) {
        this.fail(`label ${label} is not one of the expected labels ${given[0]} and ${given[1]}`);
      }
      return;
    }
    if (label === this.firstLabel || label === this.secondLabel) return;
    if (Number.isNaN(this.firstLabel)) this.firstLabel = label;
    else if (Number.isNaN(this.secondLabel)) this.secondLabel = label;
    else {
      this.fail(
        `a third distinct label ${label} (after ${this.firstLabel} and ${this.secondLabel}): expected two labels for a binary problem`,
      );
    }
  }

  private fail(detail: string): never {
    throw new DataFormatError(this.file, this.line, detail);
  }

  private growEntries(): void {
    const colIdx = new Int32Array(this.colIdx.length * 2);
    colIdx.set(this.colIdx);
    this.colIdx = colIdx;
    const values = new Float64Array(this.values.length * 2);
    values.set(this.values);
    this.values = values;
  }

  private growRows(): void {
    const rowPtr = new Int32Array(this.rowPtr.length * 2);
    rowPtr.set(this.rowPtr);
    this.rowPtr = rowPtr;
    const rawLabels = new Float64Array(this.rawLabels.length * 2);
    rawLabels.set(this.rawLabels);
    this.rawLabels = rawLabels;
  }
}

function skipLine(buf: Uint8Array, p: number, end: number): number {
  const newline = buf.indexOf(LF, p);
  return newline < 0 || newline >= end ? end : newline + 1;
}

/**
 * Printable excerpt of a token for messages: bounded, so a runaway token does not flood the terminal,
 * and with control characters escaped, so that one cannot drive it.
 */
function text(buf: Uint8Array, start: number, end: number): string {
  const limit = Math.min(end, start + 60);
  return escapeControl(utf8.decode(buf.subarray(start, limit))) + (limit < end ? '…' : '');
}

function copyBytes(src: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(src.subarray(start, end));
  return out;
}

function concatBytes(head: Uint8Array, src: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(head.length + end - start);
  out.set(head);
  out.set(src.subarray(start, end), head.length);
  return out;
}

/** Parses LIBSVM text held in memory. */
export function parseLibsvm(buffer: Uint8Array, options: LibsvmOptions): LabeledData {
  const parser = new LibsvmParser(options);
  parser.push(buffer);
  return parser.finish();
}

/**
 * Streams a file's uncompressed text to `onChunk`: plain text as read from disk, or, for a bzip2 file
 * (detected by its `BZh` magic, whatever its name), the decoder's output in pieces. A .bz2 file is
 * read whole first: the decoder works on a buffer, and compressed files are small.
 */
export async function streamText(path: string, onChunk: (chunk: Uint8Array) => void, file: string = path): Promise<void> {
  let compressed: Buffer[] | undefined;
  let first = true;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      if (first) {
        first = false;
        if (isBzip2(chunk)) compressed = [];
      }
      if (compressed !== undefined) compressed.push(chunk);
      else onChunk(chunk);
    }
  } catch (err) {
    if (err instanceof DcompError) throw err;
    throw new DcompError(`cannot read ${file}: ${describeFsError(err)}`);
  }
  if (compressed !== undefined) bunzip2Chunks(Buffer.concat(compressed), onChunk, file);
}

/** Reads and parses a LIBSVM file (plain or bzip2), hashing the uncompressed text on the way. */
export async function readLibsvmFile(path: string, options: LibsvmFileOptions = {}): Promise<LibsvmFile> {
  const file = options.file ?? path;
  const parser = new LibsvmParser({ ...options, file });
  const hash = createHash('sha256');
  let textBytes = 0;
  await streamText(path, (chunk) => {
    hash.update(chunk);
    textBytes += chunk.length;
    parser.push(chunk);
  }, file);
  const data = parser.finish();
  return { ...data, sha256: hash.digest('hex'), textBytes };
}

/** SHA-256 (hex) of a file's uncompressed text, without parsing it. */
export async function textSha256(path: string, file: string = path): Promise<{ sha256: string; textBytes: number }> {
  const hash = createHash('sha256');
  let textBytes = 0;
  await streamText(path, (chunk) => {
    hash.update(chunk);
    textBytes += chunk.length;
  }, file);
  return { sha256: hash.digest('hex'), textBytes };
}

export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES') return 'permission denied';
  return err instanceof Error ? err.message : String(err);
}
