/** Option value parsers: a bad value names what is accepted; commander adds the option's name (exit 2). */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { flagName } from '../core/options.js';
import type { DeclaredOption } from '../bench/config.js';

export function parseInteger(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
    return n;
  };
}

export function parseNonNegative(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number ≥ 0');
  return n;
}

export function parsePositive(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0');
  return n;
}

export function parseIntegerList(min: number) {
  return (value: string): number[] => {
    const parts = value.split(',');
    const out = parts.map((p) => Number(p.trim()));
    if (parts.some((p) => p.trim() === '') || out.some((n) => !Number.isInteger(n) || n < min)) {
      throw new InvalidArgumentError(`expected a comma-separated list of integers ≥ ${min}, e.g. 2 or 2,3,2`);
    }
    return out;
  };
}

export function parseChoice<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!choices.includes(value as T)) throw new InvalidArgumentError(`expected one of ${choices.join(', ')}`);
    return value as T;
  };
}

// ---- flags derived from the option declarations (core/options.ts) ----

/** One flag per declared option, help and accepted values from the declaration (no commander defaults:
 * a flag the user did not give stays absent, so that "does not apply" is only said of given options). */
export function addDeclaredOptions(command: Command, declared: ReadonlyMap<string, DeclaredOption>, skip: ReadonlySet<string> = new Set()): Command {
  for (const { decl, owners, byOwner } of declared.values()) {
    if (skip.has(decl.name)) continue;
    const flag = flagName(decl.name);
    const spec = decl.type.takesArgument ? `${flag} <${decl.placeholder ?? decl.name}>` : flag;
    const defaultOf = (d: typeof decl) => (d.default !== undefined && d.type.takesArgument ? d.type.format(d.default as never) : d.defaultText);
    const distinct = new Set(byOwner.map((o) => defaultOf(o.decl)));
    const def =
      distinct.size > 1
        ? `default ${byOwner.map((o) => `${defaultOf(o.decl) ?? 'none'} for ${o.owner.split(' ')[1]}`).join(', ')}`
        : defaultOf(decl) !== undefined
          ? `default ${defaultOf(decl)}`
          : undefined;
    const who = owners.includes('run') ? undefined : owners.map((o) => o.split(' ')[1]).join(', ');
    const notes = [def, decl.required && owners.includes('run') ? 'required' : undefined, who ? `for ${who}` : undefined].filter(Boolean).join('; ');
    const option = new Option(spec, `${decl.help}${notes ? ` (${notes})` : ''}`);
    if (decl.type.takesArgument && decl.type.accepts.startsWith('one of ')) option.choices(decl.type.accepts.slice('one of '.length).split(', '));
    command.addOption(option);
  }
  return command;
}

/** The given declared options as raw values by declared name (strings; `true` for switches). */
export function declaredValues(command: Command, declared: ReadonlyMap<string, DeclaredOption>): Record<string, unknown> {
  const opts = command.opts() as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const option of command.options) {
    const name = option.long?.slice(2).replace(/-/g, '_');
    if (name === undefined || !declared.has(name)) continue;
    const value = opts[option.attributeName()];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
