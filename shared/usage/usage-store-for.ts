import type { TokenProvider } from '../databricks-token.js';
import type { TelemetryDb } from '../local/telemetry-db.js';
import type { Settings } from '../settings.js';
import { databricksUsageStore } from './databricks-usage-store.js';
import { duckdbUsageStore } from './duckdb-usage-store.js';
import type { UsageStore } from './usage-store.js';

/** Reads answer a person: one attempt, a short statement, and a cold warehouse reported (503) rather than waited for. */
const READ = { statementTimeoutSeconds: 60, driverRetryTimeoutMs: 10_000 };

/**
 * The store the roll-up runs on: the SQL warehouse in Databricks mode (needs
 * DATABRICKS_WAREHOUSE_HTTP_PATH), the embedded DuckDB in local mode; undefined when neither is there
 * (say, local mode forwarding to another ingest URL). `purpose: 'read'` is the store of GET /api/usage.
 */
export function usageStoreFor(
  settings: Settings,
  deps: { telemetryDb: TelemetryDb | undefined; tokens: TokenProvider; warn: (m: string) => void },
  purpose: 'rollup' | 'read' = 'rollup',
): UsageStore | undefined {
  if (settings.mode === 'databricks') {
    if (!settings.usage.warehouseHttpPath) return undefined;
    return databricksUsageStore({
      host: settings.databricksHost!,
      httpPath: settings.usage.warehouseHttpPath,
      tokens: deps.tokens,
      maxAttempts: purpose === 'read' ? 1 : settings.usage.maxAttempts,
      statementTimeoutSeconds: purpose === 'read' ? READ.statementTimeoutSeconds : settings.usage.statementTimeoutSeconds,
      driverRetryTimeoutMs: purpose === 'read' ? READ.driverRetryTimeoutMs : undefined,
      warn: deps.warn,
    });
  }
  return deps.telemetryDb && duckdbUsageStore(deps.telemetryDb.connection);
}

export const USAGE_NOT_CONFIGURED =
  'the usage roll-up has no SQL engine: set DATABRICKS_WAREHOUSE_HTTP_PATH (Databricks mode), or use the embedded ingest (local mode)';
