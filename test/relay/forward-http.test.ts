import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secretTokenProvider } from '../../shared/databricks-token.js';
import { signalNamed, type Signal } from '../../shared/otlp/signals.js';
import { httpUpstream } from '../../shared/relay/forward-http.js';
import { withTokenRefresh } from '../../shared/relay/with-token-refresh.js';
import { environmentSource, SecretCache, type SecretSource } from '../../shared/secrets.js';
import { fakeDatabricksIngest, type FakeIngest } from '../fakes/databricks-ingest.js';
import { fixture } from '../fixtures.js';

const metrics = signalNamed('metrics')!;
const body = fixture('claude-code-2.1.197.metrics.pb').body;

let ingest: FakeIngest;
let upstream: ReturnType<typeof httpUpstream>;

function makeUpstream(overrides: Partial<Parameters<typeof httpUpstream>[0]> = {}) {
  upstream = httpUpstream({
    ingestUrl: `${ingest.url}/api/2.0/otel`,
    tableHeader: 'X-Databricks-UC-Table-Name',
    tableFor: (signal: Signal) => `main.agents.relay${signal.tableSuffix}`,
    gzip: false,
    timeoutMs: 300,
    maxSockets: 4,
    ...overrides,
  });
  return upstream;
}

beforeEach(async () => {
  ingest = await fakeDatabricksIngest();
});
afterEach(async () => {
  await upstream?.close();
  await ingest.close();
});

describe('httpUpstream', () => {
  it('posts protobuf with the token and the table header to <base>/v1/<signal>', async () => {
    const outcome = await makeUpstream()(metrics, [body], 'dapi-secret');
    expect(outcome.kind).toBe('accepted');
    const [request] = ingest.requests;
    expect(request!.url).toBe('/api/2.0/otel/v1/metrics');
    expect(request!.headers.authorization).toBe('Bearer dapi-secret');
    expect(request!.headers['x-databricks-uc-table-name']).toBe('main.agents.relay_otel_metrics');
    expect(request!.headers['content-type']).toBe('application/x-protobuf');
    expect(request!.body.equals(body)).toBe(true);
  });

  it('sends a body in pieces with its exact length, small or large', async () => {
    const large = fixture('codex-0.169.0.metrics.pb').body;
    for (const whole of [body, large]) {
      const pieces = [whole.subarray(0, 10), whole.subarray(10, 500), whole.subarray(500)];
      await makeUpstream()(metrics, pieces, 't');
      const received = ingest.requests.at(-1)!;
      expect(received.headers['content-length']).toBe(String(whole.length));
      expect(received.body.equals(whole)).toBe(true);
      await upstream.close();
    }
  });

  it('gzips the upstream body when configured', async () => {
    await makeUpstream({ gzip: true })(metrics, [body], 't');
    expect(ingest.requests[0]!.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(ingest.requests[0]!.body).equals(body)).toBe(true);
  });

  it.each([
    [{ status: 429, headers: { 'retry-after': '1' } }, { kind: 'retryable', status: 429, retryAfterSeconds: 1 }],
    [{ status: 500 }, { kind: 'retryable', status: 503 }],
    [{ status: 503 }, { kind: 'retryable', status: 503 }],
    [{ status: 400, headers: { 'content-type': 'application/json' }, body: '{"message":"no such table"}' }, { kind: 'rejected', status: 400, reason: 'upstream rejected the data: no such table' }],
    ['hang', { kind: 'retryable', status: 503, reason: 'upstream timed out' }],
  ] as const)('turns %j into %j', async (behaviour, expected) => {
    ingest.script.push(behaviour);
    expect(await makeUpstream()(metrics, [body], 't')).toMatchObject(expected);
  });

  it('does not send again when the connection is reset after the upstream read the export (it may hold it)', async () => {
    ingest.script.push('reset');
    expect(await makeUpstream()(metrics, [body], 't')).toMatchObject({ kind: 'retryable', status: 503, reason: expect.stringMatching(/^upstream unreachable \((UND_ERR_SOCKET|ECONNRESET)\)$/) });
    expect(ingest.requests).toHaveLength(1);
    expect(await upstream(metrics, [body], 't')).toMatchObject({ kind: 'accepted' });
    expect(ingest.requests).toHaveLength(2);
  });

  it('passes an upstream 400 on without the token or table the relay sent', async () => {
    const token = 'dapi-0123456789abcdef-secret';
    ingest.script.push({ status: 400, headers: { 'content-type': 'text/plain' }, body: `echo: authorization=Bearer ${token} table=main.agents.relay_otel_metrics` });
    const outcome = await makeUpstream()(metrics, [body], token);
    expect(outcome).toEqual({ kind: 'rejected', status: 400, reason: 'upstream rejected the data: echo: authorization=[redacted] table=[redacted]' });
  });

  it('answers 503 when nothing listens', async () => {
    const url = ingest.url;
    await ingest.close();
    upstream = httpUpstream({ ingestUrl: url, tableHeader: 'h', tableFor: () => 't', gzip: false, timeoutMs: 500, maxSockets: 1 });
    expect(await upstream(metrics, [body], 't')).toMatchObject({ kind: 'retryable', status: 503, reason: 'upstream unreachable (ECONNREFUSED)' });
    ingest = await fakeDatabricksIngest();
  });

  it('reuses connections (keep-alive)', async () => {
    const send = makeUpstream();
    for (let i = 0; i < 5; i++) await send(metrics, [body], 't');
    expect(ingest.requests.every((r) => r.headers.connection === 'keep-alive')).toBe(true);
  });
});

describe('withTokenRefresh', () => {
  function countingSource(values: string[]): SecretSource & { reads: number } {
    const source = {
      kind: 'environment' as const,
      reads: 0,
      async read() {
        return values[Math.min(source.reads++, values.length - 1)]!;
      },
    };
    return source;
  }

  it('fetches the token again after a 401 and retries once', async () => {
    const source = countingSource(['old-token', 'rotated-token']);
    const secrets = new SecretCache(source, { ttlMs: 60_000, maxStaleMs: 0, timeoutMs: 1000 });
    const forward = withTokenRefresh(makeUpstream(), secretTokenProvider(secrets, 'databricks-token'), () => {});
    ingest.script.push({ status: 401 });
    expect(await forward(metrics, [body])).toMatchObject({ kind: 'accepted' });
    expect(ingest.requests.map((r) => r.headers.authorization)).toEqual(['Bearer old-token', 'Bearer rotated-token']);
    expect(source.reads).toBe(2);
  });

  it('gives 503 when the fresh token is refused too', async () => {
    const warnings: string[] = [];
    const secrets = new SecretCache(countingSource(['a', 'b']), { ttlMs: 60_000, maxStaleMs: 0, timeoutMs: 1000 });
    const forward = withTokenRefresh(makeUpstream(), secretTokenProvider(secrets, 'databricks-token'), (m) => warnings.push(m));
    ingest.script.push({ status: 403 }, { status: 403 });
    expect(await forward(metrics, [body])).toMatchObject({ kind: 'retryable', status: 503 });
    expect(ingest.requests).toHaveLength(2);
    expect(warnings.join()).not.toContain('Bearer');
  });

  it('reads the token once for a burst of refused exports and sends them all again with the rotated one', async () => {
    const source = countingSource(['old-token', 'rotated-token']);
    const secrets = new SecretCache(source, { ttlMs: 60_000, maxStaleMs: 0, timeoutMs: 1000 });
    const forward = withTokenRefresh(makeUpstream({ maxSockets: 20 }), secretTokenProvider(secrets, 'databricks-token'), () => {});
    ingest.refusedToken = 'old-token';
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => forward(metrics, [body])));
    expect(outcomes.every((o) => o.kind === 'accepted')).toBe(true);
    expect(source.reads).toBe(2);
  });

  it('keeps refusing with 503 and backs off instead of reading Key Vault per export while the token stays refused', async () => {
    const source = countingSource(['refused-token']);
    const secrets = new SecretCache(source, { ttlMs: 60_000, maxStaleMs: 0, timeoutMs: 1000 });
    const forward = withTokenRefresh(makeUpstream(), secretTokenProvider(secrets, 'databricks-token'), () => {});
    ingest.refusedToken = 'refused-token';
    const outcomes: string[] = [];
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => forward(metrics, [body])));
      outcomes.push(...batch.map((o) => (o.kind === 'retryable' ? `${o.status} ${o.reason}` : o.kind)));
    }
    expect(outcomes.length).toBeGreaterThan(100);
    expect(new Set(outcomes)).toEqual(new Set(['503 upstream refused the relay credentials']));
    // First read, one refresh for the burst, one more after the 1 s pause (at most).
    expect(source.reads).toBeLessThanOrEqual(3);
    expect(ingest.requests.length).toBeLessThan(40);
  });

  it('gives 503 without calling upstream when no token can be had', async () => {
    const secrets = new SecretCache(environmentSource({}), { ttlMs: 60_000, maxStaleMs: 0, timeoutMs: 1000 });
    const forward = withTokenRefresh(makeUpstream(), secretTokenProvider(secrets, 'databricks-token'), () => {});
    expect(await forward(metrics, [body])).toMatchObject({ kind: 'retryable', status: 503, reason: 'relay credentials unavailable' });
    expect(ingest.requests).toHaveLength(0);
  });
});
