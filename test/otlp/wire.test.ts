import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { otlpType } from '../../shared/otlp/schema.js';
import { signalNamed } from '../../shared/otlp/signals.js';
import { jsonCodec } from '../../shared/otlp/codec.js';
import { KeySet } from '../../shared/otlp/key-set.js';
import { validateWire, WireFormatError } from '../../shared/otlp/wire.js';
import { fixtures } from '../fixtures.js';

const logs = signalNamed('logs')!;

function protobufOf(f: ReturnType<typeof fixtures>[number]): Uint8Array {
  const type = signalNamed(f.signal)!.request;
  return f.contentType === 'application/json' ? jsonCodec.toProtobuf(type, f.body).protobuf : f.body;
}

describe('validateWire', () => {
  it.each(fixtures().map((f) => [f.file, f] as const))('accepts %s', (_name, f) => {
    expect(() => validateWire(signalNamed(f.signal)!.request, protobufOf(f))).not.toThrow();
  });

  it.each(fixtures().map((f) => [f.file, f] as const))('refuses %s cut short by one byte', (_name, f) => {
    const bytes = protobufOf(f);
    expect(() => validateWire(signalNamed(f.signal)!.request, bytes.subarray(0, bytes.length - 1))).toThrow(WireFormatError);
  });

  it('refuses a field with the wrong wire type', () => {
    // ExportLogsServiceRequest.resource_logs (1) sent as a varint.
    expect(() => validateWire(logs.request, Uint8Array.of(0x08, 0x01))).toThrow('ExportLogsServiceRequest.resourceLogs has wire type 0, expected 2 (offset 0)');
  });

  it('refuses strings that are not UTF-8', () => {
    const bytes = logs.request.encode({ resourceLogs: [{ schemaUrl: 'ab' }] }).finish();
    const bad = Buffer.from(bytes);
    bad[bad.length - 1] = 0xff;
    expect(() => validateWire(logs.request, bad)).toThrow(/schemaUrl is not UTF-8/);
  });

  it.each([1, 7, 8, 13, 30])('finds a byte that is not UTF-8 anywhere in a string (at %i of 31) and accepts real UTF-8', (at) => {
    const bytes = logs.request.encode({ resourceLogs: [{ schemaUrl: 'a'.repeat(31) }] }).finish();
    const start = bytes.length - 31;
    const bad = Buffer.from(bytes);
    bad[start + at] = 0xc0;
    expect(() => validateWire(logs.request, bad)).toThrow(/schemaUrl is not UTF-8/);
    const accented = logs.request.encode({ resourceLogs: [{ schemaUrl: `${'é'.repeat(at)}—${'x'.repeat(30 - at)}` }] }).finish();
    expect(() => validateWire(logs.request, accented)).not.toThrow();
  });

  it('skips unknown fields', () => {
    const bytes = Buffer.concat([logs.request.encode({ resourceLogs: [{}] }).finish(), Uint8Array.of(0x7a, 0x02, 0x01, 0x02)]); // field 15, bytes
    expect(() => validateWire(logs.request, bytes)).not.toThrow();
  });

  it('stops at a nesting depth limit instead of overflowing the stack', () => {
    // AnyValue { array_value (5): ArrayValue { values (1): AnyValue { ... } } }, 200 levels, built by hand.
    const field = (tag: number, body: Uint8Array) => Buffer.concat([protobuf.Writer.create().uint32(tag).uint32(body.length).finish(), body]);
    let bytes: Uint8Array = field(0x0a, Buffer.from('x'));
    for (let i = 0; i < 200; i++) bytes = field(0x2a, field(0x0a, bytes));
    expect(() => validateWire(otlpType('AnyValue'), bytes)).toThrow(/nested deeper than 64 levels/);
  });

  /** A length-delimited field: tag byte, length, bytes. */
  const ld = (tag: number, ...bytes: number[]) => [tag, bytes.length, ...bytes];
  const text = (value: string) => [...Buffer.from(value)];
  /** ExportLogsServiceRequest { resource_logs { resource { attributes { <keyValue> } } } } */
  const inResource = (...keyValue: number[]) => ld(0x0a, ...ld(0x0a, ...ld(0x0a, ...keyValue)));

  it.each([
    ['KeyValue.key', 'a harmless key, then user.email', inResource(...ld(0x0a, ...text('service.name')), ...ld(0x0a, ...text('user.email')))],
    ['ResourceLogs.resource', 'two resources in one entry', ld(0x0a, ...ld(0x0a), ...ld(0x0a))],
    ['AnyValue oneof', 'a string value, then an int value', inResource(...ld(0x0a, ...text('k')), ...ld(0x12, ...ld(0x0a, ...text('v')), 0x18, 0x01))],
  ])('refuses a single field that appears twice (%s: %s): parsers keep the last, the guard must read the same', (_field, _case, bytes) => {
    expect(() => validateWire(logs.request, Uint8Array.from(bytes))).toThrow(/appears more than once/);
  });

  it('stops counting entries past the cap before walking the rest', () => {
    const entries = Buffer.alloc(2_000_000, Buffer.from([0x0a, 0x00]));
    expect(() => validateWire(logs.request, entries, { maxEntries: 1000 })).toThrow('export holds more than 1000 resourceLogs entries');
  });

  /** Records in a decoded export, counted the slow way. */
  function decodedRecords(signal: 'metrics' | 'logs' | 'traces', bytes: Uint8Array): number {
    const message = signalNamed(signal)!.request.toObject(signalNamed(signal)!.request.decode(bytes)) as any;
    const entries = message.resourceMetrics ?? message.resourceLogs ?? message.resourceSpans ?? [];
    let records = 0;
    for (const entry of entries) {
      for (const scope of entry.scopeMetrics ?? entry.scopeLogs ?? entry.scopeSpans ?? []) {
        records += (scope.logRecords ?? scope.spans ?? []).length;
        for (const metric of scope.metrics ?? []) {
          const data = metric.gauge ?? metric.sum ?? metric.histogram ?? metric.exponentialHistogram ?? metric.summary;
          records += data?.dataPoints?.length ?? 0;
        }
      }
    }
    return records;
  }

  it.each(fixtures().map((f) => [f.file, f] as const))('counts the records of %s on the way', (_name, f) => {
    const bytes = protobufOf(f);
    const { records } = validateWire(signalNamed(f.signal)!.request, bytes);
    expect(records).toBe(decodedRecords(f.signal, bytes));
    expect(records).toBeGreaterThan(0);
  });

  it('tells whether any attribute key, at any level, is a watched key', () => {
    const watchedKeys = new KeySet([], ['user.', 'enduser.']);
    const point = (key: string) => ({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'm', sum: { dataPoints: [{ asInt: 1, attributes: [{ key, value: { stringValue: 'user.x' } }] }] } }] }] }] });
    const metrics = signalNamed('metrics')!.request;
    const facts = (key: string) => validateWire(metrics, metrics.encode(metrics.fromObject(point(key))).finish(), { watchedKeys });
    expect(facts('enduser.id')).toEqual({ records: 1, watchedKey: true });
    expect(facts('user.email').watchedKey).toBe(true);
    // A value or a metric name that looks like one is not a key.
    expect(facts('username').watchedKey).toBe(false);
    expect(facts('user').watchedKey).toBe(false);
    // A key whose tag is padded (0x8a 0x00 is tag 10 as well) is still read as the key.
    const padded = Uint8Array.from(inResource(0x8a, 0x00, 7, ...text('user.id')));
    expect(validateWire(logs.request, padded, { watchedKeys }).watchedKey).toBe(true);
  });
});
