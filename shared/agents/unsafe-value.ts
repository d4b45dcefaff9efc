/*
 * Checks shared by the renderers: a value that a file format cannot hold safely is refused, never
 * pasted. Line breaks include the Unicode ones (U+0085, U+2028, U+2029): JavaScript's multi-line
 * regular expressions, which dotenv parsers use, end a line there.
 */

export class UnsafeValueError extends Error {}

const LINE_BREAK_OR_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/;

/** `value` unchanged, or an UnsafeValueError naming `what` when it holds a line break or control character. */
export function oneLine(what: string, value: string): string {
  if (LINE_BREAK_OR_CONTROL.test(value)) throw new UnsafeValueError(`${what} contains a line break or control character`);
  return value;
}

/**
 * A JSON file: JSON.stringify escapes control characters; U+2028 and U+2029 are valid in JSON strings
 * but are escaped too, so no reader that treats them as line ends sees a new line.
 */
export function jsonFile(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)}\n`;
}

/** `# text` comment lines for .env and TOML files, one per line of `text`; each line checked with oneLine. */
export function commentLines(text: string): string {
  return text
    .split('\n')
    .map((line) => `# ${oneLine('a comment', line)}`.trimEnd())
    .join('\n');
}

/** Single-quoted for POSIX sh: inside '...' only ' itself needs care; NUL cannot be passed at all. */
export function shQuote(value: string): string {
  if (value.includes('\u0000')) throw new UnsafeValueError('a shell argument contains NUL');
  return `'${value.replaceAll("'", `'"'"'`)}'`;
}
