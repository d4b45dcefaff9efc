/*
 * The few places where Databricks SQL and DuckDB differ for the usage roll-up, each one macro in
 * infra/sql/usage_daily_rollup.sql. Everything else there (MERGE, try_cast, to_json on maps, window
 * functions, three-part names, struct and map access) is written once and runs on both.
 */

export type Dialect = 'databricks' | 'duckdb';

export type SqlParams = Record<string, bigint | string>;

const MACROS: Record<Dialect, { idiv: string; dayToDate: (expr: string) => string }> = {
  // Spark: `a DIV b` is integer division; date_add(date, int) adds days.
  databricks: { idiv: 'DIV', dayToDate: (expr) => `date_add(DATE'1970-01-01', CAST(${expr} AS INT))` },
  // DuckDB: `//` is integer division; DATE + INTEGER adds days.
  duckdb: { idiv: '//', dayToDate: (expr) => `(DATE '1970-01-01' + CAST(${expr} AS INTEGER))` },
};

/** Parameters are written `:name`; DuckDB's client binds `$name`. */
const PARAMETER = /(?<![\w:]):([a-z_][a-z0-9_]*)\b/g;

export function renderSql(template: string, dialect: Dialect): string {
  const macros = MACROS[dialect];
  let sql = template.replaceAll('{{IDIV}}', macros.idiv).replace(/\{\{DAY_TO_DATE\(([^)]*)\)\}\}/g, (_m, expr: string) => macros.dayToDate(expr));
  if (dialect === 'duckdb') sql = sql.replace(PARAMETER, '$$$1');
  if (sql.includes('{{')) throw new Error(`unknown SQL macro near "${sql.slice(sql.indexOf('{{'), sql.indexOf('{{') + 30)}"`);
  return sql;
}

/** The named parameters a Databricks statement uses (what `namedParameters` must bind). */
export function parameterNames(databricksSql: string): Set<string> {
  return new Set([...databricksSql.matchAll(PARAMETER)].map((m) => m[1]!));
}
