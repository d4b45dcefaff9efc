import type { SignalName } from './signals.js';

/*
 * Records in an export (data points, log records, spans), counted on the wire for the relay's own
 * metrics: only tags and lengths on the path down to the records are read, nothing is decoded or
 * allocated. The bytes must already have passed validation (codec.toProtobuf).
 */

/** Field numbers, level by level, from the request down to the records (opentelemetry-proto). */
const PATHS: Record<SignalName, readonly (readonly number[])[]> = {
  // resource_metrics -> scope_metrics -> metrics -> gauge|sum|histogram|exponential_histogram|summary -> data_points
  metrics: [[1], [2], [2], [5, 7, 9, 10, 11], [1]],
  // resource_logs -> scope_logs -> log_records
  logs: [[1], [2], [2]],
  // resource_spans -> scope_spans -> spans
  traces: [[1], [2], [2]],
};

export function countRecords(signal: SignalName, protobuf: Uint8Array): number {
  return count(protobuf, 0, protobuf.length, PATHS[signal], 0);
}

function count(buf: Uint8Array, start: number, end: number, path: readonly (readonly number[])[], level: number): number {
  const wanted = path[level]!;
  const last = level === path.length - 1;
  let records = 0;
  let pos = start;
  while (pos < end) {
    // OTLP field numbers are small: a tag is one byte, rarely two. Varints past 28 bits do not occur in
    // tags or in lengths of bodies under the size limit.
    let tag = buf[pos++]!;
    if (tag & 0x80) tag = (tag & 0x7f) | (buf[pos++]! << 7);
    const wireType = tag & 7;
    if (wireType === 2) {
      let length = 0;
      let shift = 0;
      let byte: number;
      do {
        byte = buf[pos++]!;
        length |= (byte & 0x7f) << shift;
        shift += 7;
      } while (byte & 0x80);
      if (wanted.includes(tag >>> 3)) records += last ? 1 : count(buf, pos, pos + length, path, level + 1);
      pos += length;
    } else if (wireType === 0) {
      while (buf[pos++]! & 0x80);
    } else if (wireType === 1) {
      pos += 8;
    } else if (wireType === 5) {
      pos += 4;
    } else {
      break; // a group (deprecated, never used by OTLP) in an unknown field: the count stops here
    }
  }
  return records;
}
