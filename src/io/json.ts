// JSON parsing and schema errors, turned into one-line InputErrors.

import { InputError } from '../errors.ts';

/** JSON.parse, with the line and column of a syntax error in the message. */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const lineAndColumn = (offset: number) => {
      const before = text.slice(0, offset);
      return `line ${before.split('\n').length}, column ${before.length - before.lastIndexOf('\n')}`;
    };
    // JavaScript writes these, JSON has no such numbers.
    const notANumber = /(?<![\w"])-?(NaN|Infinity)(?![\w"])/.exec(text);
    if (notANumber) {
      throw new InputError(`${source}: ${lineAndColumn(notANumber.index)}`, `${notANumber[0]} is not a number in JSON: expected a finite number`);
    }
    const offset = errorOffset(text, message);
    if (offset !== undefined) throw new InputError(`${source}: ${lineAndColumn(offset)}`, `not valid JSON (${message})`);
    throw new InputError(source, `not valid JSON (${message})`);
  }
}

/**
 * Where JSON.parse stopped, from its message: V8 gives a position for some errors, and
 * for an unexpected token quotes the text around it (ten characters either side).
 */
function errorOffset(text: string, message: string): number | undefined {
  const position = /position (\d+)/.exec(message);
  if (position) return Number(position[1]);
  if (message.includes('Unexpected end of JSON input')) return text.length;
  const token = /Unexpected token '([\s\S])', (\.\.\.)?"([\s\S]*?)"(\.\.\.)? is not valid JSON/.exec(message);
  if (!token) return undefined;
  const [, character, cut, context] = token;
  const start = text.indexOf(context);
  if (start < 0) return undefined;
  return start + (cut ? 10 : context.indexOf(character));
}

/** `layers[1].weights[0]` from zod's path ['layers', 1, 'weights', 0]. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((key, k) => (typeof key === 'number' ? `[${key}]` : k === 0 ? String(key) : `.${String(key)}`)).join('');
}

/** The first schema problem (of zod's error, full or small build), located in `source`. */
export function zodError(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }, source: string): InputError {
  const issue = error.issues[0];
  const where = issue.path.length > 0 ? `${source}: ${formatPath(issue.path)}` : source;
  return new InputError(where, issue.message);
}
