/**
 * Text that comes from files (dataset lines, CSV cells, experiment values, paths) is shown through
 * `escapeControl` before it reaches a terminal or a CSV cell, so that it can neither move the cursor,
 * recolour the terminal, hide text (bidi overrides) nor split a line.
 */

// C0 controls, DEL, C1 controls, the line/paragraph separators and the bidi embedding/override/isolate marks.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_KEEP_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeOne(ch: string): string {
  const named = NAMED[ch];
  if (named !== undefined) return named;
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every control character written as an escape (`\t`, `\n`, `\r`, `\x1b`, `\u202e`, …).
 * `keepNewlines` leaves `\n` alone, for multi-line messages composed by dcomp itself.
 * Printable text, including non-ASCII letters, is unchanged.
 */
export function escapeControl(text: string, options: { keepNewlines?: boolean } = {}): string {
  const pattern = options.keepNewlines ? UNSAFE_KEEP_NEWLINE : UNSAFE;
  pattern.lastIndex = 0;
  if (!pattern.test(text)) return text;
  pattern.lastIndex = 0;
  return text.replace(pattern, escapeOne);
}

/** A value from a file in a message: double-quoted, control characters escaped. */
export function quoted(text: string): string {
  return `"${escapeControl(text)}"`;
}

/** A leading UTF-8 byte order mark (U+FEFF) is not part of the text. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
