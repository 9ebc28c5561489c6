// The benchmark commands' flag parsers: a bad value is refused with commander's one-line
// error naming the flag and what it expects. Numbers in decimal or exponent form only,
// read by the library's number rules.

import { InvalidArgumentError } from 'commander';
import { parseDecimal } from 'webgpu-backprop/node';

/** Counts: repetitions, epochs, compute units. */
export function positiveInteger(text: string): number {
  const value = parseDecimal(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`expected a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

/** Durations and peaks: finite and above 0. */
export function positiveNumber(text: string): number {
  const value = parseDecimal(text);
  if (!(value > 0) || !Number.isFinite(value)) throw new InvalidArgumentError(`expected a positive number, got ${JSON.stringify(text)}`);
  return value;
}

/** A comma-separated list, each name one of `allowed`. */
export function namesFrom(allowed: readonly string[]): (text: string) => string[] {
  return (text) => {
    const names = text.split(',').map((name) => name.trim());
    const unknown = names.filter((name) => !allowed.includes(name));
    if (unknown.length > 0) throw new InvalidArgumentError(`expected comma-separated names from ${allowed.join(', ')}, got ${JSON.stringify(unknown.join(','))}`);
    return names;
  };
}
