import { readSql } from '../sql/ddl.js';
import { renderSql } from './dialect.js';
import type { UsageStore } from './usage-store.js';
import { gatewayUsageSource, usageDailyTable, type UsageTables } from './usage-tables.js';

export interface UsageRange {
  /** First and last UTC day, YYYY-MM-DD, inclusive. */
  from: string;
  to: string;
}

const DAY_MS = 86_400_000;
const NANOS_PER_DAY = 86_400_000_000_000n;
const MAX_DAYS = 366;

/** A bad range, naming the parameter (`from` or `to`) to blame. */
export class UsageRangeError extends Error {
  constructor(
    readonly parameter: 'from' | 'to',
    message: string,
  ) {
    super(message);
  }
}

function dayNumber(date: string, name: 'from' | 'to'): number {
  // Date.parse accepts 2026-02-31; the round trip does not.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`)) || new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date) {
    throw new UsageRangeError(name, `${name}: expected a date as YYYY-MM-DD, got "${date}"`);
  }
  return Date.parse(`${date}T00:00:00Z`) / DAY_MS;
}

/** The last `windowDays` UTC days up to and including the day of `now`: late exports are picked up. */
export function recentDays(now: Date, windowDays: number): UsageRange {
  const today = Math.floor(now.getTime() / DAY_MS);
  return { from: isoDay(today - windowDays + 1), to: isoDay(today) };
}

/** YYYY-MM-DD of a UTC day number (days since 1970-01-01). */
export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The range asked for: both ends, one day (`from` alone), or by default the recent window. */
export function requestedRange(from: string | undefined, to: string | undefined, windowDays: number, now = new Date()): UsageRange {
  const recent = recentDays(now, windowDays);
  return { from: from ?? recent.from, to: to ?? from ?? recent.to };
}

export function parseRange(range: UsageRange, maxDays = MAX_DAYS): { fromDay: number; toDay: number } {
  const fromDay = dayNumber(range.from, 'from');
  const toDay = dayNumber(range.to, 'to');
  if (toDay < fromDay) throw new UsageRangeError('from', `from (${range.from}) is after to (${range.to})`);
  if (toDay - fromDay + 1 > maxDays) throw new UsageRangeError('to', `at most ${maxDays} days at a time (${range.from} to ${range.to} is ${toDay - fromDay + 1})`);
  return { fromDay, toDay };
}

/** The statement and its parameters, for a dialect (tests check both). */
export function rollupStatement(store: Pick<UsageStore, 'dialect'>, tables: UsageTables, range: UsageRange, now: Date) {
  const { fromDay, toDay } = parseRange(range);
  return {
    sql: renderSql(readSql('usage_daily_rollup', tables, { gateway_usage_table: gatewayUsageSource(tables, store.dialect) }), store.dialect),
    params: {
      from_day: BigInt(fromDay),
      to_day: BigInt(toDay),
      // One day before the window: the previous points of cumulative series.
      from_nanos: BigInt(fromDay - 1) * NANOS_PER_DAY,
      to_nanos: BigInt(toDay + 1) * NANOS_PER_DAY,
      // Gateway rows: the window itself (UTC; the Databricks session runs in UTC).
      from_time: `${isoDay(fromDay)} 00:00:00`,
      to_time: `${isoDay(toDay + 1)} 00:00:00`,
      computed_at: now.toISOString(),
    },
  };
}

/** Rows whose model has tokens but no price in force on their day. */
export interface Unpriced {
  /** Usage rows left without cost_usd. */
  rows: number;
  models: string[];
}

export interface RollupResult {
  range: UsageRange;
  rows: number;
  unpriced: Unpriced;
}

/** The statements run after the MERGE: the rows in the range, and those with tokens but no price. */
export function reportStatements(store: Pick<UsageStore, 'dialect'>, tables: UsageTables) {
  // Parameter names are not keywords: Spark reads `:from` as a colon and FROM.
  const where = `usage_date BETWEEN CAST(:from_date AS DATE) AND CAST(:to_date AS DATE)`;
  return {
    count: renderSql(`SELECT count(*) AS n FROM ${usageDailyTable(tables)} WHERE ${where}`, store.dialect),
    unpriced: renderSql(
      `SELECT model, count(*) AS n FROM ${usageDailyTable(tables)} WHERE ${where} AND cost_usd IS NULL ` +
        `AND coalesce(input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens) IS NOT NULL GROUP BY model ORDER BY model`,
      store.dialect,
    ),
  };
}

/**
 * Recomputes the usage of every day in the range from the raw tables and the gateway's, prices it, and
 * merges it into the usage table by (date, agent, user, model): reruns change nothing, late data is picked
 * up. Models with tokens but no price are returned and logged, never priced as 0.
 */
export async function rollupUsage(store: UsageStore, tables: UsageTables, range: UsageRange, now = new Date(), warn: (message: string) => void = () => {}): Promise<RollupResult> {
  const { sql, params } = rollupStatement(store, tables, range, now);
  await store.execute(sql, params);
  const report = reportStatements(store, tables);
  const days = { from_date: range.from, to_date: range.to };
  const [count] = await store.query(report.count, days);
  const unpricedRows = await store.query(report.unpriced, days);
  const unpriced = { rows: unpricedRows.reduce((n, r) => n + Number(r.n), 0), models: unpricedRows.map((r) => String(r.model)) };
  if (unpriced.models.length) {
    warn(`usage roll-up ${range.from}..${range.to}: ${unpriced.rows} rows of ${unpriced.models.length} models without a price (cost_usd left empty): ${unpriced.models.join(', ')}; add them to the price list`);
  }
  return { range, rows: Number(count?.n ?? 0), unpriced };
}
