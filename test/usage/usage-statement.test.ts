import { DBSQLParameter, DBSQLParameterType } from '@databricks/sql';
import { describe, expect, it } from 'vitest';
import { parameterNames } from '../../shared/usage/dialect.js';
import { GROUP_KEY_NAMES, type GroupKey } from '../../shared/usage/usage-columns.js';
import type { UsageQuery } from '../../shared/usage/usage-query.js';
import { usageStatement } from '../../shared/usage/usage-statement.js';
import { sparkSyntaxErrors } from '../spark-sql.js';

const names = { catalog: 'main', schema: 'telemetry', prefix: 'agents' };

/** Every ordered subset of the group_by keys (65 of them). */
function orderedSubsets(keys: readonly GroupKey[]): GroupKey[][] {
  if (keys.length === 0) return [[]];
  return [[], ...keys.flatMap((k) => orderedSubsets(keys.filter((o) => o !== k)).map((rest) => [k, ...rest]))].filter(
    (s, i, all) => all.findIndex((o) => o.join() === s.join()) === i,
  );
}

const query = (groupBy: GroupKey[], filters: UsageQuery['filters'] = {}): UsageQuery => ({ from: '2026-11-01', to: '2026-11-22', groupBy, filters, format: 'json' });
const ALL_FILTERS = { agent: 'codex', model: 'gpt', user: 'bob@contoso.example' };

describe('usageStatement (Databricks)', () => {
  const groupings = orderedSubsets(GROUP_KEY_NAMES);

  it('covers every ordered subset of group_by keys', () => {
    expect(groupings).toHaveLength(65);
  });

  it.each([
    ['no filters, everyone', {}, undefined],
    ['every filter, one viewer', ALL_FILTERS, 'bob-1'],
  ])('parses as Spark SQL for every grouping (%s)', (_case, filters, viewer) => {
    for (const groupBy of groupings) {
      const { sql } = usageStatement('databricks', names, query(groupBy, filters), viewer);
      expect(sparkSyntaxErrors(sql), `${groupBy.join(',')}\n${sql}`).toEqual([]);
    }
  });

  it.each(['SELECT sum(x) FROM t WHERE a = $a', 'SELECT sum(x) FROM t WHERE a =', 'SELECT sum(x) FROM t GROUP BY'])('has a syntax check that refuses %j', (bad) => {
    expect(sparkSyntaxErrors(bad)).not.toEqual([]);
  });

  it.each([
    ['no filters', {}, undefined, ['from_date', 'to_date']],
    ['every filter, one viewer', ALL_FILTERS, 'bob-1', ['agent', 'from_date', 'model', 'to_date', 'user_key', 'viewer_id']],
  ])('binds exactly the named parameters its text uses (%s)', (_case, filters, viewer, expected) => {
    const { sql, params } = usageStatement('databricks', names, query(['day', 'user'], filters), viewer);
    expect([...parameterNames(sql)].sort()).toEqual(expected);
    expect(Object.keys(params).sort()).toEqual(expected);
    for (const [name, value] of Object.entries(params)) {
      expect(new DBSQLParameter({ type: DBSQLParameterType.STRING, value }).toSparkParameter({ name })).toMatchObject({ name, type: 'STRING', value: { stringValue: value } });
    }
  });

  it('carries values only as parameters, never in the text', () => {
    const { sql } = usageStatement('databricks', names, query(['agent'], ALL_FILTERS), 'bob-1');
    for (const value of [...Object.values(ALL_FILTERS), 'bob-1', '2026-11-01']) expect(sql).not.toContain(value);
    expect(sql).toContain('FROM main.telemetry.agents_usage_daily');
  });

  it('writes DuckDB parameters as $name and nothing else differently', () => {
    const q = query(['day', 'agent'], ALL_FILTERS);
    expect(usageStatement('duckdb', names, q, 'v').sql).toBe(usageStatement('databricks', names, q, 'v').sql.replace(/:(\w+)/g, '$$$1'));
  });
});
