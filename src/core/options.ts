/**
 * Options declared once, by the code that owns them (a problem, compressor or method spec, or the
 * run-level table of bench/run-options.ts). A declaration gives the name, the type (what it accepts,
 * how it reads from a command-line string or a YAML value, how it is written), the default and one line
 * of help. `dcomp run` flags, experiment-file keys, validation messages, `--help`, the `dcomp
 * compressors` listing, run ids and the CSV `params` column are all derived from these declarations.
 *
 * Names are snake_case: the YAML key is the name, the flag is `--` + the name with `-` for `_`.
 * Errors carry the option's name; the layer that knows how the user wrote it (flag or YAML key path)
 * renders it (see OptionError.render).
 */
import { UsageError } from './errors.js';

export type OptionValue = string | number | boolean | readonly number[];
export type OptionValues = Readonly<Record<string, OptionValue | undefined>>;

/** How a value is read and written. `undefined` from a reader means "not accepted". */
export interface OptionType<T extends OptionValue = OptionValue> {
  /** What is accepted, for messages and help: "an integer ≥ 1". */
  readonly accepts: string;
  /** Placeholder in `--help`, e.g. `<k>`; boolean options take no argument. */
  readonly takesArgument: boolean;
  /** The value itself is a list (hosvd ranks, dims): in an experiment's matrix, alternatives are lists of lists. */
  readonly list?: boolean;
  fromText(text: string): T | undefined;
  fromValue(value: unknown): T | undefined;
  /** Canonical text (params column, run ids, legends). */
  format(value: T): string;
}

/** Where a run records the option: a CSV column of its own, the `params` column, or nowhere (it changes no number). */
export type OptionRecord = 'column' | 'params' | 'none';

export interface OptionDecl<T extends OptionValue = OptionValue> {
  readonly name: string;
  readonly type: OptionType<T>;
  /** Static default; absent for required options and for defaults computed from the data (see defaultText). */
  readonly default?: T;
  /** Help text for a default that is not a static value, e.g. "⌈log2 d⌉". */
  readonly defaultText?: string;
  /** A default computed from the problem's dimension d, once it is known (index bits, hosvd dims). */
  readonly derive?: (context: { readonly d: number }) => T;
  readonly required?: boolean;
  readonly help: string;
  readonly record: OptionRecord;
  /** Placeholder for the flag's argument in `--help`. */
  readonly placeholder?: string;
}

export function flagName(name: string): string {
  return `--${name.replace(/_/g, '-')}`;
}

/** A value that the declaration does not accept (or an option that does not apply). */
export class OptionError extends UsageError {
  constructor(
    readonly option: string,
    readonly detail: string,
  ) {
    super(`${flagName(option)}: ${detail}`);
    // It is a usage error that names its option; messages and logs call it so.
    this.name = 'UsageError';
  }
  /** The message with the option as the user wrote it: a flag, or a YAML key path. */
  render(how: 'flag' | { yamlPath: string }): string {
    return how === 'flag' ? `${flagName(this.option)}: ${this.detail}` : `${how.yamlPath}: ${this.detail}`;
  }
}

export function showValue(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Reads a value for a declaration (text from a flag, anything from YAML); throws OptionError. */
export function readOption<T extends OptionValue>(decl: OptionDecl<T>, raw: unknown): T {
  const v = typeof raw === 'string' && decl.type.takesArgument ? decl.type.fromText(raw) : decl.type.fromValue(raw);
  if (v === undefined) throw new OptionError(decl.name, `expected ${decl.type.accepts}, got ${showValue(raw)}`);
  return v;
}

// ---- types ----

/** Decimal or scientific notation only: Number('') is 0 and Number('0x10') is 16. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function decimal(text: string): number | undefined {
  const t = text.trim();
  return DECIMAL.test(t) ? Number(t) : undefined;
}

/** An integer in [min, max]; `max` undefined means up to 2^53 − 1 without saying so (counts, sizes). */
export function integer(min: number, max?: number): OptionType<number> {
  const top = max ?? Number.MAX_SAFE_INTEGER;
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= min && n <= top;
  const accepts = max === undefined ? `an integer ≥ ${min}` : max === 2 ** 53 - 1 ? `an integer in [${min}, 2^53 − 1]` : `an integer in [${min}, ${max}]`;
  return {
    accepts,
    takesArgument: true,
    fromText: (t) => {
      const n = decimal(t);
      return ok(n) ? n : undefined;
    },
    fromValue: (v) => (ok(v) ? v : typeof v === 'string' ? integer(min, max).fromText(v) : undefined),
    format: String,
  };
}

/** A finite number with a lower bound (inclusive ≥ min, or exclusive > min). */
export function real(bound: { min: number; exclusive?: boolean; max?: number; maxExclusive?: boolean }): OptionType<number> {
  const { min, exclusive = false, max, maxExclusive = false } = bound;
  const ok = (n: unknown): n is number =>
    typeof n === 'number' && Number.isFinite(n) && (exclusive ? n > min : n >= min) && (max === undefined || (maxExclusive ? n < max : n <= max));
  const lower = `${exclusive ? '>' : '≥'} ${min}`;
  const accepts = max === undefined ? `a number ${lower}` : `a number ${lower} and ${maxExclusive ? '<' : '≤'} ${max}`;
  return {
    accepts,
    takesArgument: true,
    fromText: (t) => {
      const n = decimal(t);
      return ok(n) ? n : undefined;
    },
    fromValue: (v) => (ok(v) ? v : undefined),
    format: String,
  };
}

export function choice<T extends string>(values: readonly T[]): OptionType<T> {
  const ok = (v: unknown): v is T => typeof v === 'string' && (values as readonly string[]).includes(v);
  return {
    accepts: `one of ${values.join(', ')}`,
    takesArgument: true,
    fromText: (t) => (ok(t) ? t : undefined),
    fromValue: (v) => (ok(v) ? v : undefined),
    format: (v) => v,
  };
}

/** A switch: present on the command line means true; YAML takes true or false. */
export function flag(): OptionType<boolean> {
  return {
    accepts: 'true or false',
    takesArgument: false,
    fromText: (t) => (t === 'true' ? true : t === 'false' ? false : undefined),
    fromValue: (v) => (typeof v === 'boolean' ? v : undefined),
    format: String,
  };
}

/** Integers separated by commas on the command line (`2,3,2`), a list (or one integer) in YAML. */
export function integerList(min: number, formatSeparator = ','): OptionType<readonly number[]> {
  const each = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= min && n <= Number.MAX_SAFE_INTEGER;
  return {
    accepts: `one integer ≥ ${min} or a comma-separated list of them (e.g. 2 or 2,3,2)`,
    takesArgument: true,
    list: true,
    fromText: (t) => {
      const parts = t.split(',').map((p) => decimal(p));
      return parts.length > 0 && parts.every(each) ? (parts as number[]) : undefined;
    },
    fromValue: (v) => {
      if (each(v)) return [v];
      if (Array.isArray(v) && v.length > 0 && v.every(each)) return v as number[];
      if (typeof v === 'string') return integerList(min).fromText(v);
      return undefined;
    },
    format: (v) => v.join(formatSeparator),
  };
}

/** Free text checked by a predicate (dataset names, paths, steps, x0 specs…). */
export function text(accepts: string, check: (s: string) => boolean = (s) => s !== ''): OptionType<string> {
  return {
    accepts,
    takesArgument: true,
    fromText: (t) => (check(t) ? t : undefined),
    fromValue: (v) => (typeof v === 'string' && check(v) ? v : typeof v === 'number' && check(String(v)) ? String(v) : undefined),
    format: (v) => v,
  };
}

/**
 * A declared option's value in `values`, or its declared default; a required option that is missing is
 * an OptionError. Specs read their options with this, so a direct `create` (tests, tools) gets the
 * same defaults as a run.
 */
export function valueOf<T extends OptionValue>(values: OptionValues, decl: OptionDecl<T>): T {
  const v = values[decl.name] ?? decl.default;
  if (v === undefined) throw new OptionError(decl.name, `required: ${decl.help} (${decl.type.accepts})`);
  return v as T;
}

export function declare<T extends OptionValue>(name: string, type: OptionType<T>, rest: Omit<OptionDecl<T>, 'name' | 'type'>): OptionDecl<T> {
  return { name, type, ...rest };
}

/**
 * The applicable declarations of one run, merged: the same name may be declared by several owners
 * (k by every sparsifier) as long as the types agree; the first owner's default wins.
 */
export function mergeDeclarations(groups: ReadonlyArray<readonly OptionDecl[]>): Map<string, OptionDecl> {
  const out = new Map<string, OptionDecl>();
  for (const group of groups) for (const d of group) if (!out.has(d.name)) out.set(d.name, d);
  return out;
}
