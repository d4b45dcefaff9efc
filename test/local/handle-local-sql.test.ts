import { bufferedBody } from '../../shared/http.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../shared/app.js';
import { silentLog } from '../../shared/log.js';
import { TEST_SIGNING_KEY } from '../credentials.js';

function post(app: App, body: string, headers: Record<string, string> = {}) {
  return app.handle({ method: 'POST', url: '/api/local/sql', headers: { host: '127.0.0.1:7071', 'content-type': 'application/json', ...headers }, body: bufferedBody(Buffer.from(body)) });
}

const json = (response: { body: Uint8Array }) => JSON.parse(Buffer.from(response.body).toString()) as unknown;

describe('POST /api/local/sql (local mode)', () => {
  let app: App;

  beforeAll(async () => {
    app = await createApp({ LOCAL_DUCKDB_PATH: ':memory:', RELAY_SIGNING_KEY: TEST_SIGNING_KEY }, silentLog);
    await app.telemetryDb!.connection.run(`INSERT INTO dev.coding_agents.agents_usage_daily (usage_date, agent, user_id, user_email, model) VALUES (DATE '2026-11-22', 'gemini-cli', 'u1', 'u1@x', 'm')`);
  });
  afterAll(() => app.close());

  it('answers the rows of one query under the Databricks names', async () => {
    const response = await post(app, JSON.stringify({ sql: 'SELECT agent, usage_date FROM coding_agents.agents_usage_daily', maxRows: 5 }));
    expect(response.status).toBe(200);
    expect(json(response)).toEqual({ columns: ['agent', 'usage_date'], types: ['VARCHAR', 'DATE'], rows: [['gemini-cli', '2026-11-22']], truncated: false });
  });

  it.each([
    ['a statement that writes', JSON.stringify({ sql: 'DELETE FROM coding_agents.agents_usage_daily' }), {}, 400, 'read-only: only queries run here (SELECT, FROM, DESCRIBE, SHOW, SUMMARIZE), not DELETE statements'],
    ['a body that is not JSON', 'SELECT 1', {}, 400, 'body: expected JSON {"sql": "<query>", "maxRows": <n>}'],
    ['no query', JSON.stringify({ maxRows: 1 }), {}, 400, 'sql: expected the query as a string'],
    ['a bad maxRows', JSON.stringify({ sql: 'SELECT 1', maxRows: 0 }), {}, 400, 'maxRows: expected an integer from 1 to 100000'],
    ['a form post', 'sql=SELECT+1', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'send Content-Type: application/json'],
    ['a host that is not loopback (DNS rebinding)', JSON.stringify({ sql: 'SELECT 1' }), { host: 'attacker.example:7071' }, 403, 'POST /api/local/sql answers only on a loopback host (127.0.0.1, localhost)'],
  ])('refuses %s', async (_case, body, headers, status, error) => {
    const response = await post(app, body, headers);
    expect({ status: response.status, body: json(response) }).toEqual({ status, body: { error } });
  });

  it('leaves the rows in place after a refused write', async () => {
    await post(app, JSON.stringify({ sql: 'DROP TABLE coding_agents.agents_usage_daily' }));
    expect(json(await post(app, JSON.stringify({ sql: 'SELECT count(*) AS n FROM coding_agents.agents_usage_daily' })))).toMatchObject({ rows: [['1']] });
  });

  it('answers 405 to GET', async () => {
    const response = await app.handle({ method: 'GET', url: '/api/local/sql', headers: { host: '127.0.0.1' }, body: bufferedBody(new Uint8Array()) });
    expect(response.status).toBe(405);
  });
});

describe('POST /api/local/sql without the embedded ingest', () => {
  it('answers 404', async () => {
    const app = await createApp({ OTEL_INGEST_URL: 'http://127.0.0.1:9/otel', RELAY_SIGNING_KEY: TEST_SIGNING_KEY }, silentLog);
    try {
      const response = await post(app, JSON.stringify({ sql: 'SELECT 1' }));
      expect({ status: response.status, body: json(response) }).toEqual({ status: 404, body: { error: 'POST /api/local/sql reads the embedded ingest’s DuckDB file: there is none (it runs in local mode without OTEL_INGEST_URL)' } });
    } finally {
      await app.close();
    }
  });
});
