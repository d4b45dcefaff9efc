import type { Json } from '@duckdb/node-api';
import type { QueryRows } from './read-only-query.js';

export type RowsFormat = 'table' | 'json' | 'csv';

/** Widest a table cell is shown; --json and --csv give whole values. */
const MAX_CELL = 80;

function text(value: Json): string {
  if (value === null) return 'NULL';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function tableCell(value: Json): string {
  const one = text(value).replace(/\r?\n/g, '\\n').replace(/\t/g, ' ');
  return one.length > MAX_CELL ? `${one.slice(0, MAX_CELL - 1)}…` : one;
}

/** Text a spreadsheet would run as a formula (CSV injection): shown as text instead. */
const FORMULA_START = /^[=+\-@\t\r]/;

function csvCell(value: Json): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const raw = text(value);
  const cell = FORMULA_START.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL)/;

/**
 * Query rows as text: an aligned table (numbers to the right, long cells cut, a row count below), a JSON
 * array of row objects, or RFC 4180 CSV with a header row.
 */
export function formatRows(result: QueryRows, format: RowsFormat): string {
  if (format === 'json') {
    return JSON.stringify(result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i] ?? null]))), null, 2) + '\n';
  }
  if (format === 'csv') {
    return [result.columns, ...result.rows].map((row) => row.map((v) => csvCell(v as Json)).join(',')).join('\r\n') + '\r\n';
  }
  const cells = result.rows.map((row) => row.map(tableCell));
  const widths = result.columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const right = result.types.map((t) => NUMERIC.test(t));
  const line = (row: string[]) => row.map((cell, i) => (right[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(' | ').trimEnd();
  const count = `(${result.rows.length} ${result.rows.length === 1 ? 'row' : 'rows'}${result.truncated ? ', more not shown' : ''})`;
  return [line(result.columns), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.map(line), count].join('\n') + '\n';
}
