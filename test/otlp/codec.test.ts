import { describe, expect, it } from 'vitest';
import { codecFor, encodeStatus, ExportTooLargeError, jsonCodec, OtlpDecodeError, protobufCodec } from '../../shared/otlp/codec.js';
import { otlpType } from '../../shared/otlp/schema.js';
import { signalNamed } from '../../shared/otlp/signals.js';

const traces = signalNamed('traces')!;
const metrics = signalNamed('metrics')!;
const logs = signalNamed('logs')!;

function spanJson(span: Record<string, unknown>) {
  return Buffer.from(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] }));
}

function decodedSpan(protobuf: Uint8Array): Record<string, any> {
  return (traces.request.decode(protobuf) as any).resourceSpans[0].scopeSpans[0].spans[0];
}

describe('codecFor', () => {
  it.each([
    ['application/x-protobuf', protobufCodec],
    ['application/protobuf', protobufCodec],
    ['application/json', jsonCodec],
    ['application/json; charset=utf-8', jsonCodec],
    ['Application/JSON', jsonCodec],
    ['text/plain', undefined],
    ['application/grpc', undefined],
    [undefined, undefined],
  ])('maps %s', (contentType, codec) => {
    expect(codecFor(contentType)).toBe(codec);
  });
});

describe('jsonCodec.toProtobuf', () => {
  it('reads hex trace and span ids', () => {
    const span = decodedSpan(
      jsonCodec.toProtobuf(traces.request, spanJson({ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', parentSpanId: '' })).protobuf,
    );
    expect(Buffer.from(span.traceId).toString('hex')).toBe('5b8efff798038103d269b633813fc60c');
    expect(Buffer.from(span.spanId).toString('hex')).toBe('eee19b7ec3c1b174');
  });

  it('keeps 64-bit integers exact beyond 2^53', () => {
    const span = decodedSpan(jsonCodec.toProtobuf(traces.request, spanJson({ startTimeUnixNano: '1795345463366000001', endTimeUnixNano: 1795345463 })).protobuf);
    expect(span.startTimeUnixNano.toString()).toBe('1795345463366000001');
    expect(span.endTimeUnixNano.toString()).toBe('1795345463');
  });

  it('accepts enums as integers and as names, and snake_case keys', () => {
    const span = decodedSpan(jsonCodec.toProtobuf(traces.request, spanJson({ kind: 'SPAN_KIND_CLIENT', status: { code: 2 }, trace_state: 'a=b' })).protobuf);
    expect(span.kind).toBe(3);
    expect(span.status.code).toBe(2);
    expect(span.traceState).toBe('a=b');
  });

  it('carries arrays, kvlists, bytes and doubles in attribute values', () => {
    const value = {
      kvlistValue: { values: [{ key: 'k', value: { arrayValue: { values: [{ intValue: '-9007199254740993' }, { doubleValue: 'NaN' }, { bytesValue: 'AQI=' }] } } }] },
    };
    const { protobuf } = jsonCodec.toProtobuf(logs.request, Buffer.from(JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'x', value }] } }] })));
    const attr = (logs.request.decode(protobuf) as any).resourceLogs[0].resource.attributes[0].value;
    const items = attr.kvlistValue.values[0].value.arrayValue.values;
    expect(items[0].intValue.toString()).toBe('-9007199254740993');
    expect(Number.isNaN(items[1].doubleValue)).toBe(true);
    expect([...items[2].bytesValue]).toEqual([1, 2]);
  });

  it('ignores unknown fields', () => {
    const { protobuf } = jsonCodec.toProtobuf(metrics.request, Buffer.from('{"resourceMetrics":[],"somethingNew":{"a":1}}'));
    expect(protobuf.length).toBe(0);
  });

  it.each([
    ['not JSON', 'resourceMetrics', /invalid JSON/],
    ['a JSON array', '[]', /body: expected a JSON object/],
    ['a wrong container type', '{"resourceMetrics":{}}', /resourceMetrics: expected an array/],
    ['a wrong nested type', '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":5}]}]}]}', /resourceMetrics\[0\]\.scopeMetrics\[0\]\.metrics\[0\]\.name: expected a string/],
    ['a non-integer int64', '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"dataPoints":[{"timeUnixNano":"12ab"}]}}]}]}]}', /timeUnixNano: expected an unsigned 64-bit integer/],
    ['a negative fixed64', '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"dataPoints":[{"timeUnixNano":"-1"}]}}]}]}]}', /unsigned 64-bit/],
    ['an unknown enum name', '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"aggregationTemporality":"SOMETIMES"}}]}]}]}', /aggregationTemporality: expected an integer or a name of AggregationTemporality/],
  ])('refuses %s with a reason', (_case, body, message) => {
    expect(() => jsonCodec.toProtobuf(metrics.request, Buffer.from(body))).toThrow(message);
  });

  it('refuses ids that are not hex', () => {
    expect(() => jsonCodec.toProtobuf(traces.request, spanJson({ traceId: 'W46/95gDgQPSabYzgT/GDA==' }))).toThrow(/traceId: expected a hex string/);
  });

  it('refuses invalid UTF-8', () => {
    expect(() => jsonCodec.toProtobuf(metrics.request, Buffer.from([0x7b, 0xff, 0x7d]))).toThrow(OtlpDecodeError);
  });
});

describe('jsonCodec.toProtobuf bounds', () => {
  const logs = signalNamed('logs')!.request;

  it.each([100, 50_000])('refuses attribute values nested %i levels deep as a bad body, not a crash', (depth) => {
    const value = `${'{"kvlistValue":{"values":[{"key":"k","value":'.repeat(depth)}{"stringValue":"x"}${'}]}}'.repeat(depth)}`;
    const json = Buffer.from(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":${value}}]}]}]}`);
    expect(() => jsonCodec.toProtobuf(logs, json)).toThrow(OtlpDecodeError);
    expect(() => jsonCodec.toProtobuf(logs, json)).toThrow(/nested deeper than 64 levels$/);
  });

  it('refuses more top-level entries than allowed before converting any', () => {
    const json = Buffer.from(`{"resource_logs":[${Array.from({ length: 11 }, () => '{}').join(',')}]}`);
    expect(() => jsonCodec.toProtobuf(logs, json, { maxEntries: 10 })).toThrow(ExportTooLargeError);
    expect(jsonCodec.toProtobuf(logs, json, { maxEntries: 11 }).protobuf.length).toBe(22);
  });
});

describe('protobufCodec.toProtobuf', () => {
  it('refuses bytes that are not the message', () => {
    expect(() => protobufCodec.toProtobuf(metrics.request, Buffer.from('this is not protobuf at all'))).toThrow(/invalid protobuf ExportMetricsServiceRequest/);
  });
});

describe('encodeStatus', () => {
  it('writes google.rpc.Status in either encoding', () => {
    expect(JSON.parse(Buffer.from(encodeStatus(jsonCodec, 400, 'bad')).toString())).toEqual({ code: 3, message: 'bad' });
    expect(otlpType('RpcStatus').toObject(otlpType('RpcStatus').decode(encodeStatus(protobufCodec, 503, 'later')))).toEqual({ code: 14, message: 'later' });
  });
});

describe('responses', () => {
  it('re-encodes partial_success for JSON clients with int64 as a string', () => {
    const response = metrics.response.decode(
      protobufCodec.encode(metrics.response, { partialSuccess: { rejectedDataPoints: 3, errorMessage: 'dropped 3' } }),
    );
    expect(JSON.parse(Buffer.from(jsonCodec.encode(metrics.response, response)).toString())).toEqual({
      partialSuccess: { rejectedDataPoints: '3', errorMessage: 'dropped 3' },
    });
  });
});
