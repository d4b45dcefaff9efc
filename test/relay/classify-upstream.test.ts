import { describe, expect, it } from 'vitest';
import { classifyUpstream, retryAfterSeconds, upstreamReason } from '../../shared/relay/classify-upstream.js';
import { otlpType } from '../../shared/otlp/schema.js';

describe('classifyUpstream', () => {
  it.each([
    [200, {}, { kind: 'accepted' }],
    [204, {}, { kind: 'accepted' }],
    [401, {}, { kind: 'unauthorized', upstreamStatus: 401 }],
    [403, {}, { kind: 'unauthorized', upstreamStatus: 403 }],
    [400, {}, { kind: 'rejected', status: 400 }],
    [413, {}, { kind: 'rejected', status: 413 }],
    [429, {}, { kind: 'retryable', status: 429, retryAfterSeconds: 2 }],
    [429, { 'retry-after': '60' }, { kind: 'retryable', status: 429, retryAfterSeconds: 3 }],
    [500, {}, { kind: 'retryable', status: 503, retryAfterSeconds: 1 }],
    [502, {}, { kind: 'retryable', status: 503, retryAfterSeconds: 1 }],
    [503, { 'retry-after': '2' }, { kind: 'retryable', status: 503, retryAfterSeconds: 2 }],
    [504, {}, { kind: 'retryable', status: 503, retryAfterSeconds: 1 }],
    [404, {}, { kind: 'retryable', status: 503 }],
    [408, {}, { kind: 'retryable', status: 503 }],
  ])('maps upstream %i %j', (status, headers, expected) => {
    expect(classifyUpstream(status, headers, new Uint8Array(), [])).toMatchObject(expected);
  });
});

describe('retryAfterSeconds', () => {
  it.each([
    [undefined, 1, 1],
    ['0', 1, 1],
    ['2', 1, 2],
    ['120', 1, 3],
    ['Wed, 21 Oct 2015 07:28:00 GMT', 2, 2],
    ['-5', 1, 1],
  ])('turns %s (fallback %i) into %i', (header, fallback, expected) => {
    expect(retryAfterSeconds(header, fallback)).toBe(expected);
  });
});

describe('upstreamReason', () => {
  it('reads a google.rpc.Status body', () => {
    const body = otlpType('RpcStatus').encode({ code: 3, message: 'table not found' }).finish();
    expect(upstreamReason(body, 'application/x-protobuf', [])).toBe('table not found');
  });

  it('reads a Databricks JSON error', () => {
    expect(upstreamReason(Buffer.from('{"error_code":"BAD_REQUEST","message":"schema mismatch"}'), 'application/json', [])).toBe('schema mismatch');
  });

  it('keeps text short and on one line', () => {
    const reason = upstreamReason(Buffer.from(`line1\nline2 ${'x'.repeat(1000)}`), 'text/plain', []);
    expect(reason.startsWith('line1 line2')).toBe(true);
    expect(reason.length).toBeLessThanOrEqual(303);
  });

  it('removes the token and header values the relay sent, whole, cut or split', () => {
    const token = 'dapi0123456789abcdef0123456789abcdef';
    const sent = [token, `Bearer ${token}`, 'main.agents.relay_otel_metrics'];
    const echo = `bad request: Authorization: Bearer ${token}; table main.agents.relay_otel_metrics; partial ${token.slice(3, 20)}`;
    const reason = upstreamReason(Buffer.from(JSON.stringify({ message: echo })), 'application/json', sent);
    expect(reason).toBe('bad request: Authorization: [redacted]; table [redacted]; partial [redacted]');
    expect(reason).not.toContain(token.slice(0, 8));
  });

  it('stays bounded for a long echo', () => {
    const token = 'x'.repeat(40);
    const reason = upstreamReason(Buffer.from(`${'y'.repeat(10_000)} ${token}`), 'text/plain', [token]);
    expect(reason.length).toBeLessThanOrEqual(303);
  });
});
