import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TelemetryDb } from '../../shared/local/telemetry-db.js';
import { duckdbUsageStore } from '../../shared/usage/duckdb-usage-store.js';
import { rollupUsage } from '../../shared/usage/rollup-usage.js';
import type { UsageStore } from '../../shared/usage/usage-store.js';
import type { UsageTables } from '../../shared/usage/usage-tables.js';
import { claudeApiRequest, gatewayRows, ingest, logs, sums, type GatewayRequest, type Who } from './builders.js';

const GATEWAY = 'dev.ai_gateway.usage';
const tables: UsageTables = { catalog: 'dev', schema: 'coding_agents', prefix: 'agents', gatewayUsage: GATEWAY };
const TABLE = 'dev.coding_agents.agents_usage_daily';
const CLAUDE_UA = 'claude-cli/2.1.197 (external, sdk-cli)';
const bob: Who = { service: 'claude-code', userId: 'bob-id', email: 'bob@contoso.example', sessionId: 's1' };

/** A gateway request with defaults: Bob, Claude Code's own User-Agent, Claude Opus 4.6 on 2026-11-22. */
const request = (r: Partial<GatewayRequest> & { requestId: string }): GatewayRequest => ({
  at: '2026-11-22T10:00:00Z',
  requester: 'Bob@Contoso.example',
  userAgent: CLAUDE_UA,
  model: 'databricks-claude-opus-4-6',
  input: 1000,
  output: 100,
  ...r,
});

function compact(row: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(row).filter(([k, v]) => v !== null && v !== '0' && k !== 'computed_at'));
}

describe('usage roll-up with the AI Gateway usage table', () => {
  let db: TelemetryDb;
  let store: UsageStore;
  let warnings: string[];

  beforeEach(async () => {
    db = await TelemetryDb.open(':memory:', tables);
    store = duckdbUsageStore(db.connection);
    warnings = [];
  });
  afterEach(() => db.close());

  const run = (from: string, to = from, over = tables) => rollupUsage(store, over, { from, to }, new Date('2026-11-25T00:00:00Z'), (m) => warnings.push(m));
  const rows = async (where = `model <> ''`) =>
    (await store.query(`SELECT * FROM ${TABLE} WHERE ${where} ORDER BY usage_date, agent, user_id, model`, {})).map(compact);

  it('adds a row for a request only the gateway saw (Cursor), priced, keyed by the lower-cased requester', async () => {
    await gatewayRows(db, GATEWAY, [
      request({ requestId: 'c-1', requester: 'Carol@Contoso.example', userAgent: 'Go-http-client/2.0', url: 'https://gw.example/cursor/v1/chat/completions', input: 2000, output: 300, cacheRead: 500 }),
    ]);
    const result = await run('2026-11-22');
    expect(await rows('TRUE')).toEqual([
      {
        usage_date: '2026-11-22',
        agent: 'cursor',
        user_id: 'carol@contoso.example',
        user_email: 'carol@contoso.example',
        model: 'claude-opus-4-6',
        requests: '1',
        input_tokens: '1500', // the gateway counts the 500 cache reads within its 2000 input tokens
        output_tokens: '300',
        cache_read_tokens: '500',
        tokens_source: 'gateway',
        cost_usd: (1500 * 5 + 300 * 25 + 500 * 0.5) / 1e6,
        price_effective_from: '2025-01-01',
        gateway_requests: '1',
        gateway_input_tokens: '2000',
        gateway_output_tokens: '300',
        gateway_cache_read_tokens: '500',
      },
    ]);
    expect(result.unpriced).toEqual({ rows: 0, models: [] });
  });

  it('puts telemetry and the gateway on one row for the same user, agent, day and model; the headline is the gateway', async () => {
    await ingest(db, 'logs', logs(bob, [claudeApiRequest('2026-11-22T10:00:01Z', 'req-1', { input: 900, output: 90, cacheRead: 100, cost: 0.003 })]));
    await gatewayRows(db, GATEWAY, [request({ requestId: 'req-1', input: 1000, output: 100, cacheRead: 100 })]);
    await run('2026-11-22');
    expect(await rows()).toEqual([
      {
        usage_date: '2026-11-22',
        agent: 'claude-code',
        user_id: 'bob-id',
        user_email: 'bob@contoso.example',
        model: 'claude-opus-4-6',
        requests: '1',
        input_tokens: '900',
        output_tokens: '100',
        cache_read_tokens: '100',
        tokens_source: 'gateway',
        cost_usd: (900 * 5 + 100 * 25 + 100 * 0.5) / 1e6,
        price_effective_from: '2025-01-01',
        telemetry_requests: '1',
        telemetry_input_tokens: '900',
        telemetry_output_tokens: '90',
        telemetry_cache_read_tokens: '100',
        telemetry_source: 'events',
        agent_reported_cost_usd: 0.003,
        gateway_requests: '1',
        gateway_input_tokens: '1000',
        gateway_output_tokens: '100',
        gateway_cache_read_tokens: '100',
      },
    ]);
  });

  it('keeps a service-principal requester as its id, without an email', async () => {
    await gatewayRows(db, GATEWAY, [request({ requestId: 'sp-1', requester: '8F3E1C52-AAAA-4BBB-8CCC-0123456789AB' })]);
    await run('2026-11-22');
    expect(await rows()).toMatchObject([{ agent: 'claude-code', user_id: '8F3E1C52-AAAA-4BBB-8CCC-0123456789AB', gateway_requests: '1' }]);
    expect((await rows())[0]).not.toHaveProperty('user_email');
  });

  it.each([
    ['claude-cli/override coding-agent-relay (claude-code)', undefined, 'claude-code'],
    ['coding-agent-relay (codex)', undefined, 'codex'],
    ['coding-agent-relay (gemini-cli)', undefined, 'gemini-cli'],
    [CLAUDE_UA, undefined, 'claude-code'],
    ['codex_exec/0.169.0 (Debian 12.0.0; x86_64) unknown (codex_exec; 0.169.0)', undefined, 'codex'],
    ['GeminiCLI-tui/0.61.0/databricks-gemini-2-5-flash (linux; x64; terminal)', undefined, 'gemini-cli'],
    ['Go-http-client/2.0', 'https://gw.example/cursor/v1/chat/completions', 'cursor'],
    ['python-requests/2.32.3', undefined, 'other'],
    [null, undefined, 'other'],
  ])('classifies User-Agent %j (url %s) as %s', async (userAgent, url, agent) => {
    await gatewayRows(db, GATEWAY, [request({ requestId: 'r', userAgent: userAgent as string, url })]);
    await run('2026-11-22');
    expect((await rows()).map((r) => r.agent)).toEqual([agent]);
  });

  it('counts a request once however often the gateway table repeats it', async () => {
    const once = request({ requestId: 'dup-1', input: 10, output: 1 });
    await gatewayRows(db, GATEWAY, [once, once, once, request({ requestId: 'dup-2', input: 20, output: 2 })]);
    await run('2026-11-22');
    expect(await rows()).toMatchObject([{ gateway_requests: '2', gateway_input_tokens: '30', gateway_output_tokens: '3', requests: '2' }]);
  });

  it('reports a model without a price in its result and log and leaves its cost empty, never 0', async () => {
    await gatewayRows(db, GATEWAY, [request({ requestId: 'm-1', model: 'mystery-model-9' }), request({ requestId: 'm-2' })]);
    const result = await run('2026-11-22');
    const byModel = Object.fromEntries((await rows()).map((r) => [r.model, r]));
    expect(byModel['mystery-model-9']).not.toHaveProperty('cost_usd');
    expect(byModel['mystery-model-9']).toMatchObject({ input_tokens: '1000', tokens_source: 'gateway' });
    expect(byModel['claude-opus-4-6']).toHaveProperty('cost_usd');
    expect(result.unpriced).toEqual({ rows: 1, models: ['mystery-model-9'] });
    expect(warnings).toEqual([
      'usage roll-up 2026-11-22..2026-11-22: 1 rows of 1 models without a price (cost_usd left empty): mystery-model-9; add them to the price list',
    ]);
  });

  it('prices each day with the price in force that day when the price changes inside the range', async () => {
    await db.connection.run(
      `INSERT INTO dev.coding_agents.agents_model_prices VALUES ('claude-opus-4-6', DATE '2026-11-22', 10, 50, 1, 12.5, 'test: doubled', DATE '2026-11-21')`,
    );
    await gatewayRows(db, GATEWAY, [request({ requestId: 'd-21', at: '2026-11-21T12:00:00Z' }), request({ requestId: 'd-22', at: '2026-11-22T12:00:00Z' })]);
    await run('2026-11-21', '2026-11-22');
    expect((await rows()).map((r) => [r.usage_date, r.price_effective_from, r.cost_usd])).toEqual([
      ['2026-11-21', '2025-01-01', (1000 * 5 + 100 * 25) / 1e6],
      ['2026-11-22', '2026-11-22', (1000 * 10 + 100 * 50) / 1e6],
    ]);
  });

  it('gives identical rows when run again, and when the gateway repeats its rows', async () => {
    await ingest(db, 'logs', logs(bob, [claudeApiRequest('2026-11-22T10:00:01Z', 'req-1', { input: 900, output: 90 })]));
    await gatewayRows(db, GATEWAY, [request({ requestId: 'req-1' }), request({ requestId: 'c-1', url: 'https://gw.example/cursor/v1/x', userAgent: 'x' })]);
    await run('2026-11-22');
    const first = await store.query(`SELECT * FROM ${TABLE} ORDER BY ALL`, {});
    await rollupUsage(store, tables, { from: '2026-11-22', to: '2026-11-22' }, new Date('2026-11-25T01:00:00Z'));
    expect(await store.query(`SELECT * FROM ${TABLE} ORDER BY ALL`, {})).toEqual(first);
    await gatewayRows(db, GATEWAY, [request({ requestId: 'req-1' })]);
    await rollupUsage(store, tables, { from: '2026-11-22', to: '2026-11-22' }, new Date('2026-11-25T02:00:00Z'));
    expect(await store.query(`SELECT * FROM ${TABLE} ORDER BY ALL`, {})).toEqual(first);
  });

  it('reads no gateway rows when AI_GATEWAY_USAGE_TABLE is empty', async () => {
    await gatewayRows(db, GATEWAY, [request({ requestId: 'x' })]);
    await run('2026-11-22', '2026-11-22', { ...tables, gatewayUsage: undefined });
    expect(await rows('TRUE')).toEqual([]);
  });

  it('counts requests and errors from the request counters when an agent sends no request events', async () => {
    const gemini: Who = { service: 'gemini-cli', userId: 'bob-id', email: 'bob@contoso.example', sessionId: 'g-1' };
    const p = (value: number, status: string) => ({ at: '2026-11-22T10:01:00Z', start: '2026-11-22T10:00:00Z', value, attributes: { model: 'gemini-2.5-flash', status_code: status } });
    await ingest(db, 'metrics', sums(gemini, 'gemini_cli.api.request.count', 'delta', [p(3, '200'), p(1, '503')]));
    await ingest(db, 'metrics', sums(gemini, 'gemini_cli.token.usage', 'delta', [{ at: '2026-11-22T10:01:00Z', start: '2026-11-22T10:00:00Z', value: 400, attributes: { model: 'gemini-2.5-flash', type: 'input' } }]));
    await run('2026-11-22');
    expect(await rows()).toMatchObject([
      { agent: 'gemini-cli', model: 'gemini-2-5-flash', requests: '4', errors: '1', input_tokens: '400', tokens_source: 'metrics', cost_usd: (400 * 0.3) / 1e6 },
    ]);
  });
});
