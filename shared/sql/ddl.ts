import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * The Unity Catalog DDL in infra/sql/ is the one definition of the tables. Databricks runs it as
 * written; DuckDB (local mode) gets the same statement with Spark types rewritten and Delta clauses
 * dropped. The rewrite parses column types instead of pattern-replacing, so nesting stays right.
 */

export interface TableNames {
  catalog: string;
  schema: string;
  prefix: string;
}

/** `<catalog>.<schema>.<prefix><suffix>`, e.g. the suffix `_otel_logs` or `_usage_daily`. */
export function tableName(names: TableNames, suffix: string): string {
  return `${names.catalog}.${names.schema}.${names.prefix}${suffix}`;
}

export interface Column {
  name: string;
  /** The Spark SQL type as written in the DDL, e.g. `MAP<STRING, STRING>`. */
  type: SqlType;
}

export type SqlType =
  | { kind: 'scalar'; name: string }
  | { kind: 'array'; element: SqlType }
  | { kind: 'map'; key: SqlType; value: SqlType }
  | { kind: 'struct'; fields: Column[] };

export interface TableDdl {
  /** Full name with catalog and schema, as the header and SQL name it. */
  table: string;
  columns: Column[];
  databricks: string;
  duckdb: string;
}

export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the project root (package.json) above shared/sql');
    dir = parent;
  }
  return dir;
}

/**
 * Reads `infra/sql/<file>.sql` without its comment lines and with the table names filled in. Names
 * must be validated identifiers (settings.ts does).
 */
export function readSql(file: string, names: TableNames, more: Record<string, string> = {}): string {
  return fillSql(readFileSync(join(projectRoot(), 'infra', 'sql', `${file}.sql`), 'utf8'), names, more);
}

/**
 * SQL text without its comment lines and with `{catalog}`, `{schema}`, `{prefix}` filled in, and any
 * `{name}` of `more` (validated names, or SQL the code built).
 */
export function fillSql(text: string, names: TableNames, more: Record<string, string> = {}): string {
  let sql = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .replaceAll('{catalog}', names.catalog)
    .replaceAll('{schema}', names.schema)
    .replaceAll('{prefix}', names.prefix);
  for (const [name, value] of Object.entries(more)) sql = sql.replaceAll(`{${name}}`, value);
  return sql.trim();
}

/** A table's Databricks DDL from infra/sql, and the same table for DuckDB. */
export function loadTableDdl(file: string, names: TableNames, more: Record<string, string> = {}): TableDdl {
  const databricks = readSql(file, names, more);
  const parsed = parseCreateTable(databricks);
  const columns = parsed.columns.map((c) => `  "${c.name}" ${duckdbType(c.type)}`).join(',\n');
  return { table: parsed.table, columns: parsed.columns, databricks, duckdb: `CREATE TABLE IF NOT EXISTS ${parsed.table} (\n${columns}\n)` };
}

const SCALARS_IN_DUCKDB: Record<string, string> = {
  STRING: 'VARCHAR',
  LONG: 'BIGINT',
  BIGINT: 'BIGINT',
  INT: 'INTEGER',
  DOUBLE: 'DOUBLE',
  BOOLEAN: 'BOOLEAN',
  TIMESTAMP: 'TIMESTAMPTZ',
  DATE: 'DATE',
};

export function duckdbType(type: SqlType): string {
  switch (type.kind) {
    case 'scalar': {
      const mapped = SCALARS_IN_DUCKDB[type.name];
      if (!mapped) throw new Error(`no DuckDB type for Spark type ${type.name}`);
      return mapped;
    }
    case 'array':
      return `${duckdbType(type.element)}[]`;
    case 'map':
      return `MAP(${duckdbType(type.key)}, ${duckdbType(type.value)})`;
    case 'struct':
      // Field names are quoted: the v1 schema uses words DuckDB reserves (`offset`).
      return `STRUCT(${type.fields.map((f) => `"${f.name}" ${duckdbType(f.type)}`).join(', ')})`;
  }
}

function tokenize(sql: string): string[] {
  return sql.match(/[A-Za-z_][A-Za-z0-9_.]*|'[^']*'|[<>(),:;=]/g) ?? [];
}

export function parseCreateTable(sql: string): { table: string; columns: Column[] } {
  const tokens = tokenize(sql);
  let i = 0;
  const expect = (token: string) => {
    if (tokens[i]?.toUpperCase() !== token) throw new Error(`DDL: expected "${token}" at token ${i}, found "${tokens[i] ?? 'end'}"`);
    i++;
  };
  const next = () => {
    const token = tokens[i++];
    if (token === undefined) throw new Error('DDL: unexpected end');
    return token;
  };
  const parseType = (): SqlType => {
    const name = next().toUpperCase();
    if (name === 'ARRAY') {
      expect('<');
      const element = parseType();
      expect('>');
      return { kind: 'array', element };
    }
    if (name === 'MAP') {
      expect('<');
      const key = parseType();
      expect(',');
      const value = parseType();
      expect('>');
      return { kind: 'map', key, value };
    }
    if (name === 'STRUCT') {
      expect('<');
      const fields: Column[] = [];
      do {
        const field = next();
        expect(':');
        fields.push({ name: field, type: parseType() });
      } while (tokens[i] === ',' && ++i);
      expect('>');
      return { kind: 'struct', fields };
    }
    return { kind: 'scalar', name };
  };
  expect('CREATE');
  expect('TABLE');
  expect('IF');
  expect('NOT');
  expect('EXISTS');
  const table = next();
  expect('(');
  const columns: Column[] = [];
  do {
    const name = next();
    columns.push({ name, type: parseType() });
  } while (tokens[i] === ',' && ++i);
  expect(')');
  return { table, columns };
}
