import { describe, expect, it } from 'vitest';
import { exportGuard } from '../../shared/identity/export-guard.js';
import type { Caller } from '../../shared/identity/relay-credentials.js';
import { compileRewrite, rewriteExport } from '../../shared/identity/rewrite-export.js';
import { jsonCodec, protobufCodec, type ValidExport } from '../../shared/otlp/codec.js';
import { signalNamed, type SignalName } from '../../shared/otlp/signals.js';
import { validateWire } from '../../shared/otlp/wire.js';
import { DEFAULT_DENIED_LOG_ATTRIBUTES, DEFAULT_DENIED_RESOURCE_ATTRIBUTES } from '../../shared/settings.js';
import { ALICE } from '../credentials.js';
import { fixture, fixtures } from '../fixtures.js';

/** The guarded export joined back into one buffer, as the upstream receives it. */
function protected_(signal: SignalName, bytes: Uint8Array, who: Caller | undefined): Buffer {
  return Buffer.concat(guard.protect(signal, validated(signal, bytes), who));
}

/** The export as the pipeline hands it to the guard: validated, with what validation learned. */
function validated(signal: SignalName, bytes: Uint8Array): ValidExport {
  return protobufCodec.toProtobuf(signalNamed(signal)!.request, bytes, { watchedKeys: guard.watchedKeys });
}

const caller: Caller = { ...ALICE, agent: 'gemini-cli', credentialId: 'cred-1', expiresAt: 2_000_000_000 };
const guard = exportGuard({
  verifier: undefined,
  deniedResourceAttributes: new Set(DEFAULT_DENIED_RESOURCE_ATTRIBUTES.split(',')),
  deniedLogAttributes: new Set(DEFAULT_DENIED_LOG_ATTRIBUTES.split(',')),
});

function protobufOf(f: ReturnType<typeof fixture>): Uint8Array {
  const type = signalNamed(f.signal)!.request;
  return f.contentType === 'application/json' ? jsonCodec.toProtobuf(type, f.body).protobuf : f.body;
}

const RESOURCE_LIST = { metrics: 'resourceMetrics', logs: 'resourceLogs', traces: 'resourceSpans' } as const;
const SCOPE_LIST = { metrics: 'scopeMetrics', logs: 'scopeLogs', traces: 'scopeSpans' } as const;

function decoded(signal: SignalName, bytes: Uint8Array): any {
  return signalNamed(signal)!.request.toObject(signalNamed(signal)!.request.decode(bytes), { longs: String, bytes: String });
}

const isIdentityKey = (key: string) => key.startsWith('user.') || key.startsWith('enduser.');

/** A decoded value with the client's user.* and enduser.* attributes removed, as the guard removes them. */
function withoutClientIdentity(value: any): any {
  if (Array.isArray(value)) return value.map(withoutClientIdentity);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) =>
      ['attributes', 'filteredAttributes', 'metadata'].includes(key) ? [key, (v as any[]).filter((a) => !isIdentityKey(a.key)).map(withoutClientIdentity)] : [key, withoutClientIdentity(v)],
    ),
  );
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
      if (f.signal !== 'logs') expect(entry[SCOPE_LIST[f.signal]]).toEqual(withoutClientIdentity(original[SCOPE_LIST[f.signal]]));
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
      expect(keys(r)).toEqual(keys(records(before)[i]).filter((k: string) => k !== 'prompt' && k !== 'response' && !isIdentityKey(k)));
      expect(r.body).toEqual(records(before)[i].body);
      expect(r.timeUnixNano).toEqual(records(before)[i].timeUnixNano);
    });
  });

  it('replaces identity attributes the client sent', () => {
    const logs = signalNamed('logs')!.request;
    const forged = logs.encode(
      logs.fromObject({
        resourceLogs: [{ resource: { attributes: [{ key: 'user.email', value: { stringValue: 'mallory@evil.example' } }, { key: 'user.id', value: { stringValue: 'x' } }] }, scopeLogs: [{ logRecords: [{}] }] }],
      }),
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
    const bare = traces.encode(traces.fromObject({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 's' }] }], schemaUrl: 'https://example/schema' }] })).finish();
    const entry = decoded('traces', protected_('traces', bare, caller)).resourceSpans[0];
    expect(resourceAttributes(entry)).toMatchObject({ 'user.email': ALICE.email });
    expect(entry.schemaUrl).toBe('https://example/schema');
  });

  it('returns the very same bytes when there is nothing to do', () => {
    const f = fixture('codex-0.169.0.metrics.pb');
    const open = exportGuard({ verifier: undefined, deniedResourceAttributes: new Set(), deniedLogAttributes: new Set() });
    expect(open.protect('metrics', validated('metrics', f.body), undefined)).toEqual([f.body]);
    const none = { exact: new Set<string>(), prefixes: [] };
    const tree = compileRewrite({ resource: { exact: new Set(['not.there']), prefixes: [] }, logRecord: none, elsewhere: none, dropEmptyEntries: false }, false);
    const [only, ...rest] = rewriteExport(tree.metrics, f.body, undefined);
    expect(only).toBe(f.body);
    expect(rest).toEqual([]);
  });

  it('keeps unknown fields as they were', () => {
    const metrics = signalNamed('metrics')!.request;
    const withUnknown = Buffer.concat([metrics.encode(metrics.fromObject({ resourceMetrics: [{ scopeMetrics: [{}] }] })).finish(), Uint8Array.of(0x7a, 0x02, 0x01, 0x02)]);
    const after = protected_('metrics', withUnknown, caller);
    expect(after.subarray(after.length - 4)).toEqual(Buffer.from([0x7a, 0x02, 0x01, 0x02]));
  });

  it('leaves out entries that carry no data, so an empty entry costs nothing upstream', () => {
    const metrics = signalNamed('metrics')!.request;
    const mixed = metrics.encode(metrics.fromObject({ resourceMetrics: [{}, { scopeMetrics: [{ metrics: [{ name: 'm', gauge: { dataPoints: [{ asInt: 1 }] } }] }] }, { resource: {} }] })).finish();
    const after = decoded('metrics', protected_('metrics', mixed, caller));
    expect(after.resourceMetrics).toHaveLength(1);
    expect(after.resourceMetrics[0].scopeMetrics[0].metrics[0].name).toBe('m');
    const onlyEmpty = metrics.encode(metrics.fromObject({ resourceMetrics: Array.from({ length: 100 }, () => ({})) })).finish();
    expect(guard.protect('metrics', validated('metrics', onlyEmpty), caller)).toEqual([]);
  });
});

describe('exportGuard.protect and client-sent identity', () => {
  const claims = () => [
    { key: 'user.email', value: { stringValue: 'mallory@evil.example' } },
    { key: 'enduser.id', value: { stringValue: 'mallory' } },
    { key: 'user.roles', value: { stringValue: 'admin' } },
    { key: 'enduser.pseudo.id', value: { stringValue: 'x' } },
    { key: 'username', value: { stringValue: 'kept: not the user. namespace' } },
  ];
  const kept = ['username'];
  const scope = () => ({ name: 'scope', attributes: claims() });
  const point = () => ({ attributes: claims(), asInt: 1, exemplars: [{ filteredAttributes: claims(), asInt: 1 }] });

  const payloads = {
    metrics: {
      resourceMetrics: [
        {
          resource: { attributes: claims() },
          scopeMetrics: [
            {
              scope: scope(),
              metrics: [
                { name: 'g', metadata: claims(), gauge: { dataPoints: [point()] } },
                { name: 's', sum: { dataPoints: [point()] } },
                { name: 'h', histogram: { dataPoints: [{ attributes: claims(), count: 1, exemplars: [{ filteredAttributes: claims(), asDouble: 1 }] }] } },
                { name: 'e', exponentialHistogram: { dataPoints: [{ attributes: claims(), count: 1, exemplars: [{ filteredAttributes: claims(), asDouble: 1 }] }] } },
                { name: 'q', summary: { dataPoints: [{ attributes: claims(), count: 1 }] } },
              ],
            },
          ],
        },
      ],
    },
    logs: { resourceLogs: [{ resource: { attributes: claims() }, scopeLogs: [{ scope: scope(), logRecords: [{ attributes: claims(), body: { stringValue: 'b' } }] }] }] },
    traces: {
      resourceSpans: [
        {
          resource: { attributes: claims() },
          scopeSpans: [
            {
              scope: scope(),
              spans: [{ name: 'span', attributes: claims(), events: [{ name: 'ev', attributes: claims() }], links: [{ attributes: claims() }] }],
            },
          ],
        },
      ],
    },
  } as const;

  /** Every attribute list in a decoded export, with where it was found. */
  function attributeLists(value: any, path = ''): [string, any[]][] {
    if (Array.isArray(value)) return value.flatMap((v, i) => attributeLists(v, `${path}[${i}]`));
    if (typeof value !== 'object' || value === null) return [];
    return Object.entries(value).flatMap(([key, v]) =>
      ['attributes', 'filteredAttributes', 'metadata'].includes(key) ? [[`${path}.${key}`, v as any[]]] : attributeLists(v, `${path}.${key}`),
    );
  }

  it.each(['metrics', 'logs', 'traces'] as const)('removes user.* and enduser.* at every level of %s and stamps only the verified identity', (signal) => {
    const type = signalNamed(signal)!.request;
    const before = type.encode(type.fromObject(payloads[signal])).finish();
    const after = protected_(signal, before, caller);
    validateWire(type, after);
    expect(after.includes('mallory')).toBe(false);
    const lists = attributeLists(decoded(signal, after));
    expect(lists).toHaveLength(signal === 'metrics' ? 12 : signal === 'logs' ? 3 : 5);
    for (const [where, list] of lists) {
      const keys = list.map((a: any) => a.key);
      if (where.endsWith('resource.attributes')) {
        expect(keys, where).toEqual([...kept, 'user.id', 'user.email', 'coding_agent.name']);
        expect(list.find((a: any) => a.key === 'user.email').value.stringValue).toBe(ALICE.email);
      } else {
        expect(keys, where).toEqual(kept);
      }
    }
  });

  it.each(['metrics', 'logs'] as const)('applies the deny lists and the stamp to %s in which no key can be in an identity namespace', (signal) => {
    // No "user." anywhere in the body: the guard walks only resources and log records.
    const lookalikes = () => [
      { key: 'username', value: { stringValue: 'kept' } },
      { key: 'enduser', value: { stringValue: 'kept' } },
      { key: 'prompt', value: { stringValue: 'secret prompt' } },
    ];
    const resource = { attributes: [...lookalikes(), { key: 'process.command_args', value: { stringValue: 'secret args' } }] };
    const payload =
      signal === 'metrics'
        ? { resourceMetrics: [{ resource, scopeMetrics: [{ scope: { attributes: lookalikes() }, metrics: [{ name: 'm', sum: { dataPoints: [{ attributes: lookalikes(), asInt: 1 }] } }] }] }] }
        : { resourceLogs: [{ resource, scopeLogs: [{ scope: { attributes: lookalikes() }, logRecords: [{ attributes: lookalikes() }] }] }] };
    const type = signalNamed(signal)!.request;
    const before = type.encode(type.fromObject(payload)).finish();
    expect(Buffer.from(before).includes('user.')).toBe(false);
    const after = protected_(signal, before, caller);
    validateWire(type, after);
    expect(after.includes('secret args')).toBe(false);
    for (const [where, list] of attributeLists(decoded(signal, after))) {
      const keys = list.map((a: any) => a.key);
      if (where.endsWith('resource.attributes')) expect(keys, where).toEqual(['username', 'enduser', 'prompt', 'user.id', 'user.email', 'coding_agent.name']);
      else if (where.includes('logRecords')) expect(keys, where).toEqual(['username', 'enduser']);
      else expect(keys, where).toEqual(['username', 'enduser', 'prompt']);
    }
  });

  it('removes an identity key whose tag is padded (0x8a 0x00 is tag 10 to every parser)', () => {
    const ld = (tag: number, ...bytes: number[]) => [tag, bytes.length, ...bytes];
    const text = (value: string) => [...Buffer.from(value)];
    // ExportLogsServiceRequest { resource_logs { scope_logs { log_records { attributes { key: user.id (padded tag), value: "mallory" } } } } }
    const keyValue = [0x8a, 0x00, 7, ...text('user.id'), ...ld(0x12, ...ld(0x0a, ...text('mallory')))];
    const before = Uint8Array.from(ld(0x0a, ...ld(0x12, ...ld(0x12, ...ld(0x32, ...keyValue)))));
    const logs = signalNamed('logs')!.request;
    expect((logs.decode(before) as any).resourceLogs[0].scopeLogs[0].logRecords[0].attributes[0].key).toBe('user.id');
    const after = protected_('logs', before, caller);
    expect(after.includes('mallory')).toBe(false);
    expect(decoded('logs', after).resourceLogs[0].scopeLogs[0].logRecords[0].attributes ?? []).toEqual([]);
  });

  it('leaves user.* alone when there is no verified identity to protect (RELAY_AUTH=none)', () => {
    const type = signalNamed('logs')!.request;
    const before = type.encode(type.fromObject(payloads.logs)).finish();
    const open = exportGuard({ verifier: undefined, deniedResourceAttributes: new Set(), deniedLogAttributes: new Set() });
    expect(open.protect('logs', validated('logs', before), undefined)).toEqual([before]);
  });
});

describe('exportGuard.protect in place (room before the body, as the relay reads it)', () => {
  /** The bytes copied into a new buffer, `room` bytes into it (the room filled with a marker). */
  function withRoom(bytes: Uint8Array, room: number): Buffer {
    const buffer = Buffer.alloc(room + bytes.length, 0xee);
    buffer.set(bytes, room);
    return buffer.subarray(room);
  }

  it.each(fixtures().map((f) => [f.file, f] as const))('writes %s as one piece in its own buffer, byte for byte what the copying rewrite writes', (_name, f) => {
    const before = protobufOf(f);
    const expected = protected_(f.signal, before, caller);
    const input = withRoom(before, 1024);
    const parts = guard.protect(f.signal, validated(f.signal, input), caller, 1024);
    expect(parts).toHaveLength(1);
    expect(parts[0]!.buffer).toBe(input.buffer);
    expect(Buffer.from(parts[0]!)).toEqual(expected);
  });

  it('leaves the bulk of a large export where it is: only the head before it is rewritten', () => {
    const codex = fixture('codex-0.169.0.metrics.pb').body;
    const input = withRoom(codex, 1024);
    const [out] = guard.protect('metrics', validated('metrics', input), caller, 1024);
    expect(out!.byteOffset + out!.length).toBe(input.byteOffset + input.length);
    expect(out!.byteOffset).toBeLessThan(input.byteOffset);
    expect(Buffer.from(out!)).toEqual(protected_('metrics', codex, caller));
  });

  it('writes a new buffer, leaving the body alone, when the stamps need more room than there is', () => {
    const metrics = signalNamed('metrics')!.request;
    const entry = (i: number) => ({ resource: { attributes: [{ key: 'service.name', value: { stringValue: `s${i}` } }] }, scopeMetrics: [{ metrics: [{ name: 'm', gauge: { dataPoints: [{ asInt: i }] } }] }] });
    const before = metrics.encode(metrics.fromObject({ resourceMetrics: Array.from({ length: 20 }, (_, i) => entry(i)) })).finish();
    const input = withRoom(before, 64);
    const parts = guard.protect('metrics', validated('metrics', input), caller, 64);
    expect(parts.every((part) => part.buffer !== input.buffer)).toBe(true);
    expect(Buffer.from(input)).toEqual(Buffer.from(before));
    expect(Buffer.concat(parts)).toEqual(protected_('metrics', before, caller));
  });
});
