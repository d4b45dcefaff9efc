import { duckdbType, loadTableDdl, type TableDdl, type TableNames } from '../sql/ddl.js';
import { renderSql, type Dialect, type SqlParams } from './dialect.js';
import { priceSeedStatement, readPriceSeed } from './price-seed.js';
import type { UsageStore } from './usage-store.js';
import { sparkType } from './usage-tables.js';

/** The relay's own tables, each from its DDL in infra/sql/ (the schema must exist). */
export const OWN_TABLE_FILES = ['otel_metrics', 'otel_logs', 'otel_spans', 'usage_daily', 'model_prices'] as const;

/** Where each engine lists a table's columns: Unity Catalog's system-wide view, DuckDB's own. */
function columnsQuery(dialect: Dialect): string {
  const view = dialect === 'databricks' ? 'system.information_schema.columns' : 'information_schema.columns';
  return renderSql(`SELECT column_name FROM ${view} WHERE table_catalog = :table_catalog AND table_schema = :table_schema AND table_name = :table_name`, dialect);
}

/**
 * Creates a table if missing, then adds the columns its DDL has and the table lacks (a usage table made
 * by an earlier version gains the new columns; nothing is dropped or retyped). Returns the added names.
 */
export async function ensureTable(store: UsageStore, ddl: TableDdl): Promise<string[]> {
  await store.execute(store.dialect === 'databricks' ? ddl.databricks : ddl.duckdb, {});
  const [catalog, schema, table] = ddl.table.split('.') as [string, string, string];
  const params: SqlParams = { table_catalog: catalog, table_schema: schema, table_name: table };
  const present = new Set((await store.query(columnsQuery(store.dialect), params)).map((r) => String(r.column_name).toLowerCase()));
  const missing = ddl.columns.filter((c) => !present.has(c.name.toLowerCase()));
  for (const column of missing) {
    const type = store.dialect === 'databricks' ? sparkType(column.type) : duckdbType(column.type);
    await store.execute(`ALTER TABLE ${ddl.table} ADD COLUMN ${column.name} ${type}`, {});
  }
  return missing.map((c) => c.name);
}

/** uc:init's work: the relay's tables (created or completed) and the price list's seed rows. */
export async function setUpTables(store: UsageStore, names: TableNames, log: (line: string) => void): Promise<void> {
  for (const file of OWN_TABLE_FILES) {
    const ddl = loadTableDdl(file, names);
    const added = await ensureTable(store, ddl);
    log(`table ${ddl.table}: present${added.length ? ` (added columns ${added.join(', ')})` : ''}`);
  }
  const prices = readPriceSeed();
  await store.execute(priceSeedStatement(names, prices), {});
  log(`price list: ${prices.length} seed prices from infra/model-prices.csv present (${prices.map((p) => p.model).join(', ')})`);
}
