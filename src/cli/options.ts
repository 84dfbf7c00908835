/** Option value parsers: a bad value names what is accepted; commander adds the option's name (exit 2). */
import { InvalidArgumentError } from 'commander';

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
