import { HttpRequest, InvocationContext } from '@azure/functions';
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
  credential: typeof import('../../functions/credential.js').credential;
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
    ...(await import('../../functions/credential.js')),
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

  it('credential: answers the headers object for the local user', async () => {
    const response = await bindings.credential(new HttpRequest({ method: 'POST', url: 'https://relay.example.net/api/credential?agent=claude-code' }));
    expect(response.status).toBe(200);
    expect(JSON.parse((await bodyOf(response)).toString()).Authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
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
});
