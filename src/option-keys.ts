// Option objects checked for keys nobody reads: `{ epoch: 3 }` for `{ epochs: 3 }` would
// otherwise train one epoch without a word. An unknown key is refused with the known one
// it most resembles, as a compiler would suggest it.

import { InputError } from './errors.ts';

/** Edit distance (insertions, deletions, substitutions, adjacent swaps) between two words. */
function distance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
    }
  }
  return rows[a.length][b.length];
}

/** The known key `key` most resembles, where one is close enough to be what was meant. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  if (key.length > 64) return undefined; // no option is that long: nothing to measure
  const folded = key.toLowerCase().replace(/[-_]/g, '');
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const d = name.toLowerCase() === folded ? 0 : distance(folded, name.toLowerCase());
    if (!best || d < best.distance) best = { name, distance: d };
  }
  return best && best.distance <= Math.max(2, Math.floor(key.length / 3)) ? best.name : undefined;
}

/**
 * Refuses a key of `options` (an object a caller wrote) that is not among `known`, naming
 * it and the known key it resembles. `what` names the object (`fit`, `earlyStopping`);
 * `prefix` goes before the key in the message (`earlyStopping.`).
 */
export function checkKeys(options: unknown, known: readonly string[], what: string, prefix = ''): void {
  if (typeof options !== 'object' || options === null) return;
  for (const key of Object.keys(options)) {
    if (known.includes(key) || (options as Record<string, unknown>)[key] === undefined) continue;
    const shown = key.length > 40 ? `${key.slice(0, 40)}…` : key;
    const near = closestKey(key, known);
    throw new InputError(`${prefix}${shown}`, `is not an option of ${what}${near ? ` (did you mean ${near}?)` : `; its options are ${known.join(', ')}`}`);
  }
}

/**
 * The keys of an options interface as a list the compiler checks against the interface
 * both ways: `optionKeys<FitOptions>()(['epochs', …])` fails to compile where a key of
 * FitOptions is missing or one is not in it.
 */
export function optionKeys<T>() {
  return <const K extends readonly (keyof T & string)[]>(keys: K & ([Exclude<keyof T, K[number]>] extends [never] ? unknown : { missing: Exclude<keyof T, K[number]> })): readonly string[] => keys;
}
