import { commentLines, UnsafeValueError } from './unsafe-value.js';

/*
 * A dotenv file, as Gemini CLI reads ~/.gemini/.env (the dotenv package). Values are written in
 * double quotes, so `=`, spaces and `#` are safe; characters that dotenv would interpret or that
 * would end the line (quotes, backslashes, `$`, backticks, control characters, Unicode line breaks)
 * are refused, never escaped into something the reader might unescape differently.
 */

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const UNSAFE = /["'`\\$\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export function envFile(lines: ({ comment: string } | { name: string; value: string })[]): string {
  return (
    lines
      .map((line) => {
        if ('comment' in line) return commentLines(line.comment);
        if (!NAME.test(line.name)) throw new UnsafeValueError(`invalid variable name ${line.name}`);
        if (UNSAFE.test(line.value)) throw new UnsafeValueError(`value of ${line.name} contains a character a .env file cannot hold safely`);
        return `${line.name}="${line.value}"`;
      })
      .join('\n') + '\n'
  );
}
