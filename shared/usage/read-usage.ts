import type { TableNames } from '../sql/ddl.js';
import { GROUP_KEYS, USAGE_MEASURES, type GroupKey } from './usage-columns.js';
import type { UsageQuery } from './usage-query.js';
import { usageStatement } from './usage-statement.js';
import type { UsageStore } from './usage-store.js';

export type UsageRow = Record<string, string | number | null>;

export interface UsageReport {
  from: string;
  to: string;
  group_by: GroupKey[];
  /** `all`: every user's rows (admin); `own`: the caller's only. */
  scope: 'all' | 'own';
  rows: UsageRow[];
  /** Each measure summed over the rows; null where no row has a value (e.g. cost no agent reported). */
  totals: Record<string, number | null>;
}

/** Numbers come back as numbers, bigints or (DuckDB's HUGEINT sums) strings, depending on the engine. */
function numeric(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  return Number(value);
}

/** The columns of a report's rows, in order: the groups' columns, then every measure. */
export function reportColumns(groupBy: readonly GroupKey[]): string[] {
  return [...groupBy.flatMap((key) => GROUP_KEYS[key].map((c) => c.name)), ...USAGE_MEASURES.map((m) => m.name)];
}

export async function readUsage(store: UsageStore, names: TableNames, query: UsageQuery, viewerId: string | undefined): Promise<UsageReport> {
  const { sql, params } = usageStatement(store.dialect, names, query, viewerId);
  const columns = query.groupBy.flatMap((key) => GROUP_KEYS[key]);
  const rows = (await store.query(sql, params)).map((raw) => {
    const row: UsageRow = {};
    for (const c of columns) row[c.name] = raw[c.name] === null || raw[c.name] === undefined ? null : String(raw[c.name]);
    for (const m of USAGE_MEASURES) row[m.name] = numeric(raw[m.name]);
    return row;
  });
  const totals: Record<string, number | null> = {};
  for (const m of USAGE_MEASURES) {
    const values = rows.map((r) => r[m.name]).filter((v): v is number => typeof v === 'number');
    totals[m.name] = values.length === 0 ? null : values.reduce((a, b) => a + b, 0);
  }
  return { from: query.from, to: query.to, group_by: query.groupBy, scope: viewerId === undefined ? 'all' : 'own', rows, totals };
}
