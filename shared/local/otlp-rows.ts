import { otlpType } from '../otlp/schema.js';
import type { SignalName } from '../otlp/signals.js';
import protobuf from 'protobufjs';

/*
 * Decoded OTLP requests flattened the way the Databricks v1 tables hold them: one row per data point,
 * log record or span; ids as lowercase hex; enums as their names; attribute maps string to string
 * (non-string values rendered as JSON text).
 */

export type Row = Record<string, unknown>;

/* Decoded protobufjs messages, typed only as far as this file reads them. */
type Long = { toString(): string };
type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function enumNames(type: string, name: string): Record<number, string> {
  const found = otlpType(type).lookupEnum(name) as protobuf.Enum;
  return found.valuesById;
}
const TEMPORALITY = enumNames('Sum', 'AggregationTemporality');
const SEVERITY = enumNames('LogRecord', 'SeverityNumber');
const SPAN_KIND = enumNames('Span', 'SpanKind');
const STATUS_CODE = enumNames('Status', 'StatusCode');

function nanos(value: Long | number | undefined): bigint | null {
  if (value === undefined || value === null) return null;
  return BigInt.asIntN(64, BigInt(value.toString()));
}

function hex(bytes: Uint8Array | undefined): string | null {
  return bytes && bytes.length > 0 ? Buffer.from(bytes).toString('hex') : null;
}

/** Plain JS view of an AnyValue, used to render arrays and maps as JSON text. */
function anyToPlain(value: Msg | undefined | null): unknown {
  if (!value) return null;
  switch (value.value as string | undefined) {
    case 'stringValue':
      return value.stringValue;
    case 'boolValue':
      return value.boolValue;
    case 'intValue':
      return value.intValue.toString();
    case 'doubleValue':
      return value.doubleValue;
    case 'bytesValue':
      return Buffer.from(value.bytesValue as Uint8Array).toString('base64');
    case 'arrayValue':
      return (value.arrayValue.values as Msg[]).map(anyToPlain);
    case 'kvlistValue':
      return Object.fromEntries((value.kvlistValue.values as Msg[]).map((kv) => [kv.key, anyToPlain(kv.value)]));
    default:
      return null;
  }
}

export function anyToString(value: Msg | undefined | null): string | null {
  const plain = anyToPlain(value);
  if (plain === null || typeof plain === 'string') return plain;
  if (typeof plain === 'number' || typeof plain === 'boolean') return String(plain);
  return JSON.stringify(plain);
}

/** MAP<STRING, STRING> entries; a repeated key keeps its last value (map keys must be unique). */
function attributes(list: Msg[] | undefined): { key: string; value: string | null }[] {
  const map = new Map<string, string | null>();
  for (const kv of list ?? []) map.set(kv.key, anyToString(kv.value));
  return [...map].map(([key, value]) => ({ key, value }));
}

function optional(message: Msg, field: string): unknown {
  return Object.hasOwn(message, field) ? message[field] : null;
}

function resourceOf(container: Msg) {
  const resource = container.resource as Msg | undefined;
  return {
    resource: { attributes: attributes(resource?.attributes), dropped_attributes_count: resource?.droppedAttributesCount ?? 0 },
    resource_schema_url: container.schemaUrl,
  };
}

function scopeOf(scope: Msg | undefined) {
  return {
    name: scope?.name ?? null,
    version: scope?.version ?? null,
    attributes: attributes(scope?.attributes),
    dropped_attributes_count: scope?.droppedAttributesCount ?? 0,
  };
}

function exemplars(list: Msg[]) {
  return list.map((e) => ({
    time_unix_nano: nanos(e.timeUnixNano),
    value: e.value === 'asInt' ? Number(e.asInt.toString()) : (e.asDouble ?? null),
    span_id: hex(e.spanId),
    trace_id: hex(e.traceId),
    filtered_attributes: attributes(e.filteredAttributes),
  }));
}

function times(p: Msg) {
  return { start_time_unix_nano: nanos(p.startTimeUnixNano), time_unix_nano: nanos(p.timeUnixNano) };
}

function numberPoint(p: Msg) {
  return {
    ...times(p),
    value: p.value === 'asInt' ? Number(p.asInt.toString()) : p.value === 'asDouble' ? p.asDouble : null,
    exemplars: exemplars(p.exemplars),
    attributes: attributes(p.attributes),
    flags: p.flags | 0,
  };
}

function metricPoints(metric: Msg): { kind: string; values: Row[] } {
  const kind = metric.data as string;
  const data = metric[kind] as Msg;
  const temporality = TEMPORALITY[data.aggregationTemporality as number] ?? null;
  switch (kind) {
    case 'gauge':
      return { kind, values: (data.dataPoints as Msg[]).map(numberPoint) };
    case 'sum':
      return {
        kind,
        values: (data.dataPoints as Msg[]).map((p) => ({ ...numberPoint(p), aggregation_temporality: temporality, is_monotonic: data.isMonotonic })),
      };
    case 'histogram':
      return {
        kind,
        values: (data.dataPoints as Msg[]).map((p) => ({
          ...times(p),
          count: nanos(p.count),
          sum: optional(p, 'sum'),
          bucket_counts: (p.bucketCounts as Long[]).map(nanos),
          explicit_bounds: p.explicitBounds,
          exemplars: exemplars(p.exemplars),
          attributes: attributes(p.attributes),
          flags: p.flags | 0,
          min: optional(p, 'min'),
          max: optional(p, 'max'),
          aggregation_temporality: temporality,
        })),
      };
    case 'exponentialHistogram': {
      const buckets = (b: Msg | undefined) => ({ offset: b?.offset ?? 0, bucket_counts: ((b?.bucketCounts ?? []) as Long[]).map(nanos) });
      return {
        kind: 'exponential_histogram',
        values: (data.dataPoints as Msg[]).map((p) => ({
          attributes: attributes(p.attributes),
          ...times(p),
          count: nanos(p.count),
          sum: optional(p, 'sum'),
          scale: p.scale,
          zero_count: nanos(p.zeroCount),
          positive_bucket: buckets(p.positive),
          negative_bucket: buckets(p.negative),
          flags: p.flags | 0,
          exemplars: exemplars(p.exemplars),
          min: optional(p, 'min'),
          max: optional(p, 'max'),
          zero_threshold: p.zeroThreshold,
          aggregation_temporality: temporality,
        })),
      };
    }
    case 'summary':
      return {
        kind,
        values: (data.dataPoints as Msg[]).map((p) => ({
          ...times(p),
          count: nanos(p.count),
          sum: p.sum,
          quantile_values: (p.quantileValues as Msg[]).map((q) => ({ quantile: q.quantile, value: q.value })),
          attributes: attributes(p.attributes),
          flags: p.flags | 0,
        })),
      };
    default:
      return { kind: 'unknown', values: [] }; // A metric without data has no data point to store.
  }
}

function metricRows(request: Msg): Row[] {
  const rows: Row[] = [];
  for (const rm of request.resourceMetrics as Msg[]) {
    const resource = resourceOf(rm);
    for (const sm of rm.scopeMetrics as Msg[]) {
      const scope = scopeOf(sm.scope);
      for (const metric of sm.metrics as Msg[]) {
        const { kind, values } = metricPoints(metric);
        for (const value of values) {
          rows.push({
            name: metric.name,
            description: metric.description,
            unit: metric.unit,
            metric_type: kind,
            gauge: null,
            sum: null,
            histogram: null,
            exponential_histogram: null,
            summary: null,
            [kind]: value,
            metadata: attributes(metric.metadata),
            ...resource,
            instrumentation_scope: scope,
            metric_schema_url: sm.schemaUrl,
          });
        }
      }
    }
  }
  return rows;
}

function logRows(request: Msg): Row[] {
  const rows: Row[] = [];
  for (const rl of request.resourceLogs as Msg[]) {
    const resource = resourceOf(rl);
    for (const sl of rl.scopeLogs as Msg[]) {
      const scope = scopeOf(sl.scope);
      for (const r of sl.logRecords as Msg[]) {
        rows.push({
          event_name: r.eventName,
          trace_id: hex(r.traceId),
          span_id: hex(r.spanId),
          time_unix_nano: nanos(r.timeUnixNano),
          observed_time_unix_nano: nanos(r.observedTimeUnixNano),
          severity_number: SEVERITY[r.severityNumber as number] ?? String(r.severityNumber),
          severity_text: r.severityText,
          body: anyToString(r.body),
          attributes: attributes(r.attributes),
          dropped_attributes_count: r.droppedAttributesCount,
          flags: r.flags | 0,
          ...resource,
          instrumentation_scope: scope,
          log_schema_url: sl.schemaUrl,
        });
      }
    }
  }
  return rows;
}

function spanRows(request: Msg): Row[] {
  const rows: Row[] = [];
  for (const rs of request.resourceSpans as Msg[]) {
    const resource = resourceOf(rs);
    for (const ss of rs.scopeSpans as Msg[]) {
      const scope = scopeOf(ss.scope);
      for (const s of ss.spans as Msg[]) {
        rows.push({
          trace_id: hex(s.traceId),
          span_id: hex(s.spanId),
          trace_state: s.traceState,
          parent_span_id: hex(s.parentSpanId),
          flags: s.flags | 0,
          name: s.name,
          kind: SPAN_KIND[s.kind as number] ?? String(s.kind),
          start_time_unix_nano: nanos(s.startTimeUnixNano),
          end_time_unix_nano: nanos(s.endTimeUnixNano),
          attributes: attributes(s.attributes),
          dropped_attributes_count: s.droppedAttributesCount,
          events: (s.events as Msg[]).map((e) => ({
            time_unix_nano: nanos(e.timeUnixNano),
            name: e.name,
            attributes: attributes(e.attributes),
            dropped_attributes_count: e.droppedAttributesCount,
          })),
          dropped_events_count: s.droppedEventsCount,
          links: (s.links as Msg[]).map((l) => ({
            trace_id: hex(l.traceId),
            span_id: hex(l.spanId),
            trace_state: l.traceState,
            attributes: attributes(l.attributes),
            dropped_attributes_count: l.droppedAttributesCount,
            flags: l.flags | 0,
          })),
          dropped_links_count: s.droppedLinksCount,
          status: { message: s.status?.message ?? '', code: STATUS_CODE[(s.status?.code as number) ?? 0] ?? null },
          ...resource,
          instrumentation_scope: scope,
          span_schema_url: ss.schemaUrl,
        });
      }
    }
  }
  return rows;
}

const ROWS_BY_SIGNAL: Record<SignalName, (request: Msg) => Row[]> = { metrics: metricRows, logs: logRows, traces: spanRows };

/** Rows for the signal's v1 table from a decoded Export*ServiceRequest. */
export function otlpRows(signal: SignalName, request: object): Row[] {
  return ROWS_BY_SIGNAL[signal](request as Msg);
}
