import { describe, expect, it } from 'vitest';
import { jsonCodec, protobufCodec } from '../../shared/otlp/codec.js';
import { toOtlpJson } from '../../shared/otlp/otlp-json.js';
import { signalNamed } from '../../shared/otlp/signals.js';
import { fixtures } from '../fixtures.js';

/** Fields whose zero value is meaningful (oneof members, proto3 optional): never dropped when comparing. */
const PRESENCE_FIELDS = new Set(['stringValue', 'boolValue', 'intValue', 'doubleValue', 'bytesValue', 'asDouble', 'asInt', 'sum', 'min', 'max']);

/**
 * OTLP/JSON as a proto3 receiver must understand it: default values (0, "", false, []) and absent
 * fields mean the same, and 64-bit integers may be numbers or strings.
 */
function canonical(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => canonical(v, key));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const c = canonical(v, k);
      const isDefault = c === 0 || c === '0' || c === '' || c === false || (Array.isArray(c) && c.length === 0);
      if (c !== undefined && c !== null && (PRESENCE_FIELDS.has(k) || !isDefault)) out[k] = c;
    }
    return out;
  }
  if (typeof value === 'number' && Number.isInteger(value) && /(UnixNano|Count|Counts|count|intValue|asInt)$/.test(key)) return String(value);
  return value;
}

describe('OTLP/JSON transcoding', () => {
  const jsonFixtures = fixtures().filter((f) => f.contentType === 'application/json');
  const protobufFixtures = fixtures().filter((f) => f.contentType === 'application/x-protobuf');

  it.each(jsonFixtures.map((f) => [f.file, f] as const))('loses nothing from %s on the way to protobuf', (_name, f) => {
    const type = signalNamed(f.signal)!.request;
    const { protobuf } = jsonCodec.toProtobuf(type, f.body);
    const back = toOtlpJson(type, type.decode(protobuf));
    expect(canonical(back)).toEqual(canonical(JSON.parse(f.body.toString('utf8'))));
  });

  // Exporters write some default values explicitly, so bytes may differ; protobufjs's own converter,
  // independent of ours, must see the same message before and after.
  it.each(protobufFixtures.map((f) => [f.file, f] as const))('carries %s through OTLP/JSON unchanged', (_name, f) => {
    const type = signalNamed(f.signal)!.request;
    const json = JSON.stringify(toOtlpJson(type, type.decode(protobufCodec.toProtobuf(type, f.body).protobuf)));
    const again = jsonCodec.toProtobuf(type, Buffer.from(json)).protobuf;
    const view = (bytes: Uint8Array) => type.toObject(type.decode(bytes), { longs: String, bytes: String, enums: Number });
    expect(view(again)).toEqual(view(f.body));
  });

  it('keeps every payload non-trivial (guards against an empty round trip passing)', () => {
    for (const f of fixtures()) {
      const type = signalNamed(f.signal)!.request;
      const protobuf = f.contentType === 'application/json' ? jsonCodec.toProtobuf(type, f.body).protobuf : f.body;
      expect(protobuf.length, f.file).toBeGreaterThan(1000);
    }
  });
});
