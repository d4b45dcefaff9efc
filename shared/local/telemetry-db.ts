import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBDataChunkWriter, DuckDBInstance, JSToDuckDBValueConverter, type DuckDBConnection, type JS } from '@duckdb/node-api';
import { loadTableDdl, type TableDdl, type TableNames } from '../sql/ddl.js';
import type { SignalName } from '../otlp/signals.js';
import { localGatewayUsageTable } from '../settings.js';
import { duckdbUsageStore } from '../usage/duckdb-usage-store.js';
import { setUpTables } from '../usage/table-setup.js';
import { gatewayUsageDdl } from '../usage/usage-tables.js';
import type { Row } from './otlp-rows.js';

const DDL_FILE_BY_SIGNAL: Record<SignalName, string> = { metrics: 'otel_metrics', logs: 'otel_logs', traces: 'otel_spans' };

/**
 * The local stand-in for the Unity Catalog tables: a DuckDB file attached under the catalog's name,
 * so `<catalog>.<schema>.<table>` means the same thing here as in Databricks. It holds the relay's
 * tables (as `npm run uc:init` sets them up, price seed included) and an empty stand-in for the AI
 * Gateway's usage table, `<catalog>.ai_gateway.usage` (DuckDB reserves the catalog name `system`).
 */
export class TelemetryDb {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly connection: DuckDBConnection,
    private readonly instance: DuckDBInstance,
    readonly tables: Record<SignalName, TableDdl>,
    private readonly names: TableNames,
  ) {}

  static async open(path: string, names: TableNames): Promise<TelemetryDb> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    await connection.run(`ATTACH '${path.replaceAll("'", "''")}' AS ${names.catalog}`);
    await connection.run(`CREATE SCHEMA IF NOT EXISTS ${names.catalog}.${names.schema}`);
    // Dates and timestamps mean UTC, as in the usage roll-up.
    await connection.run(`SET TimeZone = 'UTC'`);
    const tables = {} as Record<SignalName, TableDdl>;
    for (const [signal, file] of Object.entries(DDL_FILE_BY_SIGNAL) as [SignalName, string][]) tables[signal] = loadTableDdl(file, names);
    await setUpTables(duckdbUsageStore(connection), names, () => {});
    await connection.run(`CREATE SCHEMA IF NOT EXISTS ${names.catalog}.ai_gateway`);
    await connection.run(gatewayUsageDdl(localGatewayUsageTable(names.catalog), names).duckdb);
    return new TelemetryDb(connection, instance, tables, names);
  }

  /** Appends rows to a signal's table; appends run one at a time. */
  append(signal: SignalName, rows: Row[]): Promise<void> {
    const run = this.queue.then(async () => {
      const table = this.tables[signal];
      const appender = await this.connection.createAppender(table.table.split('.')[2]!, this.names.schema, this.names.catalog);
      try {
        const writer = DuckDBDataChunkWriter.forAppender(appender, { converter: JSToDuckDBValueConverter });
        for (const row of rows) writer.appendRow(table.columns.map((c) => (row[c.name] ?? null) as JS));
        writer.flush();
      } finally {
        appender.closeSync();
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * A connection of its own for reading (see read-only-query.ts): its transactions are apart from the
   * appends and the roll-up, and `<schema>.<table>` resolves in the catalog as in Databricks.
   */
  async reader(): Promise<DuckDBConnection> {
    const connection = await this.instance.connect();
    await connection.run(`USE ${this.names.catalog}`);
    await connection.run(`SET TimeZone = 'UTC'`);
    return connection;
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
