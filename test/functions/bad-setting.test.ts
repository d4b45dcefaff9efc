import type { HttpResponseInit } from '@azure/functions';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { otlpType } from '../../shared/otlp/schema.js';
import { ROUTES } from '../../shared/routes.js';
import { TEST_SIGNING_KEY } from '../credentials.js';
import { installStandInHost } from './stand-in-host.js';

/*
 * A bad setting under the Functions bindings: every route answers 503 with Retry-After naming the
 * setting (no bare 500, no secret), and the app starts by itself once the setting is fixed (in Azure
 * a changed app setting restarts the worker; here the retry picks it up).
 */

const standIn = installStandInHost();
let sdk: typeof import('@azure/functions');

beforeAll(async () => {
  Object.assign(process.env, {
    DATABRICKS_HOST: 'https://adb-123.4.azuredatabricks.net',
    OTEL_INGEST_URL: 'http://127.0.0.1:9/api/2.0/otel',
    UC_CATALOG: 'main',
    UC_SCHEMA: 'telemetry',
    UC_TABLE_PREFIX: 'agents',
    DATABRICKS_TOKEN: 'dapi-must-not-leak',
    RELAY_SIGNING_KEY: TEST_SIGNING_KEY,
    UPSTREAM_TIMEOUT_MS: 'five seconds',
  });
  sdk = await import('@azure/functions');
  await import('../../functions/lifecycle.js');
  await import('../../functions/http.js');
  await standIn.runHooks('appStart');
});

afterAll(() => standIn.runHooks('appTerminate'));

async function call(name: string, method: string, path: string) {
  const request = new sdk.HttpRequest({ method, url: `https://relay.example.net/api/${path}`, headers: { 'content-type': 'application/x-protobuf' } });
  const context = new sdk.InvocationContext({ invocationId: 'bad-setting', functionName: name, logHandler: () => {} });
  const response = (await standIn.functions.get(name)!.handler(request, context)) as HttpResponseInit;
  return { status: response.status!, headers: response.headers as Record<string, string>, body: Buffer.from(response.body as Uint8Array) };
}

it('answers every route 503 naming the setting, then starts once it is fixed', async () => {
  const cause = 'relay not started: setting UPSTREAM_TIMEOUT_MS: expected an integer from 100 to 60000';
  for (const route of ROUTES) {
    const response = await call(route.name, route.methods[0]!, route.path.replace(/\{\w+\}/g, 'metrics'));
    expect(response.status, route.name).toBe(503);
    expect(response.headers['retry-after'], route.name).toMatch(/^[1-3]$/);
    const message = route.errors === 'otlp' ? (otlpType('RpcStatus').decode(response.body) as unknown as { message: string }).message : JSON.parse(response.body.toString()).error;
    expect(message, route.name).toBe(cause);
    expect(response.body.toString()).not.toContain('dapi');
  }
  process.env.UPSTREAM_TIMEOUT_MS = '5000';
  const deadline = Date.now() + 15_000;
  while ((await call('health', 'GET', 'health')).status !== 200) {
    expect(Date.now()).toBeLessThan(deadline);
    await new Promise((r) => setTimeout(r, 200));
  }
});
