import { SparkSQL } from 'dt-sql-parser';
import { describe, expect, it } from 'vitest';
import { parameterNames, type SqlParams } from '../../shared/usage/dialect.js';
import { rollupUsage } from '../../shared/usage/rollup-usage.js';
import { setUpTables } from '../../shared/usage/table-setup.js';
import type { UsageStore } from '../../shared/usage/usage-store.js';
import type { UsageTables } from '../../shared/usage/usage-tables.js';

/*
 * No Spark engine runs here, so every statement the app sends to a SQL warehouse is checked against a
 * Spark SQL grammar (dt-sql-parser's SparkSQL, ANTLR). The statements are collected from the code that
 * sends them (a store that records instead of executing), so a new statement is checked without being
 * listed. The DuckDB variants of the same statements run in the other usage tests.
 */

const spark = new SparkSQL();

/**
 * The grammar's one known gap: it takes only two-part names (schema.table) as the target of MERGE,
 * INSERT, CREATE TABLE and ALTER TABLE, where Spark and Databricks take catalog.schema.table (it reads
 * three-part names in FROM). Only those targets drop their catalog before parsing.
 */
const forGrammar = (sql: string) => sql.replace(/\b(MERGE INTO|INSERT INTO|CREATE TABLE IF NOT EXISTS|ALTER TABLE) (\w+)\.(\w+)\.(\w+)/g, '$1 $3.$4');

function syntaxErrors(sql: string): string[] {
  return spark.validate(forGrammar(sql)).map((e) => `line ${e.startLine}:${e.startColumn} ${e.message}`);
}

/** A Databricks-dialect store that records what it would send. */
function recordingStore(): UsageStore & { sent: { sql: string; params: SqlParams }[] } {
  const sent: { sql: string; params: SqlParams }[] = [];
  return {
    dialect: 'databricks',
    sent,
    execute: async (sql, params) => void sent.push({ sql, params }),
    query: async (sql, params) => (sent.push({ sql, params }), []),
    close: async () => {},
  };
}

const names = { catalog: 'main', schema: 'telemetry', prefix: 'agents' };

async function statementsSent(tables: UsageTables) {
  const store = recordingStore();
  await setUpTables(store, names, () => {});
  await rollupUsage(store, tables, { from: '2026-11-20', to: '2026-11-22' }, new Date('2026-11-23T00:15:00Z'));
  return store.sent;
}

describe('the statements sent to the SQL warehouse', () => {
  it.each([
    ['the gateway table read', 'system.ai_gateway.usage'],
    ['the gateway off', undefined],
  ])('parse as Spark SQL, with %s', async (_case, gatewayUsage) => {
    const sent = await statementsSent({ ...names, gatewayUsage });
    // The tables (created, then completed column by column), the price seed, the roll-up and its two reports.
    expect(sent.length).toBeGreaterThan(10);
    expect(sent.some((s) => s.sql.startsWith('MERGE INTO main.telemetry.agents_usage_daily'))).toBe(true);
    expect(sent.some((s) => s.sql.startsWith('MERGE INTO main.telemetry.agents_model_prices'))).toBe(true);
    expect(sent.some((s) => s.sql.startsWith('ALTER TABLE main.telemetry.agents_usage_daily ADD COLUMN'))).toBe(true);
    for (const { sql } of sent) expect(syntaxErrors(sql), sql.slice(0, 200)).toEqual([]);
  });

  it('bind exactly the named parameters each one uses', async () => {
    for (const { sql, params } of await statementsSent({ ...names, gatewayUsage: 'system.ai_gateway.usage' })) {
      expect([...parameterNames(sql)].sort(), sql.slice(0, 120)).toEqual(Object.keys(params).sort());
    }
  });

  it.each([
    ['a misspelt keyword', 'SELEC model FROM main.telemetry.agents_usage_daily'],
    ['an unclosed parenthesis', 'SELECT count(* FROM main.telemetry.agents_usage_daily'],
    ['DuckDB integer division', 'SELECT a // 2 FROM t'],
  ])('reject %s (the check can fail)', (_case, sql) => {
    expect(syntaxErrors(sql)).not.toEqual([]);
  });
});
