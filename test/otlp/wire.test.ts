import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { otlpType } from '../../shared/otlp/schema.js';
import { signalNamed } from '../../shared/otlp/signals.js';
import { jsonCodec } from '../../shared/otlp/codec.js';
import { validateWire, WireFormatError } from '../../shared/otlp/wire.js';
import { fixtures } from '../fixtures.js';

const logs = signalNamed('logs')!;

function protobufOf(f: ReturnType<typeof fixtures>[number]): Uint8Array {
  const type = signalNamed(f.signal)!.request;
  return f.contentType === 'application/json' ? jsonCodec.toProtobuf(type, f.body) : f.body;
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
    expect(() => validateWire(logs.request, entries, 1000)).toThrow('export holds more than 1000 resourceLogs entries');
  });
});
