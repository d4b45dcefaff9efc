import type { HttpRequestInit, HttpResponseInit } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otlpType } from '../../shared/otlp/schema.js';
import { matchRoute } from '../../shared/route-request.js';
import { BOUND_METHODS, ROUTES } from '../../shared/routes.js';
import { bearerFor, TEST_SIGNING_KEY } from '../credentials.js';
import { azureStandIns, type StandIns } from '../fakes/azure.js';
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
let stand: StandIns;
let vault: StandIns['vault'];
let ingest: StandIns['ingest'];
const logged: string[] = [];

beforeAll(async () => {
  stand = await azureStandIns({ 'databricks-token': 'dapi-held-in-vault', 'relay-signing-key': TEST_SIGNING_KEY });
  ({ vault, ingest } = stand);
  vault.failWith = 503;
  // The host hands the worker its app settings as environment variables.
  Object.assign(process.env, stand.settings, { AI_GATEWAY_URL: 'https://gw.example.net', READINESS_CACHE_SECONDS: '0' });
  sdk = await import('@azure/functions');
  await import('../../functions/lifecycle.js');
  await import('../../functions/http.js');
  await import('../../functions/usage-daily.js');
  await import('../../functions/spool-replay.js');
  await standIn.runHooks('appStart');
});

afterAll(async () => {
  await standIn.runHooks('appTerminate');
  await stand.close();
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

describe('functions/ otel with the body as a stream (HTTP streams on)', () => {
  /** A request body stream that counts what was pulled from it: 64 KiB chunks, `total` bytes. */
  function countingStream(total: number) {
    const counter = { pulled: 0 };
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (counter.pulled >= total) return controller.close();
          const chunk = new Uint8Array(Math.min(64 * 1024, total - counter.pulled));
          counter.pulled += chunk.length;
          controller.enqueue(chunk);
        },
      },
      { highWaterMark: 0 },
    );
    return { stream, counter };
  }

  /** The export binding called with the SDK's HttpRequest as the host builds it with streams on: on a native Request with a stream body. */
  async function postStreamed(stream: ReadableStream<Uint8Array>, headers: Record<string, string>) {
    const url = '/api/otel/v1/metrics';
    const target = standIn.route('POST', url)!;
    const nativeRequest = new Request(`https://relay.example.net${url}`, { method: 'POST', body: stream, duplex: 'half', headers } as RequestInit);
    const request = new sdk.HttpRequest({ nativeRequest, params: target.params } as unknown as HttpRequestInit);
    const context = new sdk.InvocationContext({ invocationId: 'inv-stream', functionName: target.name, logHandler: () => {} });
    const response = (await standIn.functions.get(target.name)!.handler(request, context)) as HttpResponseInit;
    return { status: response.status!, body: Buffer.from(response.body as Uint8Array) };
  }

  const limit = 20 * 1024 * 1024;

  it('forwards a streamed export', async () => {
    const f = fixture('claude-code-2.1.197.metrics.pb');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(f.body.subarray(0, 100));
        controller.enqueue(f.body.subarray(100));
        controller.close();
      },
    });
    const response = await postStreamed(stream, { 'content-type': 'application/x-protobuf', authorization: await bearerFor('claude-code') });
    expect(response.status).toBe(200);
  });

  it('reads nothing of an export without a credential', async () => {
    const { stream, counter } = countingStream(limit);
    const response = await postStreamed(stream, { 'content-type': 'application/x-protobuf' });
    expect(response.status).toBe(401);
    expect(counter.pulled).toBe(0);
  });

  it('refuses a declared length over the limit before reading', async () => {
    const { stream, counter } = countingStream(limit + 1);
    const headers = { 'content-type': 'application/x-protobuf', authorization: await bearerFor('codex'), 'content-length': String(limit + 1) };
    const response = await postStreamed(stream, headers);
    expect(response.status).toBe(413);
    expect(counter.pulled).toBe(0);
  });

  it('stops reading a chunked body at the limit', async () => {
    const { stream, counter } = countingStream(limit + 5 * 1024 * 1024);
    const response = await postStreamed(stream, { 'content-type': 'application/x-protobuf', authorization: await bearerFor('codex') });
    expect(response.status).toBe(413);
    expect(otlpType('RpcStatus').decode(response.body)).toMatchObject({ code: 8, message: `body exceeds ${limit} bytes` });
    expect(counter.pulled).toBeLessThanOrEqual(limit + 64 * 1024);
  });
});
