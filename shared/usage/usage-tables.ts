import { duckdbType, loadTableDdl, tableName, type SqlType, type TableDdl, type TableNames } from '../sql/ddl.js';
import { tableNames, type Settings } from '../settings.js';
import type { Dialect } from './dialect.js';

/** The tables the usage roll-up reads and writes: the relay's own, and the AI Gateway's usage table (or none). */
export interface UsageTables extends TableNames {
  /** AI_GATEWAY_USAGE_TABLE, a validated three-part name; undefined: the gateway is not read. */
  gatewayUsage?: string | undefined;
}

export const modelPricesTable = (tables: TableNames) => tableName(tables, '_model_prices');
export const usageDailyTable = (tables: TableNames) => tableName(tables, '_usage_daily');

/** The gateway usage table's columns as infra/sql/ai_gateway_usage.sql lists them, under `table`'s name. */
export function gatewayUsageDdl(table: string, names: TableNames): TableDdl {
  return loadTableDdl('ai_gateway_usage', names, { gateway_usage_table: table });
}

/** A column type as Spark SQL writes it. */
export function sparkType(type: SqlType): string {
  switch (type.kind) {
    case 'scalar':
      return type.name;
    case 'array':
      return `ARRAY<${sparkType(type.element)}>`;
    case 'map':
      return `MAP<${sparkType(type.key)}, ${sparkType(type.value)}>`;
    case 'struct':
      return `STRUCT<${type.fields.map((f) => `${f.name}: ${sparkType(f.type)}`).join(', ')}>`;
  }
}

/**
 * What the roll-up reads as `{gateway_usage_table}`: the table, or, when the gateway is off, a typed
 * empty relation with the same columns, so the one statement needs no second form.
 */
export function gatewayUsageSource(tables: UsageTables, dialect: Dialect): string {
  if (tables.gatewayUsage) return tables.gatewayUsage;
  const { columns } = gatewayUsageDdl('off.ai_gateway.usage', tables);
  const typeOf = dialect === 'databricks' ? sparkType : duckdbType;
  return `(SELECT ${columns.map((c) => `CAST(NULL AS ${typeOf(c.type)}) AS ${c.name}`).join(', ')} LIMIT 0)`;
}

export function usageTablesFor(settings: Settings): UsageTables {
  return { ...tableNames(settings), gatewayUsage: settings.usage.gatewayUsageTable };
}
