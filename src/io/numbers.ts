// Numbers as text files and flags write them: decimal and exponent forms only (12, -0.5,
// .5, 3., 1e-3, +2E+4), with white space around them. Number() would also take hex
// (0x10), binary (0b1), octal (0o7), Infinity and the empty string; a data file or flag
// that holds those is a mistake to report, not a number to guess.

// Around the number: spaces and tabs, and line-break characters a CSV record may keep
// where a file mixes line endings (a \r\n file whose last line ends in \n).
const DECIMAL = /^[ \t\r\n]*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[ \t\r\n]*$/;

/** The number `text` writes in decimal or exponent form, or NaN where it writes none. */
export function parseDecimal(text: string): number {
  const match = DECIMAL.exec(text);
  return match ? Number(match[1]) : NaN;
}
