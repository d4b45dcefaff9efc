import { existsSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import type { TableNames } from '../sql/ddl.js';
import { readOnlyQuery, type QueryRows } from './read-only-query.js';

export interface LocalRowsOptions {
  /** The embedded ingest's DuckDB file (LOCAL_DUCKDB_PATH). */
  path: string;
  names: TableNames;
  /** Where a running `npm start` listens (LOCAL_PORT), asked when it holds the file. */
  port: number;
  sql: string;
  maxRows: number;
}

const LOCKED = /Could not set lock on file .*Conflicting lock is held in .*?\(PID (\d+)\)/s;

/**
 * One read-only query on the local rows, under the same `<catalog>.<schema>.<table>` names as in
 * Databricks (the file is attached as the catalog, and `<schema>.<table>` resolves in it). DuckDB
 * lets one process at a time hold a file, so while `npm start` holds it the query goes to its
 * POST /api/local/sql instead.
 */
export async function queryLocalRows(options: LocalRowsOptions): Promise<QueryRows & { via: 'file' | 'relay' }> {
  const { path, names, sql, maxRows } = options;
  if (!existsSync(path)) throw new Error(`no local rows yet: ${path} does not exist (npm start creates it; LOCAL_DUCKDB_PATH names it)`);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    try {
      await connection.run(`ATTACH '${path.replaceAll("'", "''")}' AS ${names.catalog} (READ_ONLY)`);
    } catch (err) {
      const locked = LOCKED.exec((err as Error).message);
      if (!locked) throw err;
      return { ...(await askRelay(options, locked[1]!)), via: 'relay' };
    }
    await connection.run(`USE ${names.catalog}`);
    await connection.run(`SET TimeZone = 'UTC'`);
    return { ...(await readOnlyQuery(connection, sql, maxRows)), via: 'file' };
  } finally {
    // Both, in this order: the file stays locked while a connection is open.
    connection.closeSync();
    instance.closeSync();
  }
}

async function askRelay({ path, port, sql, maxRows }: LocalRowsOptions, pid: string): Promise<QueryRows> {
  const url = `http://127.0.0.1:${port}/api/local/sql`;
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql, maxRows }) });
  } catch {
    throw new Error(`${path} is held by process ${pid} and no relay answers on 127.0.0.1:${port}: stop that process, or set LOCAL_PORT to the port of the npm start that holds it`);
  }
  const body = (await response.json().catch(() => undefined)) as (QueryRows & { error?: string }) | undefined;
  if (response.status !== 200 || !body || !Array.isArray(body.rows)) {
    throw new Error(body?.error ?? `the relay on 127.0.0.1:${port} answered HTTP ${response.status} to ${url}`);
  }
  return body;
}
