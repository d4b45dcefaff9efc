import { DBSQLParameter, DBSQLParameterType } from '@databricks/sql';
import { describe, expect, it } from 'vitest';
import { parameterNames, renderSql } from '../../shared/usage/dialect.js';
import { isTransientWarehouseError } from '../../shared/usage/databricks-usage-store.js';
import { requestedRange, rollupStatement } from '../../shared/usage/rollup-usage.js';

const names = { catalog: 'main', schema: 'telemetry', prefix: 'agents', gatewayUsage: 'system.ai_gateway.usage' };
const now = new Date('2026-11-22T00:15:00Z');
const range = { from: '2026-11-20', to: '2026-11-22' };

describe('renderSql', () => {
  it('writes the Databricks differences: DIV, date_add, :name parameters', () => {
    expect(renderSql('SELECT x {{IDIV}} 2, {{DAY_TO_DATE(d)}} FROM t WHERE a = :a', 'databricks')).toBe(
      "SELECT x DIV 2, date_add(DATE'1970-01-01', CAST(d AS INT)) FROM t WHERE a = :a",
    );
  });

  it('writes the DuckDB differences: //, date + integer, $name parameters', () => {
    expect(renderSql('SELECT x {{IDIV}} 2, {{DAY_TO_DATE(d)}} FROM t WHERE a = :a', 'duckdb')).toBe(
      "SELECT x // 2, (DATE '1970-01-01' + CAST(d AS INTEGER)) FROM t WHERE a = $a",
    );
  });

  it('writes the timestamp-to-day difference and one model-name rule for both', () => {
    expect(renderSql('{{TS_TO_DAY(t)}}', 'databricks')).toBe('unix_date(CAST(t AS DATE))');
    expect(renderSql('{{TS_TO_DAY(t)}}', 'duckdb')).toBe("(CAST(t AS DATE) - DATE '1970-01-01')");
    expect(renderSql('{{MODEL_KEY(m)}}', 'duckdb')).toBe(renderSql('{{MODEL_KEY(m)}}', 'databricks'));
  });

  it('refuses an unknown macro', () => {
    expect(() => renderSql('SELECT {{NOW()}}', 'duckdb')).toThrow('unknown SQL macro');
  });
});

describe('the roll-up statement', () => {
  const databricks = rollupStatement({ dialect: 'databricks' }, names, range, now);
  const duckdb = rollupStatement({ dialect: 'duckdb' }, names, range, now);

  it('binds exactly the named parameters its Databricks text uses', () => {
    expect([...parameterNames(databricks.sql)].sort()).toEqual(Object.keys(databricks.params).sort());
  });

  it('turns every parameter into a Databricks SQL parameter of the right type', () => {
    for (const [name, value] of Object.entries(databricks.params)) {
      const parameter = new DBSQLParameter({ type: typeof value === 'bigint' ? DBSQLParameterType.BIGINT : DBSQLParameterType.STRING, value });
      expect(parameter.toSparkParameter({ name })).toMatchObject({ name, type: typeof value === 'bigint' ? 'BIGINT' : 'STRING', value: { stringValue: String(value) } });
    }
  });

  it('differs between dialects only where the dialect layer says', () => {
    const normalize = (sql: string, dialect: 'databricks' | 'duckdb') =>
      dialect === 'databricks'
        ? sql
            .replaceAll(' DIV ', ' IDIV ')
            .replace(/date_add\(DATE'1970-01-01', CAST\(([\w.]+) AS INT\)\)/g, 'D2D($1)')
            .replace(/unix_date\(CAST\((\w+) AS DATE\)\)/g, 'T2D($1)')
        : sql
            .replaceAll(' // ', ' IDIV ')
            .replace(/\(DATE '1970-01-01' \+ CAST\(([\w.]+) AS INTEGER\)\)/g, 'D2D($1)')
            .replace(/\(CAST\((\w+) AS DATE\) - DATE '1970-01-01'\)/g, 'T2D($1)')
            .replace(/\$(\w+)/g, ':$1');
    expect(normalize(duckdb.sql, 'duckdb')).toBe(normalize(databricks.sql, 'databricks'));
  });

  it('reads the gateway table named by AI_GATEWAY_USAGE_TABLE, or a typed empty relation when it is off', () => {
    expect(databricks.sql).toContain('FROM system.ai_gateway.usage AS g');
    const off = { ...names, gatewayUsage: undefined };
    expect(rollupStatement({ dialect: 'databricks' }, off, range, now).sql).toContain(
      'FROM (SELECT CAST(NULL AS STRING) AS request_id, CAST(NULL AS TIMESTAMP) AS event_time, CAST(NULL AS STRING) AS requester, CAST(NULL AS STRING) AS user_agent, CAST(NULL AS STRING) AS url, CAST(NULL AS STRING) AS destination_model, CAST(NULL AS BIGINT) AS input_tokens, CAST(NULL AS BIGINT) AS output_tokens, CAST(NULL AS BIGINT) AS total_tokens, CAST(NULL AS STRUCT<cache_read_input_tokens: BIGINT, cache_creation_input_tokens: BIGINT>) AS token_details LIMIT 0) AS g',
    );
    expect(rollupStatement({ dialect: 'duckdb' }, off, range, now).sql).toContain('CAST(NULL AS STRUCT("cache_read_input_tokens" BIGINT, "cache_creation_input_tokens" BIGINT)) AS token_details LIMIT 0) AS g');
  });

  it('uses three-part table names and no DuckDB-only syntax in the Databricks text', () => {
    expect(databricks.sql).toContain('MERGE INTO main.telemetry.agents_usage_daily AS t');
    expect(databricks.sql).toContain('FROM main.telemetry.agents_otel_logs AS l');
    expect(databricks.sql).not.toMatch(/\/\/|\$\w|::|\{\{/);
  });

  it('covers the window plus one day of lookback, in nanoseconds', () => {
    expect(databricks.params).toEqual({
      from_day: 20777n,
      to_day: 20779n,
      from_nanos: 20776n * 86_400_000_000_000n,
      to_nanos: 20780n * 86_400_000_000_000n,
      from_time: '2026-11-20 00:00:00',
      to_time: '2026-11-23 00:00:00',
      computed_at: '2026-11-22T00:15:00.000Z',
    });
  });

  it.each([
    [{ from: '2026-11-22', to: '2026-11-20' }, 'from (2026-11-22) is after to (2026-11-20)'],
    [{ from: '22/11/2026', to: '2026-11-22' }, 'from: expected a date as YYYY-MM-DD, got "22/11/2026"'],
    [{ from: '2025-01-01', to: '2026-11-22' }, 'at most 366 days at a time'],
  ])('refuses the range %j', (bad, message) => {
    expect(() => rollupStatement({ dialect: 'duckdb' }, names, bad, now)).toThrow(message);
  });
});

describe('isTransientWarehouseError', () => {
  it.each([
    ['HTTP 503 Service Unavailable', true],
    ['TEMPORARILY_UNAVAILABLE: warehouse is starting', true],
    ['read ECONNRESET', true],
    ['429 Too Many Requests', true],
    ['[TABLE_OR_VIEW_NOT_FOUND] The table cannot be found', false],
    ['PERMISSION_DENIED: User does not have MODIFY', false],
  ])('treats %j as transient: %s', (message, transient) => {
    expect(isTransientWarehouseError(new Error(message))).toBe(transient);
  });
});

describe('requestedRange', () => {
  it.each([
    [undefined, undefined, { from: '2026-11-20', to: '2026-11-22' }],
    ['2026-11-01', undefined, { from: '2026-11-01', to: '2026-11-01' }],
    ['2026-11-01', '2026-11-05', { from: '2026-11-01', to: '2026-11-05' }],
    [undefined, '2026-11-05', { from: '2026-11-20', to: '2026-11-05' }],
  ])('reads from=%s to=%s', (from, to, expected) => {
    expect(requestedRange(from, to, 3, now)).toEqual(expected);
  });
});
