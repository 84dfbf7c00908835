/**
 * The starting point x⁰ (spec v2 §1, `--x0`): `zeros`, `normal[:σ]` (i.i.d. N(0, σ²) from the run's
 * seed), `file:PATH` (exactly d numbers separated by white space), or `init` (the problem's own seeded
 * initialisation, the default of problems that have one, e.g. mlp).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DataFormatError, DcompError } from '../core/errors.js';
import { decimal } from '../core/options.js';

export type X0Choice =
  | { readonly kind: 'zeros' }
  | { readonly kind: 'normal'; readonly sigma: number }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'init' };

export const X0_ACCEPTS = '"zeros", "normal", "normal:σ" (σ > 0), "file:PATH" or "init" (the problem\'s seeded initialisation)';

/** Parses the option text; undefined when it is not accepted. */
export function parseX0(text: string): X0Choice | undefined {
  const s = text.trim();
  if (s === 'zeros') return { kind: 'zeros' };
  if (s === 'init') return { kind: 'init' };
  if (s === 'normal') return { kind: 'normal', sigma: 1 };
  if (s.startsWith('normal:')) {
    const sigma = decimal(s.slice('normal:'.length));
    return sigma !== undefined && sigma > 0 && Number.isFinite(sigma) ? { kind: 'normal', sigma } : undefined;
  }
  if (s.startsWith('file:') && s.length > 'file:'.length) return { kind: 'file', path: s.slice('file:'.length) };
  return undefined;
}

export interface X0File {
  readonly values: Float64Array;
  /** sha256 of the numbers as read (their float64 bytes, little-endian): the CSV's `x0` = `file:<sha>`. */
  readonly sha256: string;
}

/**
 * Reads the numbers of an x⁰ file (a bad number names the file, the line and the entry); the count is
 * checked against d by `checkX0Length` once d is known.
 */
export function readX0File(path: string): X0File {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DcompError(`${path}: cannot read the --x0 file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const numbers: number[] = [];
  const lines = text.split('\n');
  for (let l = 0; l < lines.length; l++) {
    for (const token of lines[l].split(/[\s,]+/)) {
      if (token === '') continue;
      const v = decimal(token);
      if (v === undefined || !Number.isFinite(v)) {
        throw new DataFormatError(path, l + 1, `entry ${numbers.length + 1}: expected a finite number, got ${JSON.stringify(token.slice(0, 40))}`);
      }
      numbers.push(v);
    }
  }
  const values = Float64Array.from(numbers);
  const sha256 = createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
  return { values, sha256 };
}

/** A file x⁰ must have exactly d numbers (spec §1). */
export function checkX0Length(path: string, file: X0File, d: number): void {
  if (file.values.length !== d) {
    throw new DcompError(`${path}: the --x0 file has ${file.values.length} numbers, the problem has d = ${d}`);
  }
}
