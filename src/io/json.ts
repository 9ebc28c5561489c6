// JSON parsing and schema errors, turned into one-line InputErrors.

import type { z } from 'zod';
import { InputError } from '../errors.ts';

/** JSON.parse, with the line and column of a syntax error in the message. */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    if (position) {
      const before = text.slice(0, Number(position[1]));
      const line = before.split('\n').length;
      const column = before.length - before.lastIndexOf('\n');
      throw new InputError(`${source}: line ${line}, column ${column}`, `not valid JSON (${message})`);
    }
    throw new InputError(source, `not valid JSON (${message})`);
  }
}

/** `layers[1].weights[0]` from zod's path ['layers', 1, 'weights', 0]. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((key, k) => (typeof key === 'number' ? `[${key}]` : k === 0 ? String(key) : `.${String(key)}`)).join('');
}

/** The first schema problem, located in `source`. */
export function zodError(error: z.ZodError, source: string): InputError {
  const issue = error.issues[0];
  const where = issue.path.length > 0 ? `${source}: ${formatPath(issue.path)}` : source;
  return new InputError(where, issue.message);
}
