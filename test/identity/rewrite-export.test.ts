import { describe, expect, it } from 'vitest';
import { exportGuard } from '../../shared/identity/export-guard.js';
import type { Caller } from '../../shared/identity/relay-credentials.js';
import { rewriteExport } from '../../shared/identity/rewrite-export.js';
import { jsonCodec } from '../../shared/otlp/codec.js';
import { signalNamed, type SignalName } from '../../shared/otlp/signals.js';
import { validateWire } from '../../shared/otlp/wire.js';
import { DEFAULT_DENIED_LOG_ATTRIBUTES, DEFAULT_DENIED_RESOURCE_ATTRIBUTES } from '../../shared/settings.js';
import { ALICE } from '../credentials.js';
import { fixture, fixtures } from '../fixtures.js';

/** The guarded export joined back into one buffer, as the upstream receives it. */
function protected_(signal: SignalName, bytes: Uint8Array, who: Caller | undefined): Buffer {
  return Buffer.concat(guard.protect(signal, bytes, who));
}

const caller: Caller = { ...ALICE, agent: 'gemini-cli', credentialId: 'cred-1', expiresAt: 2_000_000_000 };
const guard = exportGuard({
  verifier: undefined,
  deniedResourceAttributes: new Set(DEFAULT_DENIED_RESOURCE_ATTRIBUTES.split(',')),
  deniedLogAttributes: new Set(DEFAULT_DENIED_LOG_ATTRIBUTES.split(',')),
});

function protobufOf(f: ReturnType<typeof fixture>): Uint8Array {
  const type = signalNamed(f.signal)!.request;
  return f.contentType === 'application/json' ? jsonCodec.toProtobuf(type, f.body) : f.body;
}

const RESOURCE_LIST = { metrics: 'resourceMetrics', logs: 'resourceLogs', traces: 'resourceSpans' } as const;
const SCOPE_LIST = { metrics: 'scopeMetrics', logs: 'scopeLogs', traces: 'scopeSpans' } as const;

function decoded(signal: SignalName, bytes: Uint8Array): any {
  return signalNamed(signal)!.request.toObject(signalNamed(signal)!.request.decode(bytes), { longs: String, bytes: String });
}

function resourceAttributes(entry: any): Record<string, unknown> {
  return Object.fromEntries((entry.resource?.attributes ?? []).map((a: any) => [a.key, a.value.stringValue ?? a.value]));
}

describe('exportGuard.protect', () => {
  it.each(fixtures().map((f) => [f.file, f] as const))('stamps the caller into every resource of %s and changes nothing else', (_name, f) => {
    const before = protobufOf(f);
    const after = protected_(f.signal, before, caller);
    validateWire(signalNamed(f.signal)!.request, after);
    const [b, a] = [decoded(f.signal, before), decoded(f.signal, after)];
    const list = RESOURCE_LIST[f.signal];
    expect(a[list]).toHaveLength(b[list].length);
    a[list].forEach((entry: any, i: number) => {
      const original = b[list][i];
      expect(resourceAttributes(entry)).toMatchObject({ 'user.id': ALICE.userId, 'user.email': ALICE.email, 'coding_agent.name': 'gemini-cli' });
      expect(resourceAttributes(entry)['process.command_args']).toBeUndefined();
      const kept = Object.keys(resourceAttributes(original)).filter((k) => !['process.command_args', 'process.command_line'].includes(k));
      for (const key of kept) expect(resourceAttributes(entry)[key]).toEqual(resourceAttributes(original)[key]);
      if (f.signal !== 'logs') expect(entry[SCOPE_LIST[f.signal]]).toEqual(original[SCOPE_LIST[f.signal]]);
      expect(entry.schemaUrl).toEqual(original.schemaUrl);
    });
  });

  it('leaves the Gemini CLI prompt nowhere in any signal', () => {
    for (const signal of ['metrics', 'logs', 'traces'] as const) {
      const f = fixture(`gemini-cli-0.61.0.${signal}.json`);
      expect(Buffer.from(protobufOf(f)).includes('say hi')).toBe(true);
      expect(Buffer.from(protected_(signal, protobufOf(f), caller)).includes('say hi')).toBe(false);
    }
  });

  it('removes prompt and response attributes from log records and keeps the rest', () => {
    const f = fixture('claude-code-2.1.197.logs.pb');
    const after = decoded('logs', protected_('logs', f.body, caller));
    const before = decoded('logs', f.body);
    const records = (d: any) => d.resourceLogs.flatMap((r: any) => r.scopeLogs).flatMap((s: any) => s.logRecords);
    const keys = (r: any) => r.attributes.map((a: any) => a.key);
    expect(records(before).flatMap(keys)).toEqual(expect.arrayContaining(['prompt', 'response']));
    expect(records(after).flatMap(keys)).not.toContain('prompt');
    expect(records(after).flatMap(keys)).not.toContain('response');
    records(after).forEach((r: any, i: number) => {
      expect(keys(r)).toEqual(keys(records(before)[i]).filter((k: string) => k !== 'prompt' && k !== 'response'));
      expect(r.body).toEqual(records(before)[i].body);
      expect(r.timeUnixNano).toEqual(records(before)[i].timeUnixNano);
    });
  });

  it('replaces identity attributes the client sent', () => {
    const logs = signalNamed('logs')!.request;
    const forged = logs.encode(
      logs.fromObject({ resourceLogs: [{ resource: { attributes: [{ key: 'user.email', value: { stringValue: 'mallory@evil.example' } }, { key: 'user.id', value: { stringValue: 'x' } }] } }] }),
    ).finish();
    const attributes = decoded('logs', protected_('logs', forged, caller)).resourceLogs[0].resource.attributes;
    expect(attributes.map((a: any) => [a.key, a.value.stringValue])).toEqual([
      ['user.id', ALICE.userId],
      ['user.email', ALICE.email],
      ['coding_agent.name', 'gemini-cli'],
    ]);
  });

  it('gives a resource to an entry that had none', () => {
    const traces = signalNamed('traces')!.request;
    const bare = traces.encode(traces.fromObject({ resourceSpans: [{ schemaUrl: 'https://example/schema' }] })).finish();
    const entry = decoded('traces', protected_('traces', bare, caller)).resourceSpans[0];
    expect(resourceAttributes(entry)).toMatchObject({ 'user.email': ALICE.email });
    expect(entry.schemaUrl).toBe('https://example/schema');
  });

  it('returns the very same bytes when there is nothing to do', () => {
    const f = fixture('codex-0.169.0.metrics.pb');
    const open = exportGuard({ verifier: undefined, deniedResourceAttributes: new Set(), deniedLogAttributes: new Set() });
    expect(open.protect('metrics', f.body, undefined)).toEqual([f.body]);
    const [only, ...rest] = rewriteExport('metrics', f.body, { dropResourceKeys: new Set(['not.there']), dropLogKeys: new Set() });
    expect(only).toBe(f.body);
    expect(rest).toEqual([]);
  });

  it('keeps unknown fields as they were', () => {
    const metrics = signalNamed('metrics')!.request;
    const withUnknown = Buffer.concat([metrics.encode({ resourceMetrics: [{}] }).finish(), Uint8Array.of(0x7a, 0x02, 0x01, 0x02)]);
    const after = protected_('metrics', withUnknown, caller);
    expect(after.subarray(after.length - 4)).toEqual(Buffer.from([0x7a, 0x02, 0x01, 0x02]));
  });
});
