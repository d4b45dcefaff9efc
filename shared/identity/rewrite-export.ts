import protobuf from 'protobufjs';
import type { SignalName } from '../otlp/signals.js';
import { lengthDelimitedHeader, readFields } from '../otlp/wire.js';

/*
 * Identity stamping and the privacy guard, done on the protobuf wire. Every export request is
 * `repeated Resource{Metrics,Logs,Spans} = 1`, each `Resource resource = 1; repeated Scope* = 2`, and
 * `Resource` is `repeated KeyValue attributes = 1` (KeyValue: `string key = 1`). Only the messages on
 * the path to a changed attribute are re-encoded; everything else (data points, spans, most log
 * records) is copied as opaque bytes, and an untouched export is returned as it came.
 */

export interface RewriteRules {
  /** Encoded `Resource.attributes` entries appended to every resource (the verified identity). */
  stamp?: Uint8Array;
  /** Resource attribute keys removed (the deny list, plus the stamped keys when stamping). */
  dropResourceKeys: ReadonlySet<string>;
  /** Log record attribute keys removed (prompt and response text). */
  dropLogKeys: ReadonlySet<string>;
}

/** How to rewrite one message: drop some KeyValue entries, append bytes, descend into some fields. */
interface MessageRule {
  keyValues?: { field: number; drop: ReadonlySet<string> };
  append?: Uint8Array;
  children?: Record<number, MessageRule>;
  /** A child to create when absent, so that its `append` still lands (a resource-less entry gets one). */
  createChild?: number;
}

/** The export's bytes as consecutive pieces: the request itself, untouched, when nothing changes. */
export function rewriteExport(signal: SignalName, bytes: Uint8Array, rules: RewriteRules): Uint8Array[] {
  const resource: MessageRule = { keyValues: { field: 1, drop: rules.dropResourceKeys }, append: rules.stamp };
  const entry: MessageRule = { children: { 1: resource }, createChild: rules.stamp ? 1 : undefined };
  if (signal === 'logs' && rules.dropLogKeys.size > 0) {
    // ResourceLogs.scope_logs (2) -> ScopeLogs.log_records (2) -> LogRecord.attributes (6)
    entry.children![2] = { children: { 2: { keyValues: { field: 6, drop: rules.dropLogKeys } } } };
  }
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return rewriteMessage(buf, 0, buf.length, { children: { 1: entry } }) ?? [bytes];
}

/** The message's new bytes as parts, or undefined when nothing in it changes. */
function rewriteMessage(buf: Buffer, start: number, end: number, rule: MessageRule): Uint8Array[] | undefined {
  const parts: Uint8Array[] = [];
  let changed = false;
  let sawCreated = false;
  for (const field of readFields(buf, start, end)) {
    const raw = buf.subarray(field.start, field.end);
    if (field.wireType !== 2) {
      parts.push(raw);
      continue;
    }
    if (rule.keyValues?.field === field.number && rule.keyValues.drop.has(keyOf(buf, field.valueStart, field.end))) {
      changed = true;
      continue;
    }
    const child = rule.children?.[field.number];
    if (field.number === rule.createChild) sawCreated = true;
    const rewritten = child && rewriteMessage(buf, field.valueStart, field.end, child);
    if (rewritten) {
      changed = true;
      parts.push(lengthDelimitedHeader(field.number, byteLength(rewritten)), ...rewritten);
    } else {
      parts.push(raw);
    }
  }
  if (rule.createChild !== undefined && !sawCreated) {
    const created = rule.children![rule.createChild]!.append!;
    parts.unshift(lengthDelimitedHeader(rule.createChild, created.length), created);
    changed = true;
  }
  if (rule.append) {
    parts.push(rule.append);
    changed = true;
  }
  return changed ? parts : undefined;
}

/** The `key` (field 1) of a KeyValue message. */
function keyOf(buf: Buffer, start: number, end: number): string {
  const reader = protobuf.Reader.create(buf);
  reader.pos = start;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 0x0a) {
      const length = reader.uint32();
      return buf.toString('utf8', reader.pos, reader.pos + length);
    }
    reader.skipType(tag & 7);
  }
  return '';
}

function byteLength(parts: Uint8Array[]): number {
  let n = 0;
  for (const part of parts) n += part.length;
  return n;
}
