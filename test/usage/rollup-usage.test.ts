import { silentLog } from '../../shared/log.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../shared/app.js';
import { TelemetryDb } from '../../shared/local/telemetry-db.js';
import { duckdbUsageStore } from '../../shared/usage/duckdb-usage-store.js';
import { rollupUsage } from '../../shared/usage/rollup-usage.js';
import type { UsageStore } from '../../shared/usage/usage-store.js';
import { ALICE, bearerFor, TEST_SIGNING_KEY } from '../credentials.js';
import { fixtures } from '../fixtures.js';
import { claudeApiRequest, ingest, logs, sums, type Who } from './builders.js';

const names = { catalog: 'dev', schema: 'coding_agents', prefix: 'agents', gatewayUsage: 'dev.ai_gateway.usage' };
const TABLE = 'dev.coding_agents.agents_usage_daily';
const quiet = silentLog;

async function usageRows(store: UsageStore, where = 'TRUE') {
  return store.query(`SELECT * EXCLUDE (computed_at) FROM ${TABLE} WHERE ${where} ORDER BY usage_date, agent, user_id, model`, {});
}

/** The telemetry_* columns of a row, for expectations. */
function telemetry(values: Record<string, string>) {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k === 'source' ? 'telemetry_source' : `telemetry_${k}`, v]));
}

/** A row with only its non-empty columns (no NULLs, no zero counts), for readable expectations. */
function compact(row: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null && v !== '0'));
}

describe('usage roll-up of the real agent fixtures, through the relay', () => {
  let app: App;
  let store: UsageStore;

  beforeEach(async () => {
    app = await createApp({ LOCAL_DUCKDB_PATH: ':memory:', RELAY_SIGNING_KEY: TEST_SIGNING_KEY }, quiet);
    for (const f of fixtures()) {
      const response = await app.handle({
        method: 'POST',
        url: `/api/otel/v1/${f.signal}`,
        headers: { 'content-type': f.contentType, authorization: await bearerFor(f.agent) },
        body: f.body,
      });
      expect(response.status, f.file).toBe(200);
    }
    store = duckdbUsageStore(app.telemetryDb!.connection);
  });
  afterEach(() => app.close());

  it("puts every fixture's tokens once under the right agent, user and model", async () => {
    await rollupUsage(store, names, { from: '2026-11-21', to: '2026-11-23' }, new Date('2026-11-23T00:15:00Z'));
    const who = { usage_date: '2026-11-22', user_id: ALICE.userId, user_email: ALICE.email };
    expect((await usageRows(store)).map(compact)).toEqual([
      { ...who, agent: 'claude-code', model: '', sessions: '1', active_seconds: 0.353 },
      {
        ...who,
        agent: 'claude-code',
        model: 'claude-opus-4-6',
        requests: '1',
        input_tokens: '123',
        output_tokens: '45',
        cache_read_tokens: '7',
        cache_creation_tokens: '3',
        tokens_source: 'events',
        // 123 x $5 + 45 x $25 + 7 x $0.50 + 3 x $6.25 per million: what Claude Code reported itself.
        cost_usd: 0.00176225,
        price_effective_from: '2025-01-01',
        ...telemetry({ requests: '1', input_tokens: '123', output_tokens: '45', cache_read_tokens: '7', cache_creation_tokens: '3', source: 'events' }),
        agent_reported_cost_usd: 0.0017622500000000004,
      },
      { ...who, agent: 'codex', model: '', sessions: '1' },
      {
        ...who,
        agent: 'codex',
        model: 'gpt-5-2',
        requests: '1',
        // OpenAI counts the 50 cached tokens within its 200 input tokens; the headline keeps them apart.
        input_tokens: '150',
        output_tokens: '30',
        cache_read_tokens: '50',
        reasoning_tokens: '10',
        tokens_source: 'events',
        cost_usd: 0.00069125, // 150 x $1.75 + 30 x $14 + 50 x $0.175 per million
        price_effective_from: '2025-01-01',
        ...telemetry({ requests: '1', input_tokens: '200', output_tokens: '30', cache_read_tokens: '50', reasoning_tokens: '10', source: 'events' }),
      },
      { ...who, agent: 'gemini-cli', model: '', sessions: '1' },
      // Gemini CLI reports the model the API answered with (the fake's "fake", which has no price); cached tokens were 0.
      { ...who, agent: 'gemini-cli', model: 'fake', requests: '1', input_tokens: '300', output_tokens: '20', tokens_source: 'events', ...telemetry({ requests: '1', input_tokens: '300', output_tokens: '20', source: 'events' }) },
    ]);
  });

  it('gives identical rows when run twice, and when the same exports arrive again', async () => {
    const range = { from: '2026-11-22', to: '2026-11-22' };
    await rollupUsage(store, names, range, new Date('2026-11-23T00:15:00Z'));
    const first = await store.query(`SELECT * FROM ${TABLE} ORDER BY ALL`, {});
    await rollupUsage(store, names, range, new Date('2026-11-23T01:15:00Z'));
    expect(await store.query(`SELECT * FROM ${TABLE} ORDER BY ALL`, {})).toEqual(first);
    for (const f of fixtures()) {
      await app.handle({ method: 'POST', url: `/api/otel/v1/${f.signal}`, headers: { 'content-type': f.contentType, authorization: await bearerFor(f.agent) }, body: f.body });
    }
    await rollupUsage(store, names, range, new Date('2026-11-23T02:15:00Z'));
    expect(await store.query(`SELECT * FROM ${TABLE} ORDER BY ALL`, {})).toEqual(first);
  });
});

describe('usage roll-up, synthetic cases', () => {
  let db: TelemetryDb;
  let store: UsageStore;
  const bob: Who = { service: 'claude-code', userId: 'bob-id', email: 'bob@contoso.example' };
  const gemini: Who = { service: 'gemini-cli', userId: 'bob-id', email: 'bob@contoso.example', sessionId: 'g-1' };

  beforeEach(async () => {
    db = await TelemetryDb.open(':memory:', names);
    store = duckdbUsageStore(db.connection);
  });
  afterEach(() => db.close());

  const run = (from: string, to = from) => rollupUsage(store, names, { from, to }, new Date('2026-11-25T00:00:00Z'));
  const row = async (where: string) => (await usageRows(store, where)).map(compact);

  it('counts a Claude Code request once however often its event arrives', async () => {
    const event = claudeApiRequest('2026-11-22T10:00:00Z', 'req-1', { input: 100, output: 10 });
    await ingest(db, 'logs', logs(bob, [event]));
    await ingest(db, 'logs', logs(bob, [event, claudeApiRequest('2026-11-22T10:00:05Z', 'req-1', { input: 100, output: 10 })]));
    await ingest(db, 'logs', logs(bob, [claudeApiRequest('2026-11-22T11:00:00Z', 'req-2', { input: 1, output: 2 })]));
    await run('2026-11-22');
    expect(await row(`model <> ''`)).toMatchObject([{ requests: '2', input_tokens: '101', output_tokens: '12', tokens_source: 'events' }]);
  });

  it('falls back to the token counters when there are no request events', async () => {
    const point = (type: string, value: number) => ({ at: '2026-11-22T10:01:00Z', start: '2026-11-22T10:00:00Z', value, attributes: { type, model: 'm1', 'session.id': 's1' } });
    await ingest(db, 'metrics', sums(bob, 'claude_code.token.usage', 'delta', [point('input', 40), point('output', 4), point('cacheRead', 2)]));
    await ingest(db, 'metrics', sums(bob, 'claude_code.token.usage', 'delta', [{ ...point('input', 60), at: '2026-11-22T10:02:00Z' }]));
    await run('2026-11-22');
    expect(await row(`model = 'm1'`)).toEqual([
      {
        usage_date: '2026-11-22', agent: 'claude-code', user_id: 'bob-id', user_email: 'bob@contoso.example', model: 'm1',
        input_tokens: '100', output_tokens: '4', cache_read_tokens: '2', tokens_source: 'metrics',
        ...telemetry({ input_tokens: '100', output_tokens: '4', cache_read_tokens: '2', source: 'metrics' }),
      },
    ]);
  });

  it('reduces a cumulative series to its growth within each day, across exports, a reset and UTC midnight', async () => {
    const start1 = '2026-11-21T23:00:00Z';
    const start2 = '2026-11-22T12:00:00Z'; // the CLI restarted: a new series
    const p = (at: string, start: string, value: number) => ({ at, start, value, attributes: { type: 'input', model: 'g' } });
    // Export 1 (day 21): 10 then 25 before midnight; export 2 (day 22): 40, 55; restart: 5, 9.
    await ingest(db, 'metrics', sums(gemini, 'gemini_cli.token.usage', 'cumulative', [p('2026-11-21T23:30:00Z', start1, 10), p('2026-11-21T23:59:59Z', start1, 25)]));
    await ingest(db, 'metrics', sums(gemini, 'gemini_cli.token.usage', 'cumulative', [p('2026-11-22T00:00:01Z', start1, 40), p('2026-11-22T08:00:00Z', start1, 55)]));
    await ingest(db, 'metrics', sums(gemini, 'gemini_cli.token.usage', 'cumulative', [p('2026-11-22T12:01:00Z', start2, 5), p('2026-11-22T13:00:00Z', start2, 9)]));
    // The same export again (at-least-once): no change.
    await ingest(db, 'metrics', sums(gemini, 'gemini_cli.token.usage', 'cumulative', [p('2026-11-22T12:01:00Z', start2, 5), p('2026-11-22T13:00:00Z', start2, 9)]));
    await run('2026-11-21', '2026-11-22');
    const byDay = await row(`model = 'g'`);
    expect(byDay.map((r) => [r.usage_date, r.input_tokens, r.tokens_source])).toEqual([
      ['2026-11-21', '25', 'metrics'],
      ['2026-11-22', '39', 'metrics'], // 55 - 25 + 9
    ]);
    // Recomputing only day 22 still sees day 21's last point as the baseline.
    await db.connection.run(`DELETE FROM ${TABLE}`);
    await run('2026-11-22');
    expect((await row(`model = 'g'`)).map((r) => r.input_tokens)).toEqual(['39']);
  });

  it('treats a cumulative value that drops without a new start time as a reset', async () => {
    const p = (at: string, value: number) => ({ at, start: '2026-11-22T00:00:00Z', value, attributes: { type: 'output', model: 'g' } });
    await ingest(db, 'metrics', sums(gemini, 'gemini_cli.token.usage', 'cumulative', [p('2026-11-22T01:00:00Z', 30), p('2026-11-22T02:00:00Z', 4), p('2026-11-22T03:00:00Z', 6)]));
    await run('2026-11-22');
    expect((await row(`model = 'g'`)).map((r) => r.output_tokens)).toEqual(['36']);
  });

  it('splits events on either side of UTC midnight into their days', async () => {
    await ingest(db, 'logs', logs(bob, [claudeApiRequest('2026-11-21T23:59:59.999Z', 'a', { input: 1, output: 1 }), claudeApiRequest('2026-11-22T00:00:00.000Z', 'b', { input: 2, output: 2 })]));
    await run('2026-11-21', '2026-11-22');
    expect((await row(`model <> ''`)).map((r) => [r.usage_date, r.input_tokens])).toEqual([
      ['2026-11-21', '1'],
      ['2026-11-22', '2'],
    ]);
  });

  it('keeps data without a verified identity under "unattributed"', async () => {
    await ingest(db, 'logs', logs({ service: 'claude-code' }, [claudeApiRequest('2026-11-22T09:00:00Z', 'x', { input: 5, output: 5 })]));
    await run('2026-11-22');
    expect(await row(`model <> ''`)).toMatchObject([{ user_id: 'unattributed', user_email: 'unattributed', input_tokens: '5' }]);
  });

  it('keeps unknown services under their own name and names every codex* service codex', async () => {
    await ingest(db, 'logs', logs({ service: 'my-agent', userId: 'u' }, [{ at: '2026-11-22T09:00:00Z', attributes: { 'event.name': 'x', 'session.id': 's9' } }]));
    await ingest(db, 'logs', logs({ service: 'codex_cli_rs', userId: 'u' }, [{ at: '2026-11-22T09:00:00Z', attributes: { 'event.name': 'codex.user_prompt', 'conversation.id': 'c1' } }]));
    await run('2026-11-22');
    expect((await row('TRUE')).map((r) => [r.agent, r.sessions])).toEqual([
      ['codex', '1'],
      ['my-agent', '1'],
    ]);
  });

  it('picks up late data on the next run of the window', async () => {
    await ingest(db, 'logs', logs(bob, [claudeApiRequest('2026-11-22T09:00:00Z', 'r1', { input: 5, output: 5 })]));
    await run('2026-11-22', '2026-11-24');
    await ingest(db, 'logs', logs(bob, [claudeApiRequest('2026-11-22T09:30:00Z', 'r2', { input: 7, output: 1 })]));
    await run('2026-11-22', '2026-11-24');
    expect(await row(`model <> ''`)).toMatchObject([{ usage_date: '2026-11-22', requests: '2', input_tokens: '12' }]);
  });

  it('counts errors, tool calls, lines, commits, pull requests and active time', async () => {
    await ingest(db, 'logs', logs(bob, [
      { at: '2026-11-22T09:00:00Z', body: 'claude_code.api_error', attributes: { 'event.name': 'api_error', model: 'm', 'session.id': 's1', error: 'overloaded' } },
      { at: '2026-11-22T09:01:00Z', body: 'claude_code.tool_result', attributes: { 'event.name': 'tool_result', tool_name: 'Bash', 'session.id': 's1' } },
      { at: '2026-11-22T09:02:00Z', body: 'claude_code.tool_result', attributes: { 'event.name': 'tool_result', tool_name: 'Edit', 'session.id': 's2' } },
    ]));
    const d = (name: string, value: number, attributes: Record<string, string> = {}) =>
      sums(bob, name, 'delta', [{ at: '2026-11-22T09:05:00Z', start: '2026-11-22T09:04:00Z', value, attributes: { 'session.id': 's1', ...attributes } }]);
    await ingest(db, 'metrics', d('claude_code.lines_of_code.count', 12, { type: 'added' }));
    await ingest(db, 'metrics', d('claude_code.lines_of_code.count', 3, { type: 'removed' }));
    await ingest(db, 'metrics', d('claude_code.commit.count', 2));
    await ingest(db, 'metrics', d('claude_code.pull_request.count', 1));
    await ingest(db, 'metrics', d('claude_code.active_time.total', 42.5, { type: 'cli' }));
    await run('2026-11-22');
    expect(await row('TRUE')).toEqual([
      { usage_date: '2026-11-22', agent: 'claude-code', user_id: 'bob-id', user_email: 'bob@contoso.example', model: '', sessions: '2', tool_calls: '2', lines_added: '12', lines_removed: '3', commits: '2', pull_requests: '1', active_seconds: 42.5 },
      { usage_date: '2026-11-22', agent: 'claude-code', user_id: 'bob-id', user_email: 'bob@contoso.example', model: 'm', requests: '1', errors: '1', tokens_source: 'none', telemetry_requests: '1' },
    ]);
  });
});
