import { answering } from '../answering.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlainRequest } from '../../shared/http.js';
import { SignInError, type SignedInUser, type UserSignIn } from '../../shared/identity/user-sign-in.js';
import { TelemetryDb } from '../../shared/local/telemetry-db.js';
import { duckdbUsageStore } from '../../shared/usage/duckdb-usage-store.js';
import { usageReadHandler, type UsageReadDeps } from '../../shared/usage/handle-usage-read.js';
import type { UsageStore } from '../../shared/usage/usage-store.js';

const names = { catalog: 'dev', schema: 'coding_agents', prefix: 'agents' };
const TABLE = 'dev.coding_agents.agents_usage_daily';
const NOW = new Date('2026-11-22T12:00:00Z');

const ADMIN: SignedInUser = { id: 'admin-1', email: 'admin@contoso.example', roles: ['Usage.Admin'], source: 'entra' };
const BOB: SignedInUser = { id: 'bob-1', email: 'Bob@contoso.example', roles: ['Something.Else'], source: 'entra' };

/** Sign-in that trusts `x-test-user` (the handler's logic is what is under test); no header: refused like a missing token. */
const headerSignIn: UserSignIn = async (headers) => {
  const who = headers['x-test-user'];
  if (who === 'admin') return ADMIN;
  if (who === 'bob') return BOB;
  throw new SignInError('sign-in required: send Authorization: Bearer <Entra ID access token>');
};

// (day, agent, user, model, input, output, cost, sessions, lines_added, active_seconds)
const ROWS: [string, string, string, string, number, number, number | null, number, number, number | null][] = [
  ['2026-11-20', 'claude-code', 'bob-1', 'opus', 100, 10, 0.5, 0, 0, null],
  ['2026-11-20', 'claude-code', 'bob-1', '', 0, 0, null, 2, 12, 30.5],
  ['2026-11-20', 'codex', 'carol-1', 'gpt', 200, 20, null, 0, 0, null],
  ['2026-11-21', 'codex', 'bob-1', 'gpt', 300, 30, null, 1, 0, null],
  ['2026-11-21', 'gemini-cli', 'carol-1', 'flash', 400, 40, null, 1, 3, null],
  ['2026-11-22', 'claude-code', 'carol-1', 'opus', 1000, 100, 2.25, 3, 0, 10],
];
const EMAIL: Record<string, string> = { 'bob-1': 'bob@contoso.example', 'carol-1': 'carol@contoso.example' };

let db: TelemetryDb;
let store: UsageStore;

beforeAll(async () => {
  db = await TelemetryDb.open(':memory:', names);
  store = duckdbUsageStore(db.connection);
  for (const [day, agent, user, model, input, output, cost, sessions, lines, active] of ROWS) {
    await db.connection.run(
      `INSERT INTO ${TABLE} (usage_date, agent, user_id, user_email, model, input_tokens, output_tokens, cost_usd, sessions, lines_added, active_seconds, requests, computed_at)
       VALUES (CAST($day AS DATE), $agent, $user, $email, $model, $input, $output, $cost, $sessions, $lines, $active, 1, now())`,
      { day, agent, user, email: EMAIL[user]!, model, input, output, cost, sessions, lines, active },
    );
  }
});
afterAll(() => db.close());

function handler(overrides: Partial<UsageReadDeps> = {}) {
  return answering(usageReadHandler({ store, names, userSignIn: headerSignIn, adminRole: 'Usage.Admin', maxDays: 366, now: () => NOW, ...overrides }));
}

function get(url: string, who: string | undefined = 'admin', headers: Record<string, string> = {}): PlainRequest {
  return { method: 'GET', url, headers: { ...(who ? { 'x-test-user': who } : {}), ...headers }, body: new Uint8Array() };
}

async function json(url: string, who?: string, deps?: Partial<UsageReadDeps>) {
  const response = await handler(deps)(get(url, who));
  return { status: response.status, headers: response.headers, body: JSON.parse(Buffer.from(response.body).toString('utf8')) };
}

describe('usageReadHandler', () => {
  it('sums the whole range into one row and totals without group_by', async () => {
    const { status, body, headers } = await json('/api/usage?from=2026-11-20&to=2026-11-22');
    expect(status).toBe(200);
    expect(headers['cache-control']).toBe('no-store');
    expect(body).toMatchObject({ from: '2026-11-20', to: '2026-11-22', group_by: [], scope: 'all' });
    expect(body.rows).toHaveLength(1);
    expect(body.rows[0]).toMatchObject({ tokens: 2200, input_tokens: 2000, output_tokens: 200, cost_usd: 2.75, sessions: 7, lines_added: 15, active_seconds: 40.5, requests: 6 });
    expect(body.totals).toEqual(Object.fromEntries(Object.entries(body.rows[0])));
  });

  it('groups by the keys in the order given and orders rows by them', async () => {
    const { body } = await json('/api/usage?from=2026-11-20&to=2026-11-22&group_by=agent,day');
    expect(body.group_by).toEqual(['agent', 'day']);
    expect(body.rows.map((r: Record<string, unknown>) => [r.agent, r.day, r.tokens])).toEqual([
      ['claude-code', '2026-11-20', 110],
      ['claude-code', '2026-11-22', 1100],
      ['codex', '2026-11-20', 220],
      ['codex', '2026-11-21', 330],
      ['gemini-cli', '2026-11-21', 440],
    ]);
    expect(Object.keys(body.rows[0]).slice(0, 3)).toEqual(['agent', 'day', 'tokens']);
    expect(body.totals.tokens).toBe(2200);
  });

  it('groups by user with the email the user was seen with', async () => {
    const { body } = await json('/api/usage?from=2026-11-20&to=2026-11-22&group_by=user');
    expect(body.rows.map((r: Record<string, unknown>) => [r.user_id, r.user_email, r.tokens, r.cost_usd])).toEqual([
      ['bob-1', 'bob@contoso.example', 440, 0.5],
      ['carol-1', 'carol@contoso.example', 1760, 2.25],
    ]);
  });

  it('keeps cost NULL where the rows have none (a model without a price)', async () => {
    const { body } = await json('/api/usage?from=2026-11-21&to=2026-11-21&group_by=agent');
    expect(body.rows.map((r: Record<string, unknown>) => r.cost_usd)).toEqual([null, null]);
    expect(body.totals.cost_usd).toBeNull();
  });

  it.each([
    ['agent=codex', 550],
    ['model=opus', 1210],
    ['user=carol-1', 1760],
    ['user=CAROL@contoso.example', 1760],
    ['agent=codex&user=bob-1', 330],
    ['agent=cursor', null],
  ])('filters by %s', async (filter, tokens) => {
    const { body } = await json(`/api/usage?from=2026-11-20&to=2026-11-22&${filter}`);
    expect(body.totals.tokens).toBe(tokens);
  });

  it('answers an empty range with no rows and null totals', async () => {
    const { status, body } = await json('/api/usage?from=2025-01-01&to=2025-01-31&group_by=day');
    expect(status).toBe(200);
    expect(body.rows).toEqual([]);
    expect(Object.values(body.totals).every((v) => v === null)).toBe(true);
  });

  it('defaults to the last 30 days up to today (UTC)', async () => {
    const { body } = await json('/api/usage');
    expect(body).toMatchObject({ from: '2026-10-24', to: '2026-11-22' });
    expect(body.totals.tokens).toBe(2200);
  });

  describe('who may read', () => {
    it("shows a user without the admin role only their own rows", async () => {
      const { body } = await json('/api/usage?from=2026-11-20&to=2026-11-22&group_by=user', 'bob');
      expect(body.scope).toBe('own');
      expect(body.rows.map((r: Record<string, unknown>) => r.user_id)).toEqual(['bob-1']);
      expect(body.totals.tokens).toBe(440);
    });

    it('lets a user name themselves by id or email (any case)', async () => {
      expect((await json('/api/usage?from=2026-11-20&to=2026-11-22&user=bob-1', 'bob')).body.totals.tokens).toBe(440);
      expect((await json('/api/usage?from=2026-11-20&to=2026-11-22&user=BOB@contoso.example', 'bob')).body.totals.tokens).toBe(440);
    });

    it("refuses another user's rows to a user without the admin role", async () => {
      const { status, body } = await json('/api/usage?user=carol-1', 'bob');
      expect(status).toBe(403);
      expect(body).toEqual({ error: "only holders of the app role Usage.Admin may read other users' usage", parameter: 'user' });
    });

    it('takes the admin role from USAGE_ADMIN_ROLE', async () => {
      const { body } = await json('/api/usage?from=2026-11-20&to=2026-11-22', 'bob', { adminRole: 'Something.Else' });
      expect(body.scope).toBe('all');
      expect(body.totals.tokens).toBe(2200);
    });

    it('treats the local identity as admin', async () => {
      const local: UserSignIn = async () => ({ id: 'local-developer', email: 'developer@localhost', roles: [], source: 'local' });
      expect((await json('/api/usage?from=2026-11-20&to=2026-11-22', '', { userSignIn: local })).body.scope).toBe('all');
    });

    it('answers 401 with a challenge without sign-in', async () => {
      const { status, headers, body } = await json('/api/usage', '');
      expect(status).toBe(401);
      expect(headers['www-authenticate']).toBe('Bearer realm="coding-agent-relay"');
      expect(body.error).toMatch(/^sign-in required/);
    });

    it('answers 503 when sign-in is not configured', async () => {
      expect((await json('/api/usage', 'admin', { userSignIn: undefined })).status).toBe(503);
    });
  });

  it.each([
    ['from=2026-13-01&to=2026-11-22', 'from', 'from: expected a date as YYYY-MM-DD, got "2026-13-01"'],
    ['from=2026-02-30&to=2026-03-01', 'from', 'from: expected a date as YYYY-MM-DD, got "2026-02-30"'],
    ['from=2026-11-01&to=22.11.2026', 'to', 'to: expected a date as YYYY-MM-DD, got "22.11.2026"'],
    ['from=2026-11-22&to=2026-11-01', 'from', 'from (2026-11-22) is after to (2026-11-01)'],
    ['from=2025-01-01&to=2026-11-22', 'to', 'at most 366 days at a time (2025-01-01 to 2026-11-22 is 691)'],
    ['group_by=day,week', 'group_by', 'group_by: unknown key "week"; use any of day, agent, user, model, comma-separated'],
    ['group_by=day,day', 'group_by', 'group_by: "day" given twice'],
    ['format=xml', 'format', 'format: expected json or csv, got "xml"'],
    ['agent=a%27%3B%20DROP', 'agent', 'agent: expected 1 to 200 letters, digits, spaces or . _ @ : / + -'],
    ['model=', 'model', 'model: expected 1 to 200 letters, digits, spaces or . _ @ : / + -'],
    ['agent=codex&agent=claude-code', 'agent', 'agent: given 2 times; give it once'],
    ['groupby=day', 'groupby', 'unknown parameter "groupby"; known: from, to, group_by, format, agent, user, model'],
  ])('answers %s with 400 naming %s', async (query, parameter, error) => {
    const { status, body } = await json(`/api/usage?${query}`);
    expect(status).toBe(400);
    expect(body).toEqual({ error, parameter });
  });

  it('serves at most USAGE_MAX_DAYS days', async () => {
    const { status, body } = await json('/api/usage?from=2026-11-01&to=2026-11-22', 'admin', { maxDays: 7 });
    expect(status).toBe(400);
    expect(body.parameter).toBe('to');
  });

  it('answers other methods with 405', async () => {
    const response = await handler()({ ...get('/api/usage'), method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('GET');
  });

  describe('CSV', () => {
    it('answers format=csv with a header row and one line per group', async () => {
      const response = await handler()(get('/api/usage?from=2026-11-20&to=2026-11-22&group_by=day&format=csv'));
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(response.headers['content-disposition']).toBe('attachment; filename="usage-2026-11-20-2026-11-22.csv"');
      const lines = Buffer.from(response.body).toString('utf8').split('\r\n');
      expect(lines[0]).toBe('day,tokens,input_tokens,output_tokens,cache_read_tokens,cache_creation_tokens,reasoning_tokens,cost_usd,sessions,requests,errors,lines_added,lines_removed,commits,pull_requests,tool_calls,active_seconds,agent_reported_cost_usd,gateway_requests,gateway_input_tokens,gateway_output_tokens,gateway_cache_read_tokens,gateway_cache_creation_tokens,telemetry_requests,telemetry_input_tokens,telemetry_output_tokens,telemetry_cache_read_tokens,telemetry_cache_creation_tokens,telemetry_reasoning_tokens');
      expect(lines.slice(1)).toEqual([
        '2026-11-20,330,300,30,,,,0.5,2,3,,12,,,,,30.5,,,,,,,,,,,,',
        '2026-11-21,770,700,70,,,,,2,2,,3,,,,,,,,,,,,,,,,,',
        '2026-11-22,1100,1000,100,,,,2.25,3,1,,0,,,,,10,,,,,,,,,,,,',
        '',
      ]);
    });

    it('answers Accept: text/csv with CSV', async () => {
      const response = await handler()(get('/api/usage?from=2026-11-20&to=2026-11-22', 'admin', { accept: 'text/html, text/csv;q=0.9' }));
      expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    });

    it('quotes and neutralises text a spreadsheet would run', async () => {
      await db.connection.run(`INSERT INTO ${TABLE} (usage_date, agent, user_id, user_email, model, input_tokens, computed_at) VALUES (DATE '2024-01-01', '=HYPERLINK("x")', 'u,1', '@evil', 'm', 1, now())`);
      const response = await handler()(get('/api/usage?from=2024-01-01&to=2024-01-01&group_by=agent,user&format=csv'));
      const line = Buffer.from(response.body).toString('utf8').split('\r\n')[1]!;
      expect(line.startsWith(`"'=HYPERLINK(""x"")","u,1",'@evil,1,`)).toBe(true);
    });
  });

  describe('the SQL warehouse', () => {
    const failing = (message: string): UsageStore => ({ dialect: 'databricks', execute: async () => {}, query: async () => Promise.reject(new Error(message)), close: async () => {} });

    it('answers 503 with Retry-After while the warehouse is starting or down', async () => {
      const response = await handler({ store: failing('HTTP 503 TEMPORARILY_UNAVAILABLE: warehouse is starting') })(get('/api/usage'));
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('30');
      expect(JSON.parse(Buffer.from(response.body).toString('utf8')).error).toBe('the SQL warehouse is starting or unavailable; retry in 30 s');
    });

    it('lets other failures through (the app answers them with a generic 500)', async () => {
      await expect(handler({ store: failing('[TABLE_OR_VIEW_NOT_FOUND] no table') })(get('/api/usage'))).rejects.toThrow('TABLE_OR_VIEW_NOT_FOUND');
    });

    it('answers 503 when no SQL engine is configured', async () => {
      expect((await json('/api/usage', 'admin', { store: undefined })).status).toBe(503);
    });
  });
});
