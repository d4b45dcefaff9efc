import { DBSQLClient, DBSQLParameter, DBSQLParameterType } from '@databricks/sql';
import pRetry, { AbortError } from 'p-retry';
import type { TokenProvider } from '../databricks-token.js';
import type { SqlParams } from './dialect.js';
import type { UsageStore } from './usage-store.js';

export interface DatabricksStoreOptions {
  /** Workspace URL, e.g. https://adb-123.4.azuredatabricks.net */
  host: string;
  /** The SQL warehouse's HTTP path, /sql/1.0/warehouses/<id>. */
  httpPath: string;
  tokens: TokenProvider;
  maxAttempts: number;
  statementTimeoutSeconds: number;
  /** Total wall time the driver may spend retrying one request (its default is 15 minutes); reads that answer a person keep it short. */
  driverRetryTimeoutMs?: number;
  warn: (message: string) => void;
}

/**
 * Errors worth another attempt: a stopped warehouse starting (503 / TEMPORARILY_UNAVAILABLE, 30 s to
 * minutes), throttling, dropped connections. Anything else (SQL errors, permissions) fails at once.
 */
export function isTransientWarehouseError(err: unknown): boolean {
  const text = `${(err as { code?: unknown }).code ?? ''} ${(err as Error).message ?? ''}`;
  return /\b(429|502|503|504)\b|TEMPORARILY_UNAVAILABLE|starting|ECONNRESET|ETIMEDOUT|ECONNREFUSED|socket hang up/i.test(text);
}

function parameters(params: SqlParams): Record<string, DBSQLParameter> {
  return Object.fromEntries(
    Object.entries(params).map(([name, value]) => [
      name,
      new DBSQLParameter({ type: typeof value === 'bigint' ? DBSQLParameterType.BIGINT : DBSQLParameterType.STRING, value }),
    ]),
  );
}

/**
 * The roll-up inside the Databricks SQL warehouse through @databricks/sql: the statement runs there,
 * no raw rows come back. Authenticates with the relay's own Databricks token (PAT or OAuth M2M from
 * Key Vault); bounded retries cover a cold warehouse.
 */
export function databricksUsageStore(options: DatabricksStoreOptions): UsageStore {
  const client = new DBSQLClient();
  let connected: ReturnType<DBSQLClient['connect']> | undefined;

  async function attempt(sql: string, params: SqlParams): Promise<Record<string, unknown>[]> {
    connected ??= client.connect({
      host: new URL(options.host).host,
      path: options.httpPath,
      authType: 'external-token',
      getToken: () => options.tokens.token(),
      telemetryEnabled: false,
      ...(options.driverRetryTimeoutMs === undefined ? {} : { retryMaxAttempts: 1, retriesTimeout: options.driverRetryTimeoutMs }),
    });
    const session = await (await connected).openSession({ configuration: { STATEMENT_TIMEOUT: String(options.statementTimeoutSeconds), TIMEZONE: 'UTC' } });
    try {
      const operation = await session.executeStatement(sql, { namedParameters: parameters(params) });
      try {
        return (await operation.fetchAll()) as Record<string, unknown>[];
      } finally {
        await operation.close();
      }
    } finally {
      await session.close();
    }
  }

  async function run(sql: string, params: SqlParams): Promise<Record<string, unknown>[]> {
    return pRetry(
      () =>
        attempt(sql, params).catch((err: unknown) => {
          if (!isTransientWarehouseError(err)) throw new AbortError(err as Error);
          connected = undefined; // reconnect: the connection may be what failed
          throw err;
        }),
      {
        retries: options.maxAttempts - 1,
        minTimeout: 5000,
        maxTimeout: 60_000,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) =>
          options.warn(`usage roll-up attempt ${attemptNumber} failed (${retriesLeft} left): ${error.message}`),
      },
    );
  }

  return {
    dialect: 'databricks',
    execute: async (sql, params) => void (await run(sql, params)),
    query: run,
    close: async () => {
      if (connected) await (await connected).close();
    },
  };
}
