import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Refusal } from '../../shared/http.js';
import { readOnlyQuery } from '../../shared/local/read-only-query.js';
import { TelemetryDb } from '../../shared/local/telemetry-db.js';

const NAMES = { catalog: 'dev', schema: 'coding_agents', prefix: 'agents' };

describe('readOnlyQuery', () => {
  const dir = mkdtempSync(join(tmpdir(), 'read-only-query-'));
  let db: TelemetryDb;

  beforeAll(async () => {
    db = await TelemetryDb.open(join(dir, 'telemetry.duckdb'), NAMES);
    await db.connection.run(`CREATE TABLE dev.coding_agents.t (id INTEGER, big BIGINT, attrs MAP(VARCHAR, VARCHAR), res STRUCT(attributes MAP(VARCHAR, VARCHAR)))`);
    await db.connection.run(`INSERT INTO dev.coding_agents.t VALUES (1, 9007199254740993, MAP {'user.email': 'a@x'}, {'attributes': MAP {'k': 'v'}}), (2, NULL, NULL, NULL), (3, 3, MAP {}, NULL)`);
  });
  afterAll(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function query(sql: string, maxRows = 100) {
    const connection = await db.reader();
    try {
      return await readOnlyQuery(connection, sql, maxRows);
    } finally {
      connection.closeSync();
    }
  }

  it('resolves <schema>.<table> and <catalog>.<schema>.<table> as in Databricks, with maps as objects and BIGINT as text', async () => {
    const short = await query('SELECT id, big, attrs, res FROM coding_agents.t ORDER BY id');
    expect(short).toEqual({
      columns: ['id', 'big', 'attrs', 'res'],
      types: ['INTEGER', 'BIGINT', 'MAP(VARCHAR, VARCHAR)', 'STRUCT("attributes" MAP(VARCHAR, VARCHAR))'],
      rows: [
        [1, '9007199254740993', { 'user.email': 'a@x' }, { attributes: { k: 'v' } }],
        [2, null, null, null],
        [3, '3', {}, null],
      ],
      truncated: false,
    });
    expect((await query('SELECT count(*) AS n FROM dev.coding_agents.t')).rows).toEqual([['3']]);
  });

  it.each(['DESCRIBE coding_agents.t', 'SHOW ALL TABLES', 'FROM coding_agents.t', 'SUMMARIZE coding_agents.t', 'WITH x AS (SELECT 1 AS a) SELECT a FROM x'])('runs the query %s', async (sql) => {
    expect((await query(sql)).rows.length).toBeGreaterThan(0);
  });

  it('reads at most maxRows rows and says when there were more', async () => {
    const result = await query('SELECT * FROM range(10)', 4);
    expect(result.rows).toEqual([['0'], ['1'], ['2'], ['3']]);
    expect(result.truncated).toBe(true);
    expect((await query('SELECT * FROM range(4)', 4)).truncated).toBe(false);
  });

  it.each([
    ['INSERT INTO coding_agents.t (id) VALUES (9)', 'read-only: only queries run here (SELECT, FROM, DESCRIBE, SHOW, SUMMARIZE), not INSERT statements'],
    ['DELETE FROM coding_agents.t', 'read-only: only queries run here (SELECT, FROM, DESCRIBE, SHOW, SUMMARIZE), not DELETE statements'],
    ['UPDATE coding_agents.t SET id = 0', 'read-only: only queries run here (SELECT, FROM, DESCRIBE, SHOW, SUMMARIZE), not UPDATE statements'],
    ['DROP TABLE coding_agents.t', 'read-only: only queries run here (SELECT, FROM, DESCRIBE, SHOW, SUMMARIZE), not DROP statements'],
    ["COPY coding_agents.t TO '/tmp/x.csv'", 'read-only: only queries run here (SELECT, FROM, DESCRIBE, SHOW, SUMMARIZE), not COPY statements'],
    ["ATTACH '/tmp/other.duckdb' AS other", 'read-only: only queries run here (SELECT, FROM, DESCRIBE, SHOW, SUMMARIZE), not ATTACH statements'],
    ['CALL checkpoint()', 'read-only: only queries run here (SELECT, FROM, DESCRIBE, SHOW, SUMMARIZE), not CALL statements'],
    ['EXPLAIN ANALYZE DELETE FROM coding_agents.t', 'read-only: only queries run here (SELECT, FROM, DESCRIBE, SHOW, SUMMARIZE), not EXPLAIN statements'],
    ['SELECT 1; DELETE FROM coding_agents.t', 'expected one statement, got 2'],
    [' \n', 'expected a query, got nothing'],
    ['SELECT * FROM nowhere', /^Catalog Error: Table with name nowhere does not exist!/],
    ['SELEC 1', 'Parser Error: syntax error at or near "SELEC"'],
  ] as [string, string | RegExp][])('refuses %j with 400: %s', async (sql, message) => {
    const refusal = await query(sql).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(Refusal);
    expect(refusal).toMatchObject({ status: 400, message });
    expect((await query('SELECT count(*) FROM coding_agents.t')).rows).toEqual([['3']]);
  });

  it('leaves the connection usable and outside a transaction after a refusal', async () => {
    const connection = await db.reader();
    try {
      await expect(readOnlyQuery(connection, 'DELETE FROM coding_agents.t', 10)).rejects.toThrow(Refusal);
      await expect(readOnlyQuery(connection, 'SELECT 1 AS one', 10)).resolves.toMatchObject({ rows: [[1]] });
    } finally {
      connection.closeSync();
    }
  });
});
