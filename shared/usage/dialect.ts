/*
 * The few places where Databricks SQL and DuckDB differ for the usage roll-up, each one macro in
 * infra/sql/usage_daily_rollup.sql, plus the one model-naming rule both share. Everything else there
 * (MERGE, try_cast, to_json on maps, window functions, three-part names, struct and map access) is
 * written once and runs on both.
 */

export type Dialect = 'databricks' | 'duckdb';

export type SqlParams = Record<string, bigint | string>;

type Macro = (arg: string) => string;

/*
 * The canonical model name both sources are matched and priced by: lower case, without a `system.ai.`
 * (Unity Catalog model service) or `databricks-` (serving endpoint) prefix, dots as dashes, so
 * `databricks-claude-opus-4-6`, `system.ai.claude-opus-4-6` and `claude-opus-4.6` are one model. The
 * pattern has no backslash: Spark string literals unescape them, DuckDB's do not.
 */
const modelKey: Macro = (expr) => `replace(regexp_replace(lower(${expr}), '^(system[.]ai[.])?(databricks-)?', ''), '.', '-')`;

const MACROS: Record<Dialect, Record<string, Macro>> = {
  databricks: {
    // Spark: `a DIV b` is integer division; date_add(date, int) adds days; unix_date counts days since 1970.
    IDIV: () => 'DIV',
    DAY_TO_DATE: (expr) => `date_add(DATE'1970-01-01', CAST(${expr} AS INT))`,
    TS_TO_DAY: (expr) => `unix_date(CAST(${expr} AS DATE))`,
    MODEL_KEY: modelKey,
  },
  duckdb: {
    // DuckDB: `//` is integer division; DATE + INTEGER adds days; DATE - DATE is a day count.
    IDIV: () => '//',
    DAY_TO_DATE: (expr) => `(DATE '1970-01-01' + CAST(${expr} AS INTEGER))`,
    TS_TO_DAY: (expr) => `(CAST(${expr} AS DATE) - DATE '1970-01-01')`,
    MODEL_KEY: modelKey,
  },
};

/** Parameters are written `:name`; DuckDB's client binds `$name`. */
const PARAMETER = /(?<![\w:]):([a-z_][a-z0-9_]*)\b/g;
/** `{{NAME}}` or `{{NAME(argument)}}`; arguments hold no parentheses. */
const MACRO = /\{\{([A-Z_]+)(?:\(([^()]*)\))?\}\}/g;

export function renderSql(template: string, dialect: Dialect): string {
  let sql = template.replace(MACRO, (whole, name: string, arg: string | undefined) => {
    const macro = MACROS[dialect][name];
    if (!macro) throw new Error(`unknown SQL macro ${whole}`);
    return macro(arg ?? '');
  });
  if (dialect === 'duckdb') sql = sql.replace(PARAMETER, '$$$1');
  if (sql.includes('{{')) throw new Error(`unknown SQL macro near "${sql.slice(sql.indexOf('{{'), sql.indexOf('{{') + 30)}"`);
  return sql;
}

/** The named parameters a Databricks statement uses (what `namedParameters` must bind). */
export function parameterNames(databricksSql: string): Set<string> {
  return new Set([...databricksSql.matchAll(PARAMETER)].map((m) => m[1]!));
}
