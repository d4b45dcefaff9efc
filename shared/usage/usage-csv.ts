import { reportColumns, type UsageReport } from './read-usage.js';

/** Text a spreadsheet would run as a formula (CSV injection): shown as text instead. */
const FORMULA_START = /^[=+\-@\t\r]/;

function cell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The report's rows as RFC 4180 CSV (CRLF line ends, a header row); totals are left to the reader. */
export function usageCsv(report: UsageReport): string {
  const columns = reportColumns(report.group_by);
  const lines = [columns.map(cell).join(','), ...report.rows.map((row) => columns.map((c) => cell(row[c] ?? null)).join(','))];
  return lines.join('\r\n') + '\r\n';
}
