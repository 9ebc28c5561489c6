// JSON data files: {"inputs": [[...], ...], "targets": [[...], ...]}, targets optional
// (prediction needs none), or "labels": [3, 0, ...], one class id per row, instead. The text is read as a stream of JSON tokens
// (@streamparser/json's tokenizer), in chunks of any size, and each number goes straight
// into the table: no object per row, and no whole-file string, which V8 caps near 512 MiB.
//
// Numbers must be ones float32 can hold (src/data/values.ts). Errors name the array,
// row and column (`inputs[3][1]`), or, for text that is not JSON, the line and column.

import { Tokenizer, TokenType } from '@streamparser/json';
import { valueProblem } from '../data/values.ts';
import { labelProblem } from '../data/labels.ts';
import { InputError } from '../errors.ts';
import { DATA_LIMITS, RowsBuilder, type DataTable } from './data-table.ts';

type Field = 'inputs' | 'targets' | 'labels';

/** Where the reader is in {"inputs": [[n, …], …], …}: what it expects next. */
type State =
  | 'object' //  {
  | 'first key' // a field name, or } for an empty object
  | 'key' //     a field name
  | 'colon' //   :
  | 'rows' //    the [ of a field's rows
  | 'first row' // [ of a row, or ] for no rows
  | 'row' //     [ of a row
  | 'first value' // a number, or ] for an empty row
  | 'value' //   a number
  | 'after value' // , or ]
  | 'after row' // , or ]
  | 'after field' // , or }
  | 'done';

const EXPECTED: Record<State, string> = {
  object: '"{"',
  'first key': '"inputs", "targets" or "labels"',
  key: '"inputs", "targets" or "labels"',
  colon: '":"',
  rows: '"["',
  'first row': '"["',
  row: '"["',
  'first value': 'a number',
  value: 'a number',
  'after value': '"," or "]"',
  'after row': '"," or "]"',
  'after field': '"," or "}"',
  done: 'the end of the file',
};

/** A chunk already tokenized, kept to turn a byte offset into a line and column. */
interface SeenChunk {
  start: number; // byte offset of its first byte
  bytes: Uint8Array;
  lines: number; // newlines before it
  lineStart: number; // byte offset where the line it starts in begins
}

const NEWLINE = 10;
/** Bytes of refused text read to name it: enough for "Infinity". */
const WORD_BYTES = 8;

/** The tokenizer, keeping the text of the last number (1e400 reads as Infinity, but is a number too large). */
class DataTokenizer extends Tokenizer {
  numberText = '';

  protected override parseNumber(text: string): number {
    this.numberText = text;
    return Number(text);
  }
}

export class JsonTableReader {
  private readonly tokenizer = new DataTokenizer();
  private state: State = 'object';
  private field?: Field;
  private readonly builders: Record<Field, RowsBuilder>;
  private readonly seen = new Set<Field>();
  /** The last two chunks (a token can start in the one before). */
  private chunks: SeenChunk[] = [];
  private bytesRead = 0;
  /** Text the tokenizer refused at a chunk's end, cut short: waiting for the next chunk to name it (NaN?). */
  private refused?: { offset: number; bytes: number[] };

  constructor(readonly source: string) {
    this.builders = { inputs: new RowsBuilder(`${source}: inputs`), targets: new RowsBuilder(`${source}: targets`), labels: new RowsBuilder(`${source}: labels`) };
    this.tokenizer.onToken = ({ token, value, offset }) => this.token(token, value, offset);
  }

  /** Reads the next chunk of the file: bytes as read from disk, or text. */
  write(chunk: Uint8Array | string): void {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
    if (this.refused) {
      this.refused.bytes.push(...bytes.subarray(0, WORD_BYTES - this.refused.bytes.length));
      if (this.refused.bytes.length === WORD_BYTES) throw this.unexpected(this.refused.offset, this.refused.bytes);
      return;
    }
    const previous = this.chunks[this.chunks.length - 1];
    let lines = 0;
    let lineStart = 0;
    if (previous) {
      lines = previous.lines;
      lineStart = previous.lineStart;
      for (let k = previous.bytes.indexOf(NEWLINE); k >= 0; k = previous.bytes.indexOf(NEWLINE, k + 1)) {
        lines++;
        lineStart = previous.start + k + 1;
      }
    }
    this.chunks = [...this.chunks.slice(-1), { start: this.bytesRead, bytes, lines, lineStart }];
    this.bytesRead += bytes.length;
    this.guard(() => this.tokenizer.write(bytes));
  }

  /** The table, once the whole file is read. */
  finish(): DataTable {
    if (this.refused) throw this.unexpected(this.refused.offset, this.refused.bytes);
    this.guard(() => this.tokenizer.end());
    if (this.state !== 'done') throw this.syntaxError(this.bytesRead, `the file ends where ${EXPECTED[this.state]} was expected`);
    if (!this.seen.has('inputs')) throw new InputError(`${this.source}: inputs`, 'expected the inputs: an array of rows, each an array of numbers');
    const inputs = this.builders.inputs;
    const targets = this.seen.has('targets') ? this.builders.targets : undefined;
    if (targets && targets.rows !== inputs.rows) {
      throw new InputError(`${this.source}: targets`, `expected ${inputs.rows} rows (one per row of inputs), got ${targets.rows}`);
    }
    if (this.seen.has('labels')) {
      if (targets) throw new InputError(`${this.source}: labels`, 'give targets or labels (class ids), not both');
      const labels = this.builders.labels;
      if (labels.width !== inputs.rows) throw new InputError(`${this.source}: labels`, `expected ${inputs.rows} class ids (one per row of inputs), got ${labels.width}`);
      return { inputs: inputs.finish(), labels: Int32Array.from(labels.finish()), size: inputs.rows, inputSize: inputs.width, outputSize: 0 };
    }
    return { inputs: inputs.finish(), targets: targets?.finish(), size: inputs.rows, inputSize: inputs.width, outputSize: targets?.width ?? 0 };
  }

  /** Runs the tokenizer, turning its errors (text that is not JSON) into InputErrors with a line and column. */
  private guard(run: () => void): void {
    try {
      run();
    } catch (error) {
      if (error instanceof InputError) throw error;
      const message = (error as Error).message;
      const position = /absolute position "(\d+)"/.exec(message);
      if (position) {
        const offset = Number(position[1]);
        const chunk = this.chunks[this.chunks.length - 1];
        const word = Array.from(chunk.bytes.subarray(offset - chunk.start, offset - chunk.start + WORD_BYTES));
        if (word.length < WORD_BYTES) {
          this.refused = { offset, bytes: word }; // name it once the next chunk is in
          return;
        }
        throw this.unexpected(offset, word);
      }
      if (message.includes('ended in the middle')) throw this.syntaxError(this.bytesRead, 'the file ends in the middle of a value');
      throw new InputError(this.source, `not valid JSON (${message})`);
    }
  }

  /** The error for text the tokenizer refused at `offset`, whose first bytes are `word`. */
  private unexpected(offset: number, bytes: number[]): InputError {
    const word = new TextDecoder().decode(Uint8Array.from(bytes));
    // JavaScript writes these; JSON has no such numbers.
    const notANumber = /^(NaN|Infinity)/.exec(word);
    if (notANumber) {
      const chunk = [...this.chunks].reverse().find((c) => offset - 1 >= c.start);
      const negative = notANumber[1] === 'Infinity' && chunk?.bytes[offset - 1 - chunk.start] === 0x2d; // -Infinity
      const at = negative ? offset - 1 : offset;
      return this.syntaxError(at, `${negative ? '-' : ''}${notANumber[1]} is not a number in JSON: expected a finite number`);
    }
    return this.syntaxError(offset, `not valid JSON (unexpected ${JSON.stringify(word.slice(0, 1))})`);
  }

  /** An error at byte `offset`, located by line and column where the offset is in the chunks kept. */
  private syntaxError(offset: number, problem: string): InputError {
    const chunk = [...this.chunks].reverse().find((c) => offset >= c.start);
    if (!chunk) return new InputError(`${this.source}: byte ${offset + 1}`, problem);
    let { lines, lineStart } = chunk;
    const end = Math.min(offset - chunk.start, chunk.bytes.length);
    for (let k = chunk.bytes.indexOf(NEWLINE); k >= 0 && k < end; k = chunk.bytes.indexOf(NEWLINE, k + 1)) {
      lines++;
      lineStart = chunk.start + k + 1;
    }
    return new InputError(`${this.source}: line ${lines + 1}, column ${offset - lineStart + 1}`, problem);
  }

  /** Where the reader is, in words: `inputs[3][1]` (a class id: `labels[3]`). */
  private here(withColumn: boolean): string {
    const builder = this.builders[this.field!];
    if (this.field === 'labels') return `${this.source}: labels[${builder.rowLength}]`;
    return `${this.source}: ${this.field}[${builder.rows}]${withColumn ? `[${builder.rowLength}]` : ''}`;
  }

  private token(token: TokenType, value: unknown, offset: number): void {
    const builder = this.field ? this.builders[this.field] : undefined;
    switch (this.state) {
      case 'object':
        if (token !== TokenType.LEFT_BRACE) throw new InputError(this.source, 'expected an object: {"inputs": [[…], …], "targets": [[…], …]}');
        this.state = 'first key';
        return;
      case 'first key':
      case 'key':
        if (token === TokenType.RIGHT_BRACE && this.state === 'first key') {
          this.state = 'done';
          return;
        }
        if (token !== TokenType.STRING) break;
        if (value !== 'inputs' && value !== 'targets' && value !== 'labels') {
          throw new InputError(`${this.source}: ${String(value)}`, 'is not a field of a data file (expected "inputs" and, for training, "targets" or "labels")');
        }
        if (this.seen.has(value)) throw new InputError(`${this.source}: ${value}`, 'appears twice');
        this.seen.add(value);
        this.field = value;
        this.state = 'colon';
        return;
      case 'colon':
        if (token !== TokenType.COLON) break;
        this.state = 'rows';
        return;
      case 'rows':
        if (this.field === 'labels') {
          // One array of class ids: its values are read as one row's.
          if (token !== TokenType.LEFT_BRACKET) throw new InputError(`${this.source}: labels`, 'expected an array of class ids, one per row');
          this.state = 'first value';
          return;
        }
        if (token !== TokenType.LEFT_BRACKET) throw new InputError(`${this.source}: ${this.field}`, 'expected an array of rows, each an array of numbers');
        this.state = 'first row';
        return;
      case 'first row':
      case 'row':
        if (token === TokenType.RIGHT_BRACKET && this.state === 'first row') {
          throw new InputError(`${this.source}: ${this.field}`, 'expected at least one row');
        }
        if (token !== TokenType.LEFT_BRACKET) throw new InputError(this.here(false), 'expected an array of numbers');
        if (builder!.rows === DATA_LIMITS.rows) throw new InputError(`${this.source}: ${this.field}`, `more than ${DATA_LIMITS.rows} rows`);
        this.state = 'first value';
        return;
      case 'first value':
      case 'value':
        if (token === TokenType.RIGHT_BRACKET && this.state === 'first value') throw new InputError(this.here(false), 'expected at least one number');
        if (token !== TokenType.NUMBER) {
          if (this.state === 'value' && token === TokenType.RIGHT_BRACKET) break; // [1, ]
          throw new InputError(this.here(true), `expected a number, got ${describeToken(token, value)}`);
        }
        {
          const problem = valueProblem(value as number, this.tokenizer.numberText) ?? (this.field === 'labels' ? labelProblem(value as number) : undefined);
          if (problem) throw new InputError(this.here(true), problem);
        }
        if (this.field === 'labels' ? builder!.rowLength === DATA_LIMITS.rows : builder!.rowLength === DATA_LIMITS.columns) {
          throw new InputError(this.field === 'labels' ? `${this.source}: labels` : this.here(false), `more than ${this.field === 'labels' ? DATA_LIMITS.rows : DATA_LIMITS.columns} values`);
        }
        builder!.add(value as number);
        this.state = 'after value';
        return;
      case 'after value':
        if (token === TokenType.COMMA) {
          this.state = 'value';
          return;
        }
        if (token !== TokenType.RIGHT_BRACKET) break;
        if (this.field === 'labels') {
          builder!.endRow();
          this.state = 'after field';
          return;
        }
        {
          const width = builder!.rowLength;
          if (builder!.rows > 0 && width !== builder!.width) {
            throw new InputError(this.here(false), `expected ${builder!.width} values like ${this.field}[0], got ${width}`);
          }
        }
        builder!.endRow();
        this.state = 'after row';
        return;
      case 'after row':
        if (token === TokenType.COMMA) this.state = 'row';
        else if (token === TokenType.RIGHT_BRACKET) this.state = 'after field';
        else break;
        return;
      case 'after field':
        if (token === TokenType.COMMA) this.state = 'key';
        else if (token === TokenType.RIGHT_BRACE) this.state = 'done';
        else break;
        return;
      case 'done':
        break;
    }
    throw this.syntaxError(offset, `not valid JSON (expected ${EXPECTED[this.state]}, got ${describeToken(token, value)})`);
  }
}

function describeToken(token: TokenType, value: unknown): string {
  switch (token) {
    case TokenType.STRING:
      return JSON.stringify(value);
    case TokenType.NUMBER:
      return String(value);
    case TokenType.TRUE:
      return 'true';
    case TokenType.FALSE:
      return 'false';
    case TokenType.NULL:
      return 'null';
    case TokenType.LEFT_BRACE:
      return 'an object';
    case TokenType.LEFT_BRACKET:
      return 'an array';
    default:
      return `"${{ [TokenType.RIGHT_BRACE]: '}', [TokenType.RIGHT_BRACKET]: ']', [TokenType.COLON]: ':', [TokenType.COMMA]: ',' }[token as number] ?? '?'}"`;
  }
}

/** A whole JSON text as a table. */
export function parseJsonTable(text: string, source: string): DataTable {
  const reader = new JsonTableReader(source);
  reader.write(text);
  return reader.finish();
}
