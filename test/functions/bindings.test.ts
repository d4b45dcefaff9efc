import { HttpRequest, InvocationContext, type HttpRequestInit } from '@azure/functions';
import { beforeAll, describe, expect, it } from 'vitest';
import { otlpType } from '../../shared/otlp/schema.js';
import { bearerFor, TEST_SIGNING_KEY } from '../credentials.js';
import { fixture } from '../fixtures.js';

/*
 * The Functions bindings called as the host calls them, with the SDK's own HttpRequest and
 * InvocationContext (their constructors are public for tests; without the host, app.http() registers
 * nothing). The app is the process's local-mode app, on an in-memory DuckDB.
 */

let bindings: {
  otel: typeof import('../../functions/otel.js').otel;
  config: typeof import('../../functions/config.js').config;
  health: typeof import('../../functions/health.js').health;
  usageRollup: typeof import('../../functions/usage.js').usageRollup;
  usageDaily: typeof import('../../functions/usage-daily.js').usageDaily;
  spoolReplay: typeof import('../../functions/spool-replay.js').spoolReplay;
};

beforeAll(async () => {
  Object.assign(process.env, { LOCAL_DUCKDB_PATH: ':memory:', RELAY_SIGNING_KEY: TEST_SIGNING_KEY, AI_GATEWAY_URL: 'https://gw.example.net' });
  bindings = {
    ...(await import('../../functions/otel.js')),
    ...(await import('../../functions/config.js')),
    ...(await import('../../functions/health.js')),
    ...(await import('../../functions/usage.js')),
    ...(await import('../../functions/usage-daily.js')),
    ...(await import('../../functions/spool-replay.js')),
  };
});

const bodyOf = async (response: { body?: unknown }) => Buffer.from(response.body as Uint8Array);

describe('functions/', () => {
  it('otel: passes the route parameter, headers and exact body bytes to the relay', async () => {
    const f = fixture('claude-code-2.1.197.metrics.pb');
    const request = new HttpRequest({
      method: 'POST',
      url: 'https://relay.example.net/api/otel/v1/metrics',
      params: { signal: 'metrics' },
      headers: { 'Content-Type': 'application/x-protobuf', Authorization: await bearerFor('claude-code') },
      body: { bytes: f.body },
    });
    const response = await bindings.otel(request);
    expect(response.status).toBe(200);
    expect((response.headers as Record<string, string>)['content-type']).toBe('application/x-protobuf');
  });

  it('otel: answers a bad body in the OTLP way', async () => {
    const request = new HttpRequest({
      method: 'POST',
      url: 'https://relay.example.net/api/otel/v1/logs',
      params: { signal: 'logs' },
      headers: { 'content-type': 'application/x-protobuf', authorization: await bearerFor('codex') },
      body: { bytes: Buffer.from('\xff\xff\xff\xff') },
    });
    const response = await bindings.otel(request);
    expect(response.status).toBe(400);
    expect(otlpType('RpcStatus').decode(await bodyOf(response))).toMatchObject({ code: 3 });
  });

  it('config: serves the local user a config, with its query string', async () => {
    const request = new HttpRequest({ method: 'GET', url: 'https://relay.example.net/api/config/gemini-cli?file=settings', params: { agent: 'gemini-cli' } });
    const response = await bindings.config(request);
    expect(response.status).toBe(200);
    expect(JSON.parse((await bodyOf(response)).toString())).toMatchObject({ telemetry: { otlpProtocol: 'http', logPrompts: false } });
  });

  it('health: says local mode', async () => {
    const response = await bindings.health(new HttpRequest({ method: 'GET', url: 'https://relay.example.net/api/health' }));
    expect(JSON.parse((await bodyOf(response)).toString())).toMatchObject({ status: 'ok', mode: 'local' });
  });

  it('usage: runs on demand and on the timer', async () => {
    const response = await bindings.usageRollup(new HttpRequest({ method: 'POST', url: 'https://relay.example.net/api/usage/rollup?from=2026-11-20&to=2026-11-22' }));
    expect(JSON.parse((await bodyOf(response)).toString())).toMatchObject({ range: { from: '2026-11-20', to: '2026-11-22' } });
    const logged: unknown[] = [];
    const context = new InvocationContext({ invocationId: 'test', functionName: 'usageDaily', logHandler: (_level, ...args) => logged.push(...args) });
    await bindings.usageDaily({ isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } }, context);
    expect(String(logged[0])).toMatch(/^usage roll-up \d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2}: \d+ rows$/);
  });

  it('spoolReplay: does nothing and logs nothing with the spool off (no storage account here)', async () => {
    const logged: unknown[] = [];
    const context = new InvocationContext({ invocationId: 'test', functionName: 'spoolReplay', logHandler: (_level, ...args) => logged.push(...args) });
    await bindings.spoolReplay({ isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } }, context);
    expect(logged).toEqual([]);
    const response = await bindings.health(new HttpRequest({ method: 'GET', url: 'https://relay.example.net/api/health' }));
    expect(JSON.parse((await bodyOf(response)).toString())).toMatchObject({ spool: 'off' });
  });

  describe('otel with the body as a stream (HTTP streams on)', () => {
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

    /** The SDK's HttpRequest as the host builds it with streams on: on a native Request with a stream body. */
    function streamedRequest(stream: ReadableStream<Uint8Array>, headers: Record<string, string>) {
      const url = 'https://relay.example.net/api/otel/v1/metrics';
      const nativeRequest = new Request(url, { method: 'POST', body: stream, duplex: 'half', headers } as RequestInit);
      return new HttpRequest({ nativeRequest, params: { signal: 'metrics' } } as unknown as HttpRequestInit);
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
      const response = await bindings.otel(streamedRequest(stream, { 'content-type': 'application/x-protobuf', authorization: await bearerFor('claude-code') }));
      expect(response.status).toBe(200);
    });

    it('reads nothing of an export without a credential', async () => {
      const { stream, counter } = countingStream(limit);
      const response = await bindings.otel(streamedRequest(stream, { 'content-type': 'application/x-protobuf' }));
      expect(response.status).toBe(401);
      expect(counter.pulled).toBe(0);
    });

    it('refuses a declared length over the limit before reading', async () => {
      const { stream, counter } = countingStream(limit + 1);
      const headers = { 'content-type': 'application/x-protobuf', authorization: await bearerFor('codex'), 'content-length': String(limit + 1) };
      const response = await bindings.otel(streamedRequest(stream, headers));
      expect(response.status).toBe(413);
      expect(counter.pulled).toBe(0);
    });

    it('stops reading a chunked body at the limit', async () => {
      const { stream, counter } = countingStream(limit + 5 * 1024 * 1024);
      const response = await bindings.otel(streamedRequest(stream, { 'content-type': 'application/x-protobuf', authorization: await bearerFor('codex') }));
      expect(response.status).toBe(413);
      expect(otlpType('RpcStatus').decode(await bodyOf(response))).toMatchObject({ code: 8, message: `body exceeds ${limit} bytes` });
      expect(counter.pulled).toBeLessThanOrEqual(limit + 64 * 1024);
    });
  });
});
