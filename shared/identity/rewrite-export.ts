import type { SignalName } from '../otlp/signals.js';
import { lengthDelimitedHeader } from '../otlp/wire.js';

/*
 * Identity stamping and the privacy guard, done on the protobuf wire (the bytes have passed
 * validateWire: well formed, no group, no single field twice). Field map, from opentelemetry-proto v1:
 *   Export*ServiceRequest: 1 Resource{Metrics,Logs,Spans} (repeated, "entries")
 *   Resource*: 1 Resource, 2 Scope{Metrics,Logs,Spans} (repeated)
 *   Resource: 1 attributes          InstrumentationScope: 3 attributes
 *   Scope*: 1 InstrumentationScope, 2 Metric / LogRecord / Span (repeated)
 *   Metric: 12 metadata; 5 Gauge, 7 Sum, 9 Histogram, 10 ExponentialHistogram, 11 Summary (each 1 data points)
 *   NumberDataPoint: 7 attributes, 5 exemplars   HistogramDataPoint: 9 attributes, 8 exemplars
 *   ExponentialHistogramDataPoint: 1 attributes, 11 exemplars   SummaryDataPoint: 7 attributes
 *   Exemplar: 7 filtered_attributes   LogRecord: 6 attributes
 *   Span: 9 attributes, 11 events (Event: 3 attributes), 13 links (Link: 4 attributes)
 *   KeyValue: 1 key
 * Only messages on the path to a change are re-encoded; everything between changes is passed on as
 * slices of the request, and an untouched export is returned as it came.
 */

/** Which attribute keys to remove: exact keys and key prefixes (namespaces such as `user.`). */
export interface KeyRule {
  exact: ReadonlySet<string>;
  prefixes: readonly string[];
}

export interface RewriteRules {
  /** Resource attribute keys removed (the deny list; when stamping also the stamped keys and identity namespaces). */
  resource: KeyRule;
  /** Log record attribute keys removed (prompt and response text; when stamping also identity namespaces). */
  logRecord: KeyRule;
  /** Keys removed at every other level: scope, data point, exemplar, metric metadata, span, event, link. */
  elsewhere: KeyRule;
  /**
   * Whether entries that carry no scope (no data) are left out: when the stamp is added to every
   * entry, an empty one would otherwise cost a stamped resource upstream.
   */
  dropEmptyEntries: boolean;
}

/** Matches KeyValue keys on the wire, without decoding them to strings. */
class KeyMatcher {
  private readonly exact: Buffer[];
  private readonly prefixes: Buffer[];
  /** First bytes any removed key can start with: most keys are let through on their first byte. */
  private readonly firstBytes = new Uint8Array(256);

  constructor(rule: KeyRule) {
    this.exact = [...rule.exact].map((key) => Buffer.from(key));
    this.prefixes = rule.prefixes.map((prefix) => Buffer.from(prefix));
    for (const key of [...this.exact, ...this.prefixes]) this.firstBytes[key.length === 0 ? 0 : key[0]!] = 1;
  }

  get empty(): boolean {
    return this.exact.length === 0 && this.prefixes.length === 0;
  }

  /** Whether the KeyValue between `start` and `end` has a key to remove. */
  matches(buf: Buffer, start: number, end: number): boolean {
    let pos = start;
    // The key is field 1 (tag 0x0a), almost always first; a KeyValue without one has key "".
    while (pos < end && buf[pos] !== 0x0a) {
      const tag = varint(buf, pos);
      pos = skipValue(buf, varintEnd, tag % 8);
    }
    if (pos >= end) return this.test(buf, 0, 0);
    const length = varint(buf, pos + 1);
    return this.test(buf, varintEnd, varintEnd + length);
  }

  private test(buf: Buffer, start: number, end: number): boolean {
    const length = end - start;
    if (this.firstBytes[length === 0 ? 0 : buf[start]!] === 0) return false;
    for (const prefix of this.prefixes) if (length >= prefix.length && same(buf, start, prefix)) return true;
    for (const key of this.exact) if (length === key.length && same(buf, start, key)) return true;
    return false;
  }
}

function same(buf: Buffer, start: number, expected: Buffer): boolean {
  for (let i = 0; i < expected.length; i++) if (buf[start + i] !== expected[i]) return false;
  return true;
}

/** Where the last varint read ended (read at once by the caller: no pair allocated per varint). */
let varintEnd = 0;

/** A varint's value (tags and lengths here fit 2^53: bodies are far below that), its end in `varintEnd`. */
function varint(buf: Buffer, pos: number): number {
  let byte = buf[pos++]!;
  if (byte < 0x80) {
    varintEnd = pos;
    return byte;
  }
  let value = byte & 0x7f;
  let scale = 128;
  do {
    byte = buf[pos++]!;
    value += (byte & 0x7f) * scale;
    scale *= 128;
  } while (byte >= 0x80);
  varintEnd = pos;
  return value;
}

/** Where a field whose tag has been read (its value starting at `pos`) ends. */
function skipValue(buf: Buffer, pos: number, wireType: number): number {
  switch (wireType) {
    case 0:
      varint(buf, pos);
      return varintEnd;
    case 1:
      return pos + 8;
    case 5:
      return pos + 4;
    default: {
      const length = varint(buf, pos);
      return varintEnd + length;
    }
  }
}

/** What to do with each length-delimited field of a message, by field number. */
interface MessageRule {
  attributes: (KeyMatcher | undefined)[];
  children: (MessageRule | undefined)[];
  /** Append the stamp (the Resource). */
  appendStamp?: boolean;
  /** Create this child when absent so that its stamp still lands (a resource-less entry gets one). */
  createChild?: number;
  /** Leave the message out when it has no field of this number (an entry without scopes). */
  requireField?: number;
  /** Nothing in an empty message of this kind can change (the common case): no need to look. */
  emptyStaysSame: boolean;
}

function rule(parts: { attributes?: Record<number, KeyMatcher>; children?: Record<number, MessageRule> } & Omit<MessageRule, 'attributes' | 'children' | 'emptyStaysSame'>): MessageRule {
  const attributes: (KeyMatcher | undefined)[] = [];
  const children: (MessageRule | undefined)[] = [];
  for (const [n, m] of Object.entries(parts.attributes ?? {})) if (!m.empty) attributes[Number(n)] = m;
  for (const [n, r] of Object.entries(parts.children ?? {})) if (r.attributes.length > 0 || r.children.length > 0 || r.appendStamp || r.createChild !== undefined || r.requireField !== undefined) children[Number(n)] = r;
  const emptyStaysSame = !parts.appendStamp && parts.createChild === undefined && parts.requireField === undefined;
  return { ...parts, attributes, children, emptyStaysSame };
}

/** The rule trees of the three signals, built once per set of rules. */
export function compileRewrite(rules: RewriteRules, stamping: boolean): Record<SignalName, MessageRule> {
  const resourceKeys = new KeyMatcher(rules.resource);
  const logKeys = new KeyMatcher(rules.logRecord);
  const other = new KeyMatcher(rules.elsewhere);
  const scope = rule({ attributes: { 3: other } });
  const resource = rule({ attributes: { 1: resourceKeys }, appendStamp: stamping });
  const exemplar = rule({ attributes: { 7: other } });
  const points = (attributes: number, exemplars?: number) =>
    rule({ children: { 1: rule({ attributes: { [attributes]: other }, children: exemplars ? { [exemplars]: exemplar } : {} }) } });
  const metric = rule({
    attributes: { 12: other },
    children: { 5: points(7, 5), 7: points(7, 5), 9: points(9, 8), 10: points(1, 11), 11: points(7) },
  });
  const logRecord = rule({ attributes: { 6: logKeys } });
  const span = rule({ attributes: { 9: other }, children: { 11: rule({ attributes: { 3: other } }), 13: rule({ attributes: { 4: other } }) } });
  const request = (item: MessageRule) =>
    rule({
      children: {
        1: rule({
          children: { 1: resource, 2: rule({ children: { 1: scope, 2: item } }) },
          createChild: stamping ? 1 : undefined,
          requireField: rules.dropEmptyEntries ? 2 : undefined,
        }),
      },
    });
  return { metrics: request(metric), logs: request(logRecord), traces: request(span) };
}

/** A message left out entirely. */
const DROPPED: Uint8Array[] = [];

/**
 * The export's bytes as consecutive pieces: the request itself, untouched, when nothing changes; no
 * pieces at all when every entry was left out.
 */
export function rewriteExport(tree: MessageRule, bytes: Uint8Array, stamp: Uint8Array | undefined): Uint8Array[] {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts = rewriteMessage(buf, 0, buf.length, tree, stamp);
  return parts === undefined ? [bytes] : parts;
}

/** The message's new bytes as parts, DROPPED, or undefined when nothing in it changes. */
function rewriteMessage(buf: Buffer, start: number, end: number, rule: MessageRule, stamp: Uint8Array | undefined): Uint8Array[] | undefined {
  let parts: Uint8Array[] | undefined;
  let copyFrom = start;
  let sawCreated = false;
  let sawRequired = false;
  let pos = start;
  while (pos < end) {
    const fieldStart = pos;
    const tag = varint(buf, pos);
    const wireType = tag % 8;
    if (wireType !== 2) {
      pos = skipValue(buf, varintEnd, wireType);
      continue;
    }
    const number = Math.floor(tag / 8);
    const length = varint(buf, varintEnd);
    const valueStart = varintEnd;
    pos = valueStart + length;
    if (number === rule.requireField) sawRequired = true;
    if (number === rule.createChild) sawCreated = true;
    // Bounds checked first: reading past an array's end takes V8's slow path.
    const keys = number < rule.attributes.length ? rule.attributes[number] : undefined;
    const child = number < rule.children.length ? rule.children[number] : undefined;
    let rewritten: Uint8Array[] | undefined;
    if (keys !== undefined) {
      if (!keys.matches(buf, valueStart, pos)) continue;
      rewritten = DROPPED;
    } else if (child !== undefined) {
      if (length === 0 && child.emptyStaysSame) continue;
      // An empty message lacks any required field: left out without a call (millions of empty entries).
      rewritten = length === 0 && child.requireField !== undefined ? DROPPED : rewriteMessage(buf, valueStart, pos, child, stamp);
      if (rewritten === undefined) continue;
    } else {
      continue;
    }
    parts ??= [];
    if (fieldStart > copyFrom) parts.push(buf.subarray(copyFrom, fieldStart));
    copyFrom = pos;
    if (rewritten !== DROPPED) parts.push(lengthDelimitedHeader(number, byteLength(rewritten)), ...rewritten);
  }
  if (rule.requireField !== undefined && !sawRequired) return DROPPED;
  if (rule.createChild !== undefined && !sawCreated && stamp) {
    parts ??= [];
    // Before everything else: where an encoder puts field 1.
    parts.unshift(lengthDelimitedHeader(rule.createChild, stamp.length), stamp);
  }
  if (rule.appendStamp && stamp) parts ??= [];
  if (parts === undefined) return undefined;
  if (end > copyFrom) parts.push(buf.subarray(copyFrom, end));
  if (rule.appendStamp && stamp) parts.push(stamp);
  return parts;
}

function byteLength(parts: Uint8Array[]): number {
  let n = 0;
  for (const part of parts) n += part.length;
  return n;
}
