// Parsers for the command line's numeric flags: each refuses a bad value with a
// one-line error naming the flag and what it expects.

import { InvalidArgumentError } from 'commander';

function number(text: string): number {
  return text.trim() === '' ? NaN : Number(text);
}

export function positiveInteger(text: string): number {
  const value = number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`expected a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

export function nonNegativeInteger(text: string): number {
  const value = number(text);
  if (!Number.isInteger(value) || value < 0) throw new InvalidArgumentError(`expected a whole number ≥ 0, got ${JSON.stringify(text)}`);
  return value;
}

export function positiveNumber(text: string): number {
  const value = number(text);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError(`expected a positive number, got ${JSON.stringify(text)}`);
  return value;
}

export function columnList(text: string): string[] {
  const names = text.split(',').map((name) => name.trim());
  if (names.some((name) => name === '')) throw new InvalidArgumentError(`expected comma-separated column names, got ${JSON.stringify(text)}`);
  return names;
}
