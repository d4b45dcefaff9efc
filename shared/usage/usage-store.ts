import type { Dialect, SqlParams } from './dialect.js';

/** Where the roll-up runs: the Databricks SQL warehouse, or DuckDB locally. */
export interface UsageStore {
  readonly dialect: Dialect;
  /** Runs one statement (rendered for this store's dialect) with named parameters. */
  execute(sql: string, params: SqlParams): Promise<void>;
  query(sql: string, params: SqlParams): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}
