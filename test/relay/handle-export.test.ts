import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bufferedBody, type PlainRequest } from '../../shared/http.js';
import { admission } from '../../shared/relay/admission.js';
import { otlpType } from '../../shared/otlp/schema.js';
import { signalNamed, type Signal } from '../../shared/otlp/signals.js';
import { exportGuard } from '../../shared/identity/export-guard.js';
import { CredentialVerifier, parseRevocations, signingKey } from '../../shared/identity/relay-credentials.js';
import { SecretUnavailableError } from '../../shared/secrets.js';
import { ALICE, bearerFor, TEST_SIGNING_KEY } from '../credentials.js';
import { exportHandler, type ExportDeps } from '../../shared/relay/handle-export.js';
import type { Forward, ForwardOutcome } from '../../shared/relay/outcome.js';
import { fixture } from '../fixtures.js';

const RpcStatus = otlpType('RpcStatus');
/** No credential check and nothing to remove: the pipeline as RELAY_AUTH=none runs it. */
const OPEN = exportGuard({ verifier: undefined, deniedResourceAttributes: new Set(), deniedLogAttributes: new Set() });
const MAX = 64 * 1024;

/** A forwarder that records what it was given (the pieces joined) and answers with a fixed outcome. */
function recordingForward(outcome: ForwardOutcome = { kind: 'accepted', body: new Uint8Array() }) {
  const calls: { signal: Signal; protobuf: Buffer }[] = [];
  const forward: Forward = async (signal, protobuf) => {
    calls.push({ signal, protobuf: Buffer.concat(protobuf) });
    return outcome;
  };
  return { forward, calls };
}

function post(body: Uint8Array, headers: Record<string, string>, method = 'POST'): PlainRequest {
  return { method, url: '/api/otel/v1/metrics', headers, body: bufferedBody(body) };
}

/** The pipeline's dependencies with roomy limits, unless a test says otherwise. */
function deps(overrides: Partial<ExportDeps> & Pick<ExportDeps, 'guard' | 'forward'>): ExportDeps {
  return { maxBodyBytes: MAX, maxEntries: 100, admission: admission(8, 1 << 26), ...overrides };
}

const protobufHeaders = { 'content-type': 'application/x-protobuf' };
const jsonHeaders = { 'content-type': 'application/json' };
const claudeMetrics = fixture('claude-code-2.1.197.metrics.pb');

function statusOf(body: Uint8Array, contentType: string) {
  return contentType === 'application/json' ? JSON.parse(Buffer.from(body).toString()) : RpcStatus.toObject(RpcStatus.decode(body));
}

describe('exportHandler', () => {
  it('forwards a protobuf export as it came and answers 200 once the upstream accepted it', async () => {
    const { forward, calls } = recordingForward();
    const response = await exportHandler(deps({ maxBodyBytes: MAX, guard: OPEN, forward }))('metrics', post(claudeMetrics.body, protobufHeaders));
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/x-protobuf');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.signal.name).toBe('metrics');
    expect(Buffer.from(calls[0]!.protobuf).equals(claudeMetrics.body)).toBe(true);
  });

  it('transcodes OTLP/JSON and answers in JSON', async () => {
    const gemini = fixture('gemini-cli-0.61.0.logs.json');
    const { forward, calls } = recordingForward();
    const response = await exportHandler(deps({ maxBodyBytes: 1 << 20, guard: OPEN, forward }))('logs', { ...post(gemini.body, jsonHeaders), url: '/api/otel/v1/logs' });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(JSON.parse(Buffer.from(response.body).toString())).toEqual({});
    expect(signalNamed('logs')!.request.decode(calls[0]!.protobuf)).toBeTruthy();
  });

  it('passes partial_success through, re-encoded for JSON clients', async () => {
    const metrics = signalNamed('metrics')!;
    const upstreamBody = metrics.response.encode({ partialSuccess: { rejectedDataPoints: 2, errorMessage: 'two points too old' } }).finish();
    const { forward } = recordingForward({ kind: 'accepted', body: upstreamBody });
    const response = await exportHandler(deps({ maxBodyBytes: MAX, guard: OPEN, forward }))('metrics', post(Buffer.from('{"resourceMetrics":[{}]}'), jsonHeaders));
    expect(response.status).toBe(200);
    expect(JSON.parse(Buffer.from(response.body).toString())).toEqual({ partialSuccess: { rejectedDataPoints: '2', errorMessage: 'two points too old' } });
  });

  it('accepts gzip and deflate bodies', async () => {
    const { forward, calls } = recordingForward();
    const handle = exportHandler(deps({ maxBodyBytes: MAX, guard: OPEN, forward }));
    expect((await handle('metrics', post(gzipSync(claudeMetrics.body), { ...protobufHeaders, 'content-encoding': 'gzip' }))).status).toBe(200);
    expect(Buffer.from(calls[0]!.protobuf).equals(claudeMetrics.body)).toBe(true);
  });

  it('answers an empty body with 200 without forwarding', async () => {
    const { forward, calls } = recordingForward();
    const response = await exportHandler(deps({ maxBodyBytes: MAX, guard: OPEN, forward }))('metrics', post(new Uint8Array(), protobufHeaders));
    expect(response.status).toBe(200);
    expect(calls).toHaveLength(0);
  });

  it.each([
    ['a GET', post(new Uint8Array(), protobufHeaders, 'GET'), 405, 'method GET not allowed: use POST'],
    ['text/plain', post(Buffer.from('x'), { 'content-type': 'text/plain' }), 415, 'unsupported Content-Type: use application/x-protobuf or application/json'],
    ['no content type', post(Buffer.from('x'), {}), 415, 'unsupported Content-Type: use application/x-protobuf or application/json'],
    ['a body over the limit', post(Buffer.alloc(MAX + 1), protobufHeaders), 413, `body exceeds ${MAX} bytes`],
    ['a gzip bomb', post(gzipSync(Buffer.alloc(MAX * 16)), { ...protobufHeaders, 'content-encoding': 'gzip' }), 413, `decompressed body exceeds ${MAX} bytes`],
    ['truncated gzip', post(gzipSync(claudeMetrics.body).subarray(0, 100), { ...protobufHeaders, 'content-encoding': 'gzip' }), 400, /^cannot decode gzip body/],
    ['an unknown encoding', post(Buffer.from('x'), { ...protobufHeaders, 'content-encoding': 'zstd' }), 415, /unsupported Content-Encoding "zstd"/],
    ['garbage protobuf', post(Buffer.from('\xff\xff\xff\xff garbage'), protobufHeaders), 400, /^invalid protobuf ExportMetricsServiceRequest/],
    ['JSON of the wrong shape', post(Buffer.from('{"resourceMetrics":[{"scopeMetrics":"x"}]}'), jsonHeaders), 400, 'resourceMetrics[0].scopeMetrics: expected an array'],
  ])('refuses %s', async (_case, request, status, message) => {
    const { forward, calls } = recordingForward();
    const response = await exportHandler(deps({ maxBodyBytes: MAX, guard: OPEN, forward }))('metrics', request);
    expect(response.status).toBe(status);
    const contentType = response.headers['content-type']!;
    const body = statusOf(response.body, contentType);
    if (typeof message === 'string') expect(body.message).toBe(message);
    else expect(body.message).toMatch(message);
    expect(calls).toHaveLength(0);
  });

  it('answers an unknown signal with 404', async () => {
    const { forward } = recordingForward();
    const response = await exportHandler(deps({ maxBodyBytes: MAX, guard: OPEN, forward }))('profiles', post(claudeMetrics.body, protobufHeaders));
    expect(response.status).toBe(404);
  });

  it.each([
    [{ kind: 'retryable', status: 503, retryAfterSeconds: 2, reason: 'upstream timed out' }, 503, '2'],
    [{ kind: 'retryable', status: 429, retryAfterSeconds: 3, reason: 'upstream is throttling' }, 429, '3'],
    [{ kind: 'rejected', status: 400, reason: 'upstream rejected the data: bad' }, 400, undefined],
    [{ kind: 'unauthorized', upstreamStatus: 403 }, 503, '3'],
  ] as [ForwardOutcome, number, string | undefined][])('maps outcome %j to %i', async (outcome, status, retryAfter) => {
    const { forward } = recordingForward(outcome);
    const response = await exportHandler(deps({ maxBodyBytes: MAX, guard: OPEN, forward }))('metrics', post(claudeMetrics.body, protobufHeaders));
    expect(response.status).toBe(status);
    expect(response.headers['retry-after']).toBe(retryAfter);
  });

  // Fuzz: random and truncated bytes under every content type never crash and never reach upstream as 200.
  it('answers random and truncated bodies with 4xx or 200, never an exception', async () => {
    const { forward } = recordingForward();
    const handle = exportHandler(deps({ maxBodyBytes: MAX, guard: OPEN, forward }));
    const contentTypes = ['application/x-protobuf', 'application/json', 'text/plain'];
    const encodings = [undefined, 'gzip', 'deflate'];
    for (let i = 0; i < 300; i++) {
      const source = i % 2 === 0 ? randomBytes(1 + (i % 200)) : claudeMetrics.body.subarray(0, i * 7);
      for (const contentType of contentTypes) {
        for (const encoding of encodings) {
          const headers: Record<string, string> = { 'content-type': contentType };
          if (encoding) headers['content-encoding'] = encoding;
          for (const signal of ['metrics', 'logs', 'traces']) {
            const response = await handle(signal, { method: 'POST', url: `/api/otel/v1/${signal}`, headers, body: bufferedBody(source) });
            expect([200, 400, 413, 415]).toContain(response.status);
          }
        }
      }
    }
  });
});

describe('exportHandler with relay credentials', () => {
  const keys = { current: signingKey(TEST_SIGNING_KEY) };
  function guarded(keysAvailable = true) {
    const verifier = new CredentialVerifier({
      keys: async () => {
        if (!keysAvailable) throw new SecretUnavailableError('cannot read secret "relay-signing-key" from Key Vault (503)');
        return keys;
      },
      revocations: async () => parseRevocations(''),
    });
    return exportGuard({ verifier, deniedResourceAttributes: new Set(), deniedLogAttributes: new Set() });
  }

  it.each([
    ['no Authorization header', undefined, 'missing credential: send Authorization: Bearer <relay credential>', 'Bearer realm="coding-agent-relay"'],
    ['a malformed one', 'Bearer not-a-credential', 'malformed credential: expected Authorization: Bearer <relay credential>', 'Bearer realm="coding-agent-relay", error="invalid_token"'],
    ['a wrongly signed one', 'other', 'credential signed with an unknown or retired key', 'Bearer realm="coding-agent-relay", error="invalid_token"'],
  ])('answers 401 for %s and forwards nothing', async (_case, authorization, message, challenge) => {
    const { forward, calls } = recordingForward();
    const header = authorization === 'other' ? await bearerFor('codex', ALICE, 'another-signing-key-0123456789abcdef0123456789') : authorization;
    const headers: Record<string, string> = { ...protobufHeaders };
    if (header) headers.authorization = header;
    const response = await exportHandler(deps({ maxBodyBytes: MAX, guard: guarded(), forward }))('metrics', post(claudeMetrics.body, headers));
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe(challenge);
    expect(statusOf(response.body, 'application/x-protobuf')).toEqual({ code: 16, message });
    expect(Buffer.from(response.body).toString('latin1')).not.toContain(header?.slice(7) || '\u0000none');
    expect(calls).toHaveLength(0);
  });

  it('forwards the stamped export of a valid credential', async () => {
    const { forward, calls } = recordingForward();
    const response = await exportHandler(deps({ maxBodyBytes: MAX, guard: guarded(), forward }))(
      'metrics',
      post(claudeMetrics.body, { ...protobufHeaders, authorization: await bearerFor('claude-code') }),
    );
    expect(response.status).toBe(200);
    expect(Buffer.from(calls[0]!.protobuf).includes(ALICE.email)).toBe(true);
  });

  it('answers 503 when the signing key cannot be read', async () => {
    const { forward, calls } = recordingForward();
    const response = await exportHandler(deps({ maxBodyBytes: MAX, guard: guarded(false), forward }))(
      'metrics',
      post(claudeMetrics.body, { ...protobufHeaders, authorization: await bearerFor('claude-code') }),
    );
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('2');
    expect(calls).toHaveLength(0);
  });
});

/** A body that records whether (and how far) anyone read it. */
function watchedBody(bytes: Uint8Array, declaredLength: number | undefined = bytes.length) {
  const body = {
    reads: 0,
    declaredLength,
    async read(maxBytes: number, onChunk?: (bytes: number) => void) {
      body.reads++;
      return bufferedBody(bytes).read(maxBytes, onChunk);
    },
  };
  return body;
}

describe('exportHandler bounds the work a request can cause', () => {
  /** Ten million empty ResourceMetrics entries (`0a 00` each): 20 MB, about 20 KB gzipped. */
  const emptyEntries = Buffer.alloc(20_000_000, Buffer.from([0x0a, 0x00]));
  const stamping = exportGuard({
    verifier: { verify: async () => ({ userId: ALICE.userId, email: ALICE.email, agent: 'codex', credentialId: 'c', expiresAt: 2e9 }) } as unknown as CredentialVerifier,
    deniedResourceAttributes: new Set(),
    deniedLogAttributes: new Set(),
  });

  it('refuses 20 KB of gzip holding ten million empty entries with 413 in milliseconds', async () => {
    const gzipped = gzipSync(emptyEntries);
    expect(gzipped.length).toBeLessThan(30_000);
    const { forward, calls } = recordingForward();
    const handle = exportHandler(deps({ maxBodyBytes: 20 * 1024 * 1024, maxEntries: 1000, guard: stamping, forward }));
    const started = performance.now();
    const response = await handle('metrics', post(gzipped, { ...protobufHeaders, 'content-encoding': 'gzip', authorization: 'Bearer x' }));
    const elapsed = performance.now() - started;
    expect(response.status).toBe(413);
    expect(statusOf(response.body, 'application/x-protobuf').message).toBe('export holds more than 1000 resourceMetrics entries');
    expect(calls).toHaveLength(0);
    expect(elapsed).toBeLessThan(1000); // decompressing 20 MB is most of it; the entry walk stops at 1001
  });

  it('refuses the same in OTLP/JSON before parsing millions of entries', async () => {
    const json = gzipSync(Buffer.from(`{"resourceMetrics":[${'{},'.repeat(6_000_000)}{}]}`));
    const { forward, calls } = recordingForward();
    const handle = exportHandler(deps({ maxBodyBytes: 20 * 1024 * 1024, maxEntries: 1000, guard: stamping, forward }));
    const started = performance.now();
    const response = await handle('metrics', post(json, { ...jsonHeaders, 'content-encoding': 'gzip', authorization: 'Bearer x' }));
    const elapsed = performance.now() - started;
    expect(response.status).toBe(413);
    expect(statusOf(response.body, 'application/json').message).toBe('export holds more than 1000 resourceMetrics entries');
    expect(calls).toHaveLength(0);
    expect(elapsed).toBeLessThan(1000); // decompressing is most of it; parsing them all took seconds
  });

  it('sends nothing upstream for empty entries and answers 200', async () => {
    const { forward, calls } = recordingForward();
    const response = await exportHandler(deps({ guard: stamping, forward }))('metrics', post(emptyEntries.subarray(0, 200), { ...protobufHeaders, authorization: 'Bearer x' }));
    expect(response.status).toBe(200);
    expect(calls).toHaveLength(0);
  });

  it('refuses an export whose stamped form outgrows the body limit', async () => {
    // 100 entries with one empty scope each: 6 bytes in, each gains the stamp (about 110 bytes).
    const entries = Buffer.alloc(600, Buffer.from([0x0a, 0x04, 0x12, 0x02, 0x12, 0x00]));
    const { forward, calls } = recordingForward();
    const response = await exportHandler(deps({ maxBodyBytes: 4096, guard: stamping, forward }))('metrics', post(entries, { ...protobufHeaders, authorization: 'Bearer x' }));
    expect(response.status).toBe(413);
    expect(statusOf(response.body, 'application/x-protobuf').message).toBe('export exceeds 4096 bytes once identity is stamped');
    expect(calls).toHaveLength(0);
  });

  /**
   * CPU milliseconds per MiB the handler spends on one export, all of it on the event loop (nothing
   * here waits on I/O), measured on a second run (a server runs warm). CPU time rather than wall time:
   * this machine is shared, and waiting for a core is not work the export causes.
   */
  async function msPerMiB(handle: ReturnType<typeof exportHandler>, body: Buffer) {
    const run = () => handle('metrics', post(body, { ...protobufHeaders, authorization: 'Bearer x' }));
    await run();
    const before = process.cpuUsage();
    const response = await run();
    const used = process.cpuUsage(before);
    return { status: response.status, msPerMiB: (used.user + used.system) / 1000 / (body.length / 1024 / 1024) };
  }

  it('spends a few milliseconds per MiB on millions of empty entries when no entry cap stops them', async () => {
    const { forward, calls } = recordingForward();
    const handle = exportHandler(deps({ maxBodyBytes: 8 * 1024 * 1024, maxEntries: Infinity, guard: stamping, forward }));
    const { status, msPerMiB: cost } = await msPerMiB(handle, emptyEntries.subarray(0, 4 * 1024 * 1024));
    expect(status).toBe(200);
    expect(calls).toHaveLength(0);
    expect(cost).toBeLessThan(30); // about 9 measured here
  });

  it('walks densely nested exports at a bounded cost per MiB', async () => {
    // One entry holding 4 MiB of scopes with one unknown field each (`12 02 78 00`): a million messages.
    const scopes = Buffer.alloc(4 * 1024 * 1024, Buffer.from([0x12, 0x02, 0x78, 0x00]));
    const { forward, calls } = recordingForward();
    const handle = exportHandler(deps({ maxBodyBytes: 8 * 1024 * 1024, guard: stamping, forward }));
    const { status, msPerMiB: cost } = await msPerMiB(handle, Buffer.concat([Buffer.from([0x0a, ...varint(scopes.length)]), scopes]));
    expect(status).toBe(200);
    expect(calls).toHaveLength(2);
    expect(cost).toBeLessThan(60); // 15-20 measured here (validation and the guard's walk)
  });

  it.each([
    ['KeyValue.key', 'a harmless key, then user.email', kv([0x0a, ...str('service.name'), 0x0a, ...str('user.email'), 0x12, 0x03, 0x0a, 0x01, 0x78])],
    ['Resource entry', 'two resources in one entry', Buffer.from([0x0a, 0x00, 0x0a, 0x00])],
  ])('refuses a repeated single field (%s: %s) with 400, as protobuf parsers would read the last', async (_field, _case, entry) => {
    const { forward, calls } = recordingForward();
    const body = Buffer.from([0x0a, ...varint(entry.length), ...entry]);
    const response = await exportHandler(deps({ guard: stamping, forward }))('logs', { ...post(body, { ...protobufHeaders, authorization: 'Bearer x' }), url: '/api/otel/v1/logs' });
    expect(response.status).toBe(400);
    expect(statusOf(response.body, 'application/x-protobuf').message).toMatch(/appears more than once/);
    expect(calls).toHaveLength(0);
  });

  it.each([100, 50_000])('answers OTLP/JSON nested %i levels deep with 400', async (depth) => {
    const value = `${'{"kvlistValue":{"values":[{"key":"k","value":'.repeat(depth)}{"stringValue":"x"}${'}]}}'.repeat(depth)}`;
    const json = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":${value}}]}]}]}`;
    const { forward } = recordingForward();
    const response = await exportHandler(deps({ maxBodyBytes: 1 << 24, guard: OPEN, forward }))('logs', { ...post(Buffer.from(json), jsonHeaders), url: '/api/otel/v1/logs' });
    expect(response.status).toBe(400);
    expect(statusOf(response.body, 'application/json').message).toMatch(/nested deeper than 64 levels$/);
  });
});

describe('exportHandler sheds load before reading', () => {
  it('refuses with 401 without reading the body', async () => {
    const body = watchedBody(claudeMetrics.body);
    const guard = exportGuard({ verifier: new CredentialVerifier({ keys: async () => ({ current: signingKey(TEST_SIGNING_KEY) }), revocations: async () => parseRevocations('') }), deniedResourceAttributes: new Set(), deniedLogAttributes: new Set() });
    const response = await exportHandler(deps({ guard, forward: recordingForward().forward }))('metrics', { ...post(claudeMetrics.body, protobufHeaders), body });
    expect(response.status).toBe(401);
    expect(body.reads).toBe(0);
  });

  it('refuses a declared length over the limit with 413 before reading', async () => {
    const body = watchedBody(new Uint8Array(10), MAX + 1);
    const response = await exportHandler(deps({ guard: OPEN, forward: recordingForward().forward }))('metrics', { ...post(claudeMetrics.body, protobufHeaders), body });
    expect(response.status).toBe(413);
    expect(body.reads).toBe(0);
  });

  it('answers 503 at the in-flight cap without reading the body, and admits again once an export is done', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const forward: Forward = async () => (await held, { kind: 'accepted', body: new Uint8Array() });
    const handle = exportHandler(deps({ admission: admission(2, 1 << 26), guard: OPEN, forward }));
    const inflight = [handle('metrics', post(claudeMetrics.body, protobufHeaders)), handle('metrics', post(claudeMetrics.body, protobufHeaders))];
    const body = watchedBody(claudeMetrics.body);
    const shed = await handle('metrics', { ...post(claudeMetrics.body, protobufHeaders), body });
    expect(shed.status).toBe(503);
    expect(shed.headers['retry-after']).toBe('1');
    expect(statusOf(shed.body, 'application/x-protobuf').message).toBe('relay is at capacity');
    expect(body.reads).toBe(0);
    release();
    expect((await Promise.all(inflight)).map((r) => r.status)).toEqual([200, 200]);
    expect((await handle('metrics', post(claudeMetrics.body, protobufHeaders))).status).toBe(200);
  });

  it('answers 503 when the bytes held by exports in flight would pass the budget', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const forward: Forward = async () => (await held, { kind: 'accepted', body: new Uint8Array() });
    const handle = exportHandler(deps({ admission: admission(100, Math.floor(2.5 * claudeMetrics.body.length)), guard: OPEN, forward }));
    const first = handle('metrics', post(claudeMetrics.body, protobufHeaders));
    const second = handle('metrics', post(claudeMetrics.body, protobufHeaders));
    const third = await handle('metrics', post(claudeMetrics.body, protobufHeaders));
    expect(third.status).toBe(503);
    release();
    expect((await Promise.all([first, second])).map((r) => r.status)).toEqual([200, 200]);
  });
});

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

function str(text: string): number[] {
  return [...varint(Buffer.byteLength(text)), ...Buffer.from(text)];
}

/** ResourceLogs { resource { attributes: <KeyValue bytes> } } around raw KeyValue bytes, plus a scope so the entry carries data. */
function kv(keyValue: number[]): Buffer {
  const attribute = [0x0a, ...varint(keyValue.length), ...keyValue];
  const resource = [0x0a, ...varint(attribute.length), ...attribute];
  return Buffer.from([...resource, 0x12, 0x00]);
}
