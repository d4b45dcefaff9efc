import { KeySet } from '../otlp/key-set.js';
import type { SignalName } from '../otlp/signals.js';

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

/** Matches KeyValue messages on the wire by their key. */
class KeyMatcher {
  private readonly keys: KeySet;

  constructor(rule: KeyRule) {
    this.keys = new KeySet(rule.exact, rule.prefixes);
  }

  get empty(): boolean {
    return this.keys.empty;
  }

  /** Whether the KeyValue between `start` and `end` has a key to remove. */
  matches(buf: Buffer, start: number, end: number): boolean {
    // The key is field 1 (tag 10), almost always first; a KeyValue without one has key "". The tag is
    // read as a varint, not compared as one byte: parsers accept it padded (0x8a 0x00 is tag 10 too).
    for (let pos = start; pos < end; ) {
      const tag = varint(buf, pos);
      if (tag === 10) {
        const length = varint(buf, varintEnd);
        return this.keys.has(buf, varintEnd, varintEnd + length);
      }
      pos = skipValue(buf, varintEnd, tag % 8);
    }
    return this.keys.has(buf, 0, 0);
  }
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
  appendStamp: boolean;
  /** Create this child when absent so that its stamp still lands (a resource-less entry gets one). */
  createChild: number | undefined;
  /** Leave the message out when it has no field of this number (an entry without scopes). */
  requireField: number | undefined;
  /** Nothing in an empty message of this kind can change (the common case): no need to look. */
  emptyStaysSame: boolean;
}

function rule(parts: { attributes?: Record<number, KeyMatcher>; children?: Record<number, MessageRule>; appendStamp?: boolean; createChild?: number; requireField?: number }): MessageRule {
  const attributes: (KeyMatcher | undefined)[] = [];
  const children: (MessageRule | undefined)[] = [];
  for (const [n, m] of Object.entries(parts.attributes ?? {})) if (!m.empty) attributes[Number(n)] = m;
  for (const [n, r] of Object.entries(parts.children ?? {})) if (r.attributes.length > 0 || r.children.length > 0 || r.appendStamp || r.createChild !== undefined || r.requireField !== undefined) children[Number(n)] = r;
  const emptyStaysSame = !parts.appendStamp && parts.createChild === undefined && parts.requireField === undefined;
  // Every rule has the same properties in the same order: one hidden class keeps the walk's property reads monomorphic.
  return { attributes, children, appendStamp: parts.appendStamp ?? false, createChild: parts.createChild, requireField: parts.requireField, emptyStaysSame };
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

/*
 * The rewrite is planned as a flat list of segments (three numbers each), then written out once: the
 * untouched ranges of the request, the tag and new length of each message on the path to a change, and
 * the stamp. A message is walked only after its segments are reserved; when nothing in it changes, the
 * list is cut back. No piece of the request is sliced and no header allocated per change: a Claude Code
 * export (a user.id on every data point) takes one allocation.
 */
const COPY = 0; // bytes [a, b) of the request
const HEADER = 1; // the tag of length-delimited field a, then length b
const STAMP = 2; // the caller's encoded attributes
const SKIP = 3; // a reserved slot left unused

/**
 * The plan of the rewrite in progress, and how much of it is in use (rewriting is synchronous: one
 * plan serves every call; cutting it back is setting `used`, which costs nothing).
 */
let plan = new Int32Array(3 * 1024);
let used = 0;

function put(kind: number, a: number, b: number): number {
  if (used + 3 > plan.length) {
    const grown = new Int32Array(plan.length * 2);
    grown.set(plan);
    plan = grown;
  }
  plan[used] = kind;
  plan[used + 1] = a;
  plan[used + 2] = b;
  used += 3;
  return used - 3;
}

/** A message left out entirely / unchanged (else rewriteMessage returns its new length). */
const DROPPED = -2;
const UNCHANGED = -1;

/**
 * Untouched ranges at least this long are passed on as slices of the request instead of copied:
 * copying the bulk of a 130 KB export into a fresh buffer per request cost more than the rest of the
 * relay's work on it. Everything else is written into one buffer.
 */
const SLICE_BYTES = 16 * 1024;

/**
 * The export's bytes as consecutive pieces: the request itself, untouched, when nothing changes; no
 * pieces at all when every entry was left out. `writableBefore`: how many bytes before `bytes` in its
 * buffer belong to the caller, who gives them and `bytes` up; when the rewrite fits in them, it is done
 * in place and the export is one piece. With 0, `bytes` is left as it is.
 */
export function rewriteExport(tree: MessageRule, bytes: Uint8Array, stamp: Uint8Array | undefined, writableBefore = 0): Uint8Array[] {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  used = 0;
  const size = rewriteMessage(buf, 0, buf.length, tree, stamp);
  if (size === UNCHANGED) return [bytes];
  const parts = size <= 0 ? [] : ((writableBefore > 0 ? writeInPlace(buf, size, stamp, writableBefore) : undefined) ?? write(buf, size, stamp));
  if (plan.length > 3 * 65_536) plan = new Int32Array(3 * 1024); // let an unusually large plan go
  return parts;
}

/** The bytes a segment of the plan writes. */
function segmentBytes(i: number, stamp: Uint8Array | undefined): number {
  switch (plan[i]) {
    case COPY:
      return plan[i + 2]! - plan[i + 1]!;
    case HEADER:
      return tagAndLengthBytes(plan[i + 1]!, plan[i + 2]!);
    case STAMP:
      return stamp!.length;
    default:
      return 0;
  }
}

/**
 * Carries out the plan over the request itself, front to back, starting far enough before it that no
 * write reaches request bytes still to be copied: the output starts `shift` bytes before the request,
 * where `shift` is the most the output has run ahead of the input at any copied range. An export that
 * grows only at its start (a stamp in its one resource) keeps its bulk where it is, uncopied; the
 * upstream gets one buffer, which undici writes with the request head in one system call (pieces cost
 * a write each). Undefined when the room before the request is too small.
 */
function writeInPlace(buf: Buffer, size: number, stamp: Uint8Array | undefined, writableBefore: number): [Uint8Array] | undefined {
  let shift = 0;
  let out = 0;
  for (let i = 0; i < used; i += 3) {
    if (plan[i] === COPY) shift = Math.max(shift, out - plan[i + 1]!);
    out += segmentBytes(i, stamp);
  }
  if (shift > writableBefore) return undefined;
  const whole = Buffer.from(buf.buffer, buf.byteOffset - shift, size);
  let pos = 0;
  for (let i = 0; i < used; i += 3) {
    if (plan[i] === COPY) {
      const a = plan[i + 1]!;
      const b = plan[i + 2]!;
      // Overlapping ranges of one buffer: copy() moves them as memmove does. Left in place: nothing to do.
      if (pos - shift !== a) buf.copy(whole, pos, a, b);
      pos += b - a;
    } else {
      pos = writeNew(whole, pos, i, stamp);
    }
  }
  return [whole];
}

/** Writes segment `i` of the plan when it is new bytes (a header or the stamp) at `pos`; returns where it ends. */
function writeNew(out: Buffer, pos: number, i: number, stamp: Uint8Array | undefined): number {
  switch (plan[i]) {
    case HEADER:
      return writeVarint(out, writeVarint(out, pos, plan[i + 1]! * 8 + 2), plan[i + 2]!);
    case STAMP:
      out.set(stamp!, pos);
      return pos + stamp!.length;
    default:
      return pos;
  }
}

/** Appends the segments of the message's new bytes to the plan: its new length, DROPPED or UNCHANGED (nothing appended). */
function rewriteMessage(buf: Buffer, start: number, end: number, rule: MessageRule, stamp: Uint8Array | undefined): number {
  const mark = used;
  let changed = false;
  let size = 0;
  let copyFrom = start;
  let sawCreated = false;
  let sawRequired = false;
  // A resource-less entry gets one, before everything else (where an encoder puts field 1).
  const created = rule.createChild !== undefined && stamp !== undefined ? put(HEADER, rule.createChild, stamp.length) : -1;
  if (created !== -1) put(STAMP, 0, 0);
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
    if (keys !== undefined) {
      if (!keys.matches(buf, valueStart, pos)) continue;
      if (fieldStart > copyFrom) put(COPY, copyFrom, fieldStart); // the attribute is left out
    } else if (child !== undefined) {
      if (length === 0 && child.emptyStaysSame) continue;
      const before = used;
      if (fieldStart > copyFrom) put(COPY, copyFrom, fieldStart);
      const header = used;
      // An empty message lacks any required field: left out without a call (millions of empty entries).
      if (length === 0 && child.requireField !== undefined) {
        // left out
      } else {
        put(HEADER, number, 0);
        const childSize = rewriteMessage(buf, valueStart, pos, child, stamp);
        if (childSize === UNCHANGED) {
          used = before;
          continue;
        }
        if (childSize === DROPPED) {
          used = header;
        } else {
          plan[header + 2] = childSize;
          size += tagAndLengthBytes(number, childSize) + childSize;
        }
      }
    } else {
      continue;
    }
    size += fieldStart - copyFrom;
    changed = true;
    copyFrom = pos;
  }
  if (rule.requireField !== undefined && !sawRequired) {
    used = mark;
    return DROPPED;
  }
  if (created !== -1) {
    if (sawCreated) plan[created] = plan[created + 3] = SKIP;
    else size += tagAndLengthBytes(rule.createChild!, stamp!.length) + stamp!.length;
    changed ||= !sawCreated;
  }
  if (rule.appendStamp && stamp) changed = true;
  if (!changed) {
    used = mark;
    return UNCHANGED;
  }
  if (end > copyFrom) {
    put(COPY, copyFrom, end);
    size += end - copyFrom;
  }
  if (rule.appendStamp && stamp) {
    put(STAMP, 0, 0);
    size += stamp.length;
  }
  return size;
}

/** Carries out the plan: one buffer for everything but the long untouched ranges, which stay slices of `buf`. */
function write(buf: Buffer, size: number, stamp: Uint8Array | undefined): Uint8Array[] {
  let sliced = 0;
  for (let i = 0; i < used; i += 3) if (plan[i] === COPY && plan[i + 2]! - plan[i + 1]! >= SLICE_BYTES) sliced += plan[i + 2]! - plan[i + 1]!;
  const out = Buffer.allocUnsafe(size - sliced);
  const parts: Uint8Array[] = [];
  let pos = 0;
  let flushed = 0;
  for (let i = 0; i < used; i += 3) {
    if (plan[i] !== COPY) {
      pos = writeNew(out, pos, i, stamp);
      continue;
    }
    const a = plan[i + 1]!;
    const b = plan[i + 2]!;
    if (b - a >= SLICE_BYTES) {
      if (pos > flushed) parts.push(out.subarray(flushed, pos));
      parts.push(buf.subarray(a, b));
      flushed = pos;
    } else {
      pos += buf.copy(out, pos, a, b);
    }
  }
  if (pos > flushed) parts.push(out.subarray(flushed, pos));
  return parts;
}

function varintBytes(value: number): number {
  let n = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

function tagAndLengthBytes(fieldNumber: number, length: number): number {
  return varintBytes(fieldNumber * 8 + 2) + varintBytes(length);
}

function writeVarint(out: Buffer, pos: number, value: number): number {
  while (value >= 128) {
    out[pos++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  out[pos++] = value;
  return pos;
}
