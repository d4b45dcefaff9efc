import type { HttpResponseInit } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otlpType } from '../../shared/otlp/schema.js';
import { matchRoute } from '../../shared/route-request.js';
import { BOUND_METHODS, ROUTES } from '../../shared/routes.js';
import { bearerFor, TEST_SIGNING_KEY } from '../credentials.js';
import { fakeDatabricksIngest, type FakeIngest } from '../fakes/databricks-ingest.js';
import type { FakeServer } from '../fakes/http-server.js';
import { fakeKeyVault, type FakeKeyVault } from '../fakes/key-vault.js';
import { fakeManagedIdentity } from '../fakes/managed-identity.js';
import { fixture } from '../fixtures.js';
import { installStandInHost } from './stand-in-host.js';

/*
 * The Functions bindings as the host runs them: a stand-in for the worker's core API records what
 * functions/ registers, runs the appStart/appTerminate hooks and calls the handlers with the SDK's own
 * HttpRequest and InvocationContext. The app runs in Databricks mode against loopback fakes of Key
 * Vault, the managed identity endpoint and the ingest; the vault starts out failing.
 */

const standIn = installStandInHost();
let sdk: typeof import('@azure/functions');
let vault: FakeKeyVault;
let identity: FakeServer & { env: Record<string, string> };
let ingest: FakeIngest;
const logged: string[] = [];

beforeAll(async () => {
  vault = await fakeKeyVault({ 'databricks-token': 'dapi-held-in-vault', 'relay-signing-key': TEST_SIGNING_KEY });
  vault.failWith = 503;
  identity = await fakeManagedIdentity();
  ingest = await fakeDatabricksIngest();
  Object.assign(process.env, identity.env, {
    DATABRICKS_HOST: 'https://adb-123.4.azuredatabricks.net',
    OTEL_INGEST_URL: `${ingest.url}/api/2.0/otel`,
    KEY_VAULT_URL: vault.url,
    UC_CATALOG: 'main',
    UC_SCHEMA: 'telemetry',
    UC_TABLE_PREFIX: 'agents',
    AI_GATEWAY_URL: 'https://gw.example.net',
    READINESS_CACHE_SECONDS: '0',
  });
  sdk = await import('@azure/functions');
  await import('../../functions/lifecycle.js');
  await import('../../functions/http.js');
  await import('../../functions/usage-daily.js');
  await import('../../functions/spool-replay.js');
  await standIn.runHooks('appStart');
});

afterAll(async () => {
  await standIn.runHooks('appTerminate');
  await Promise.all([vault.close(), identity.close(), ingest.close()]);
});

async function call(method: string, url: string, init: { headers?: Record<string, string>; body?: Uint8Array } = {}) {
  const target = standIn.route(method, url);
  if (!target) throw new Error(`the host would not route ${method} ${url}`);
  const request = new sdk.HttpRequest({ method, url: `https://relay.example.net${url}`, params: target.params, headers: init.headers, body: init.body ? { bytes: init.body } : undefined });
  const context = new sdk.InvocationContext({ invocationId: `inv-${logged.length}`, functionName: target.name, logHandler: (_level, ...args) => logged.push(args.join(' ')) });
  const response = (await standIn.functions.get(target.name)!.handler(request, context)) as HttpResponseInit;
  return { status: response.status!, headers: response.headers as Record<string, string>, body: Buffer.from(response.body as Uint8Array) };
}

const protobuf = { 'content-type': 'application/x-protobuf' };
const claudeMetrics = fixture('claude-code-2.1.197.metrics.pb').body;

async function waitFor(condition: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('functions/ registrations', () => {
  it('registers every route of the table with its template, every method and its auth level, and the timer', () => {
    for (const route of ROUTES) {
      const trigger = Object.values(standIn.functions.get(route.name)!.metadata.bindings).find((b) => b.type === 'httpTrigger')!;
      expect(trigger).toMatchObject({ route: route.path, methods: [...BOUND_METHODS], authLevel: route.authLevel, direction: 'in' });
    }
    const http = [...standIn.functions.values()].filter((f) => Object.values(f.metadata.bindings).some((b) => b.type === 'httpTrigger'));
    expect(http.map((f) => f.metadata.name).sort()).toEqual(ROUTES.map((r) => r.name).sort());
    expect(Object.values(standIn.functions.get('usageDaily')!.metadata.bindings)[0]).toMatchObject({ type: 'timerTrigger', schedule: '0 15 0 * * *' });
    expect(Object.values(standIn.functions.get('spoolReplay')!.metadata.bindings)[0]).toMatchObject({ type: 'timerTrigger', schedule: '0 * * * * *' });
  });

  it.each([
    ['POST', '/api/otel/v1/metrics'],
    ['GET', '/api/otel/v1/logs/'],
    ['POST', '/API/OTel/v1/traces'],
    ['POST', '/api/otel/v1/unknown%20signal'],
    ['GET', '/api/config/claude-code?file=env'],
    ['GET', '/api/config/install.sh'],
    ['POST', '/api/usage/rollup?from=2026-11-20'],
    ['GET', '/api/usage?group_by=day,agent'],
    ['GET', '/api/dashboard'],
    ['POST', '/api/credential?agent=claude-code'],
    ['GET', '/api/health?ready=1'],
    ['DELETE', '/api/health'],
    ['GET', '/api/metrics'],
    ['GET', '/api/otel/v1'],
    ['GET', '/api/nothing'],
    ['GET', '/api/config/a/b'],
  ])('routes %s %s to the same function and parameters as the local runner', (method, url) => {
    const host = standIn.route(method, url);
    const local = matchRoute(ROUTES, url);
    expect(local?.route.name).toBe(host?.name);
    if (local) expect(Object.fromEntries(Object.entries(local.rawParams).map(([k, v]) => [k, decodeURIComponent(v)]))).toEqual(host!.params);
  });
});

describe('functions/ under the host, from a failed start to recovery', () => {
  it('answers every route 503 with Retry-After and the cause while the vault cannot be read', async () => {
    const auth = await bearerFor('claude-code');
    const requests: [string, string, Record<string, string>?][] = [
      ['POST', '/api/otel/v1/metrics', { ...protobuf, authorization: auth }],
      ['GET', '/api/config/codex'],
      ['POST', '/api/usage/rollup'],
      ['GET', '/api/health'],
      ['GET', '/api/health?ready=1'],
      ['GET', '/api/metrics'],
    ];
    for (const [method, url, headers] of requests) {
      const response = await call(method, url, { headers, body: method === 'POST' ? claudeMetrics : undefined });
      expect(response.status, url).toBe(503);
      expect(Number(response.headers['retry-after']), url).toBeGreaterThanOrEqual(1);
      const message = url.startsWith('/api/otel') ? (otlpType('RpcStatus').decode(response.body) as unknown as { code: number; message: string }).message : JSON.parse(response.body.toString()).error;
      expect(message, url).toBe('relay not started: cannot read secret "databricks-token" from Key Vault (503)');
      expect(response.body.toString()).not.toContain('dapi');
    }
    expect(ingest.requests).toEqual([]);
  });

  it('recovers by itself once the vault answers, without a restart', async () => {
    vault.failWith = undefined;
    await waitFor(async () => (await call('GET', '/api/health')).status === 200, 15_000);
    const response = await call('POST', '/api/otel/v1/metrics', { headers: { ...protobuf, authorization: await bearerFor('claude-code') }, body: claudeMetrics });
    expect(response.status).toBe(200);
    expect(ingest.requests.at(-1)!.headers.authorization).toBe('Bearer dapi-held-in-vault');
  });

  it('answers a wrong method 405 with Allow, in the route’s error form', async () => {
    const otel = await call('GET', '/api/otel/v1/metrics', { headers: protobuf });
    expect(otel.status).toBe(405);
    expect(otel.headers.allow).toBe('POST');
    expect(otlpType('RpcStatus').decode(otel.body)).toMatchObject({ code: 12 });
    const health = await call('DELETE', '/api/health');
    expect(health.status).toBe(405);
    expect(JSON.parse(health.body.toString())).toEqual({ error: 'method DELETE not allowed: use GET' });
  });

  it('logs a refused export as one JSON line with the invocation id, and no credential', async () => {
    const before = logged.length;
    const response = await call('POST', '/api/otel/v1/logs', { headers: { ...protobuf, authorization: 'Bearer not.a.credential' }, body: claudeMetrics });
    expect(response.status).toBe(401);
    const lines = logged.slice(before).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', event: 'export.refused', route: 'otel', signal: 'logs', agent: 'unknown', status: 401, outcome: 'refused_auth', invocationId: expect.stringMatching(/^inv-/) });
    expect(typeof lines[0]!.durationMs).toBe('number');
    expect(logged.slice(before).join('\n')).not.toContain('not.a.credential');
  });

  describe('readiness', () => {
    const ready = async () => {
      const response = await call('GET', '/api/health?ready=1');
      return { status: response.status, body: JSON.parse(response.body.toString()) as Record<string, unknown> };
    };

    it('is ready when the vault, the token and the ingest answer', async () => {
      expect(await ready()).toMatchObject({ status: 200, body: { status: 'ready', checks: { secrets: 'ok', 'databricks token': 'ok', 'ingest metrics': 'ok', 'ingest logs': 'ok', 'ingest traces': 'ok' } } });
      const tables = ingest.requests.slice(-3).map((r) => r.headers['x-databricks-uc-table-name']);
      expect(tables).toEqual(['main.telemetry.agents_otel_metrics', 'main.telemetry.agents_otel_logs', 'main.telemetry.agents_otel_spans']);
      expect(ingest.requests.slice(-3).every((r) => r.body.length === 0)).toBe(true);
    });

    it('turns 503 naming Key Vault when it goes down, and 200 when it is back', async () => {
      vault.failWith = 503;
      const down = await ready();
      expect(down).toMatchObject({ status: 503, body: { status: 'not ready', failing: 'secrets', reason: 'cannot read secret "databricks-token" from Key Vault (503)' } });
      // Liveness stays up: the app serves from its cached secrets meanwhile.
      expect((await call('GET', '/api/health')).status).toBe(200);
      vault.failWith = undefined;
      expect((await ready()).status).toBe(200);
    });

    it('turns 503 naming the ingest when it goes down, and 200 when it is back', async () => {
      ingest.script.push({ status: 503 }, { status: 503 }, { status: 503 });
      const down = await ready();
      expect(down).toMatchObject({ status: 503, body: { failing: 'ingest metrics', reason: 'ingest refused an empty metrics export for main.telemetry.agents_otel_metrics: upstream unavailable (HTTP 503)' } });
      ingest.script.length = 0;
      expect((await ready()).status).toBe(200);
    });
  });

  it('serves /api/metrics in Prometheus text', async () => {
    const response = await call('GET', '/api/metrics');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.body.toString()).toContain('relay_exports_total{signal="metrics",agent="claude-code",outcome="accepted"} 1');
  });
});
