import { silentLog } from '../shared/log.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../shared/app.js';
import { otlpType } from '../shared/otlp/schema.js';
import { azureStandIns, type StandIns } from './fakes/azure.js';
import { fixture, fixtures } from './fixtures.js';
import { fromOtlpJson } from '../shared/otlp/otlp-json.js';
import { ALICE, bearerFor, TEST_SIGNING_KEY } from './credentials.js';
import { signalNamed } from '../shared/otlp/signals.js';
import { bufferedBody } from '../shared/http.js';

const silent = silentLog;
const claudeMetrics = fixture('claude-code-2.1.197.metrics.pb');

describe('createApp in Databricks mode (managed identity -> Key Vault -> ingest)', () => {
  let stand: StandIns;
  let vault: StandIns['vault'];
  let identity: StandIns['identity'];
  let ingest: StandIns['ingest'];
  let app: App;
  let auth: string;

  beforeAll(async () => {
    stand = await azureStandIns({ 'relay-databricks-token': 'dapi-vault-held', 'relay-signing-key': TEST_SIGNING_KEY });
    ({ vault, identity, ingest } = stand);
    auth = await bearerFor('claude-code');
    app = await createApp({ ...stand.settings, DATABRICKS_TOKEN_SECRET_NAME: 'relay-databricks-token', DATABRICKS_TOKEN: 'must-not-be-used' }, silent);
  });

  afterAll(async () => {
    await app.close();
    await stand.close();
  });

  it('forwards with the vault-held token and the table for the signal', async () => {
    const response = await app.handle({ method: 'POST', url: '/api/otel/v1/metrics', headers: { 'content-type': 'application/x-protobuf', authorization: auth }, body: bufferedBody(claudeMetrics.body) });
    expect(response.status).toBe(200);
    const sent = ingest.requests.at(-1)!;
    expect(sent.headers.authorization).toBe('Bearer dapi-vault-held');
    expect(sent.headers['x-databricks-uc-table-name']).toBe('main.telemetry.agents_otel_metrics');
    expect(identity.requests.length).toBeGreaterThan(0);
    const resource = (signalNamed('metrics')!.request.decode(sent.body) as any).resourceMetrics[0].resource;
    const attributes = Object.fromEntries(resource.attributes.map((a: any) => [a.key, a.value.stringValue]));
    expect(attributes).toMatchObject({ 'user.id': ALICE.userId, 'user.email': ALICE.email, 'coding_agent.name': 'claude-code', 'service.name': 'claude-code' });
  });

  it('refuses an export without a credential and forwards nothing', async () => {
    const before = ingest.requests.length;
    const response = await app.handle({ method: 'POST', url: '/api/otel/v1/metrics', headers: { 'content-type': 'application/x-protobuf' }, body: bufferedBody(claudeMetrics.body) });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="coding-agent-relay"');
    expect(ingest.requests.length).toBe(before);
  });

  it('replaces the client credential and any table header it sends', async () => {
    await app.handle({
      method: 'POST',
      url: '/api/otel/v1/logs',
      headers: { 'content-type': 'application/x-protobuf', authorization: auth, 'x-databricks-uc-table-name': 'main.other.steal' },
      body: bufferedBody(fixture('claude-code-2.1.197.logs.pb').body),
    });
    const sent = ingest.requests.at(-1)!;
    expect(sent.headers.authorization).toBe('Bearer dapi-vault-held');
    expect(sent.headers['x-databricks-uc-table-name']).toBe('main.telemetry.agents_otel_logs');
  });

  it('picks up a rotated token after the upstream refuses the old one', async () => {
    vault.secrets.set('relay-databricks-token', 'dapi-rotated');
    ingest.script.push({ status: 401 });
    const response = await app.handle({ method: 'POST', url: '/api/otel/v1/metrics', headers: { 'content-type': 'application/x-protobuf', authorization: auth }, body: bufferedBody(claudeMetrics.body) });
    expect(response.status).toBe(200);
    expect(ingest.requests.slice(-2).map((r) => r.headers.authorization)).toEqual(['Bearer dapi-vault-held', 'Bearer dapi-rotated']);
  });

  it('never puts the token in a response', async () => {
    ingest.script.push({ status: 400, headers: { 'content-type': 'application/x-protobuf' }, body: otlpType('RpcStatus').encode({ code: 3, message: 'bad table' }).finish() });
    ingest.script.push({ status: 503 });
    for (let i = 0; i < 2; i++) {
      const response = await app.handle({ method: 'POST', url: '/api/otel/v1/metrics', headers: { 'content-type': 'application/json', authorization: auth }, body: bufferedBody(Buffer.from('{"resourceMetrics":[{"scopeMetrics":[{}]}]}')) });
      expect(Buffer.from(response.body).toString()).not.toContain('dapi');
    }
    const health = await app.handle({ method: 'GET', url: '/api/health', headers: {}, body: bufferedBody(new Uint8Array()) });
    expect(JSON.parse(Buffer.from(health.body).toString())).toMatchObject({ mode: 'databricks', secrets: 'key-vault', relayAuth: 'relay credential required' });
    expect(Buffer.from(health.body).toString()).not.toContain('dapi');
  });

  it('answers unknown routes with 404', async () => {
    expect((await app.handle({ method: 'GET', url: '/api/nope', headers: {}, body: bufferedBody(new Uint8Array()) })).status).toBe(404);
  });
});

describe('the relay’s own metrics after a replay of the agent fixtures', () => {
  let stand: StandIns;
  let ingest: StandIns['ingest'];
  let app: App;

  beforeAll(async () => {
    stand = await azureStandIns({ 'databricks-token': 'dapi-vault-held', 'relay-signing-key': TEST_SIGNING_KEY });
    ({ ingest } = stand);
    app = await createApp({ ...stand.settings, OTLP_MAX_BODY_BYTES: '200000' }, silent);
  });

  afterAll(async () => {
    await app.close();
    await stand.close();
  });

  /** Records per fixture, counted by decoding it with protobufjs (independently of the relay's wire counter). */
  function recordsOf(f: ReturnType<typeof fixtures>[number]): number {
    const signal = signalNamed(f.signal)!;
    const message = (f.contentType === 'application/json' ? signal.request.fromObject(fromOtlpJson(signal.request, JSON.parse(f.body.toString()))) : signal.request.decode(f.body)) as any;
    const count = (list: any[] | undefined, inner: (x: any) => number) => (list ?? []).reduce((n, x) => n + inner(x), 0);
    if (f.signal === 'logs') return count(message.resourceLogs, (r) => count(r.scopeLogs, (s) => (s.logRecords ?? []).length));
    if (f.signal === 'traces') return count(message.resourceSpans, (r) => count(r.scopeSpans, (s) => (s.spans ?? []).length));
    const points = (m: any) => (m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary)?.dataPoints?.length ?? 0;
    return count(message.resourceMetrics, (r) => count(r.scopeMetrics, (s) => count(s.metrics, points)));
  }

  it('counts every export by signal, agent and outcome, and the records', async () => {
    const post = async (signal: string, headers: Record<string, string>, body: Uint8Array) =>
      (await app.handle({ method: 'POST', url: `/api/otel/v1/${signal}`, headers, body: bufferedBody(body) })).status;
    const expected = new Map<string, number>();
    const expectOne = (key: string) => expected.set(key, (expected.get(key) ?? 0) + 1);
    const records = new Map<string, number>();
    // N accepted: every fixture with a credential for its agent.
    for (const f of fixtures()) {
      expect(await post(f.signal, { 'content-type': f.contentType, authorization: await bearerFor(f.agent) }, f.body)).toBe(200);
      expectOne(`${f.signal}|${f.agent}|accepted`);
      records.set(`${f.signal}|${f.agent}`, (records.get(`${f.signal}|${f.agent}`) ?? 0) + recordsOf(f));
    }
    // M refused or failed, one of each kind.
    const codex = await bearerFor('codex');
    expect(await post('metrics', { 'content-type': 'application/x-protobuf' }, claudeMetrics.body)).toBe(401);
    expectOne('metrics|unknown|refused_auth');
    expect(await post('logs', { 'content-type': 'application/x-protobuf', authorization: codex }, Buffer.from('\xff\xff'))).toBe(400);
    expectOne('logs|codex|refused_client');
    expect(await post('metrics', { 'content-type': 'application/x-protobuf', authorization: codex }, Buffer.alloc(200_001))).toBe(413);
    expectOne('metrics|codex|too_large');
    ingest.script.push({ status: 503 });
    expect(await post('metrics', { 'content-type': 'application/x-protobuf', authorization: codex }, claudeMetrics.body)).toBe(503);
    expectOne('metrics|codex|upstream_retryable');
    ingest.script.push({ status: 400, body: 'bad table' });
    expect(await post('metrics', { 'content-type': 'application/x-protobuf', authorization: codex }, claudeMetrics.body)).toBe(400);
    expectOne('metrics|codex|upstream_rejected');

    const text = Buffer.from((await app.handle({ method: 'GET', url: '/api/metrics', headers: {}, body: bufferedBody(new Uint8Array()) })).body).toString();
    const series = (name: string) =>
      new Map([...text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))].map((m) => [Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]])), Number(m[2])] as const).map(([labels, value]) => [Object.values(labels).join('|'), value]));
    expect(series('relay_exports_total')).toEqual(expected);
    expect([...expected].filter(([k]) => k.endsWith('|accepted')).reduce((n, [, v]) => n + v, 0)).toBe(fixtures().length);
    const recordsOut = series('relay_records_out_total');
    for (const [key, n] of records) expect(recordsOut.get(key), key).toBe(n);
    expect(text).toMatch(/^relay_added_latency_seconds_count\{signal="metrics"\} \d+$/m);
    expect(text).toMatch(/^relay_upstream_latency_seconds_bucket\{signal="logs",le="\+Inf"\} \d+$/m);
    expect(text).toMatch(/^relay_exports_in_flight 0$/m);
    expect(text).toMatch(/^relay_secret_reads_total\{source="key-vault",outcome="ok"\} \d+$/m);
    expect(text).toMatch(/^relay_credential_cache_total\{result="hit"\} \d+$/m);
  });
});

describe('createApp with a Key Vault that hangs', () => {
  let stand: StandIns;
  let vault: StandIns['vault'];
  let ingest: StandIns['ingest'];
  let app: App;

  beforeAll(async () => {
    stand = await azureStandIns({ 'databricks-token': 'dapi-vault-held', 'relay-signing-key': TEST_SIGNING_KEY });
    ({ vault, ingest } = stand);
    app = await createApp({ ...stand.settings, SECRET_CACHE_TTL_SECONDS: '1', KEY_VAULT_TIMEOUT_MS: '500' }, silent);
  });

  afterAll(async () => {
    await app.close();
    await stand.close();
  });

  const exportAs = async (who = ALICE) =>
    app.handle({
      method: 'POST',
      url: '/api/otel/v1/metrics',
      headers: { 'content-type': 'application/x-protobuf', authorization: await bearerFor('claude-code', who) },
      body: bufferedBody(claudeMetrics.body),
    });

  it('answers every export with a cached token within the vault timeout, and recovers by itself', async () => {
    expect((await exportAs()).status).toBe(200);
    vault.hang = true;
    await new Promise((r) => setTimeout(r, 1100)); // every cached secret is past its TTL now
    const started = Date.now();
    const statuses = await Promise.all(
      Array.from({ length: 80 }, (_, i) => exportAs(i % 2 === 0 ? ALICE : { userId: `user-${i}`, email: `user-${i}@contoso.example` })).map((p) => p.then((r) => r.status)),
    );
    expect(Date.now() - started).toBeLessThan(500);
    expect(new Set(statuses)).toEqual(new Set([200]));
    // Back to normal: refreshed within the backoff, a rotated token is used without a restart.
    vault.hang = false;
    vault.secrets.set('databricks-token', 'dapi-rotated');
    const deadline = Date.now() + 8000;
    while (ingest.requests.at(-1)!.headers.authorization !== 'Bearer dapi-rotated' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      expect((await exportAs()).status).toBe(200);
    }
    expect(ingest.requests.at(-1)!.headers.authorization).toBe('Bearer dapi-rotated');
  }, 15_000);
});
