import { DuckDBTypeId, StatementType, type DuckDBConnection, type DuckDBType, type Json } from '@duckdb/node-api';
import { Refusal } from '../http.js';

/** Rows as JSON values (BIGINT and timestamps as strings, maps as objects), with their columns. */
export interface QueryRows {
  columns: string[];
  /** DuckDB type names, e.g. `BIGINT`, `MAP(VARCHAR, VARCHAR)`. */
  types: string[];
  rows: Json[][];
  /** More rows than `maxRows` were there; the rest were not read. */
  truncated: boolean;
}

/** A value as DuckDB's JSON conversion gives it, with maps (lists of key/value pairs there) as objects, at any depth. */
function plain(value: Json, type: DuckDBType): Json {
  if (value === null) return null;
  switch (type.typeId) {
    case DuckDBTypeId.MAP:
      return Object.fromEntries((value as { key: Json; value: Json }[]).map((entry) => [String(entry.key), plain(entry.value, type.valueType)]));
    case DuckDBTypeId.STRUCT:
      return Object.fromEntries(type.entryNames.map((name, i) => [name, plain((value as Record<string, Json>)[name] ?? null, type.entryTypes[i]!)]));
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return (value as Json[]).map((item) => plain(item, type.valueType));
    default:
      return value;
  }
}

/** DuckDB's messages go on with a caret drawing of the statement; the lines before it say what is wrong. */
function briefly(err: unknown): string {
  const lines = String((err as Error)?.message ?? err).replace(/^Failed to extract statements: /, '').split('\n');
  const end = lines.findIndex((line) => /^LINE \d+:/.test(line));
  return lines.slice(0, end === -1 ? undefined : end).map((line) => line.trim()).filter(Boolean).join(' ');
}

/**
 * Runs one query on the local rows and reads up to `maxRows` of its rows. Read-only twice over: only a
 * statement DuckDB's own parser classifies as a query (SELECT, FROM, TABLE, VALUES, DESCRIBE, SHOW,
 * SUMMARIZE) is run, and it runs in a read-only transaction that is rolled back. A statement that is
 * not allowed or does not parse or bind is a Refusal (400) with DuckDB's reason.
 */
export async function readOnlyQuery(connection: DuckDBConnection, sql: string, maxRows: number): Promise<QueryRows> {
  if (sql.trim() === '') throw new Refusal(400, 'expected a query, got nothing');
  await connection.run('BEGIN TRANSACTION READ ONLY');
  try {
    let statementType: StatementType;
    let prepared;
    try {
      const statements = await connection.extractStatements(sql);
      if (statements.count !== 1) throw new Refusal(400, `expected one statement, got ${statements.count}`);
      prepared = await statements.prepare(0);
      statementType = prepared.statementType;
    } catch (err) {
      throw err instanceof Refusal ? err : new Refusal(400, briefly(err));
    }
    if (statementType !== StatementType.SELECT) {
      throw new Refusal(400, `read-only: only queries run here (SELECT, FROM, DESCRIBE, SHOW, SUMMARIZE), not ${StatementType[statementType] ?? 'this'} statements`);
    }
    const reader = await prepared.streamAndReadUntil(maxRows + 1).catch((err: unknown) => {
      throw new Refusal(400, briefly(err));
    });
    const types = reader.columnTypes();
    const rows = reader.getRowsJson();
    return {
      columns: reader.columnNames(),
      types: types.map(String),
      rows: rows.slice(0, maxRows).map((row) => row.map((value, i) => plain(value, types[i]!))),
      truncated: rows.length > maxRows,
    };
  } finally {
    await connection.run('ROLLBACK');
  }
}
