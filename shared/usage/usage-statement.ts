import { tableName, type TableNames } from '../sql/ddl.js';
import { renderSql, type Dialect } from './dialect.js';
import { GROUP_KEYS, USAGE_MEASURES, type UsageMeasure } from './usage-columns.js';
import type { UsageQuery } from './usage-query.js';

/**
 * The one SELECT behind GET /api/usage: the daily table summed over the requested groups, every
 * value a bound parameter. `viewerId` restricts it to that user's rows (callers without the admin
 * role); undefined reads everyone's.
 */
export function usageStatement(dialect: Dialect, names: TableNames, query: UsageQuery, viewerId: string | undefined) {
  const columns = query.groupBy.flatMap((key) => GROUP_KEYS[key]);
  // CAST(sum(..) AS BIGINT): Spark's type anyway; DuckDB then sums in 64 bits, not 128 (about 3x faster, measured).
  const sum = (m: UsageMeasure) => (m.integer ? `CAST(sum(${m.sql}) AS BIGINT)` : `sum(${m.sql})`);
  const select = [...columns.map((c) => `${c.select} AS ${c.name}`), ...USAGE_MEASURES.map((m) => `${sum(m)} AS ${m.name}`)];
  const where = ['usage_date BETWEEN CAST(:from_date AS DATE) AND CAST(:to_date AS DATE)'];
  const params: Record<string, string> = { from_date: query.from, to_date: query.to };
  if (query.filters.agent !== undefined) {
    where.push('agent = :agent');
    params.agent = query.filters.agent;
  }
  if (query.filters.model !== undefined) {
    where.push('model = :model');
    params.model = query.filters.model;
  }
  if (query.filters.user !== undefined) {
    where.push('(user_id = :user_key OR lower(user_email) = lower(:user_key))');
    params.user_key = query.filters.user;
  }
  if (viewerId !== undefined) {
    where.push('user_id = :viewer_id');
    params.viewer_id = viewerId;
  }
  const keys = columns.flatMap((c) => (c.groupBy ? [c.groupBy] : []));
  const grouping = keys.length > 0 ? `\nGROUP BY ${keys.join(', ')}` : '';
  // HAVING drops the all-NULL row an aggregate without GROUP BY gives for no rows: no rows, no row.
  const sql = `SELECT ${select.join(',\n  ')}\nFROM ${tableName(names, '_usage_daily')}\nWHERE ${where.join('\n  AND ')}${grouping}\nHAVING count(*) > 0${keys.length > 0 ? `\nORDER BY ${keys.join(', ')}` : ''}`;
  return { sql: renderSql(sql, dialect), params };
}
