import type { DuckDBConnection } from '@duckdb/node-api';
import type { SqlParams } from './dialect.js';
import type { UsageStore } from './usage-store.js';

/** The roll-up on the embedded DuckDB tables (local mode). */
export function duckdbUsageStore(connection: DuckDBConnection, close: () => Promise<void> = async () => {}): UsageStore {
  return {
    dialect: 'duckdb',
    async execute(sql: string, params: SqlParams) {
      await connection.run(sql, params);
    },
    async query(sql: string, params: SqlParams) {
      return (await connection.runAndReadAll(sql, params)).getRowObjectsJson() as Record<string, unknown>[];
    },
    close,
  };
}
