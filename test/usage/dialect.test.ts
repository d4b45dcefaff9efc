import { DBSQLParameter, DBSQLParameterType } from '@databricks/sql';
import { describe, expect, it } from 'vitest';
import { parameterNames, renderSql } from '../../shared/usage/dialect.js';
import { isTransientWarehouseError } from '../../shared/usage/databricks-usage-store.js';
import { requestedRange, rollupStatement } from '../../shared/usage/rollup-usage.js';

const names = { catalog: 'main', schema: 'telemetry', prefix: 'agents' };
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
        ? sql.replaceAll(' DIV ', ' IDIV ').replace(/date_add\(DATE'1970-01-01', CAST\((\w+) AS INT\)\)/g, 'D2D($1)')
        : sql.replaceAll(' // ', ' IDIV ').replace(/\(DATE '1970-01-01' \+ CAST\((\w+) AS INTEGER\)\)/g, 'D2D($1)').replace(/\$(\w+)/g, ':$1');
    expect(normalize(duckdb.sql, 'duckdb')).toBe(normalize(databricks.sql, 'databricks'));
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
