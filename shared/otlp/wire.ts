import { isUtf8 } from 'node:buffer';
import protobuf from 'protobufjs';
import { ExportTooLargeError } from './errors.js';
import type { KeySet } from './key-set.js';
import type { MessageType } from './schema.js';

/*
 * Protobuf wire format, walked without building objects. Decoding an export into protobufjs messages
 * costs more than the rest of the relay's work per request (measured: a quarter of its CPU), while
 * the relay only needs to know the bytes are a well-formed message of the expected type, and (for
 * rewriting) where each part starts and ends. Wire types: 0 varint, 1 fixed64, 2 length-delimited,
 * 5 fixed32 (protobuf encoding spec).
 */

export class WireFormatError extends Error {}

interface FieldRule {
  name: string;
  wireType: 0 | 1 | 2 | 5;
  message?: MessageRule;
  utf8: boolean;
  /** Repeated numeric fields may also arrive packed (length-delimited). */
  packable: boolean;
  /**
   * For a field that is not repeated: its bit among the message's single fields (members of one oneof
   * share a bit). Protobuf parsers keep the last of repeated occurrences while a reader of the first
   * would see something else, so a second occurrence is refused (the guard must read what the upstream reads).
   */
  singleBit: number;
  /** A record (data point, log record, span): counted on the way. */
  record: boolean;
  /** An attribute key (KeyValue.key): checked against the watched keys on the way. */
  attributeKey: boolean;
}

interface MessageRule {
  name: string;
  /** The fields by number (OTLP numbers are small: an array beats a map here). */
  byNumber: (FieldRule | undefined)[];
}

/** The largest field number protobuf allows. */
const MAX_FIELD_NUMBER = 2 ** 29 - 1;

const WIRE_TYPE: Record<string, 0 | 1 | 5> = {
  int32: 0, int64: 0, uint32: 0, uint64: 0, sint32: 0, sint64: 0, bool: 0,
  fixed64: 1, sfixed64: 1, double: 1,
  fixed32: 5, sfixed32: 5, float: 5,
};

/** The fields whose occurrences are records, as `Message.field`. */
const RECORD_FIELDS = new Set([
  'Gauge.dataPoints',
  'Sum.dataPoints',
  'Histogram.dataPoints',
  'ExponentialHistogram.dataPoints',
  'Summary.dataPoints',
  'ScopeLogs.logRecords',
  'ScopeSpans.spans',
]);

const rules = new WeakMap<MessageType, MessageRule>();

function ruleFor(type: MessageType): MessageRule {
  let rule = rules.get(type);
  if (rule) return rule;
  rule = { name: type.name, byNumber: [] };
  rules.set(type, rule); // before recursing: the schema is recursive (AnyValue)
  const bits = new Map<string, number>();
  for (const field of type.fieldsArray) {
    const slot = field.repeated ? undefined : (field.partOf?.name ?? field.name);
    if (slot !== undefined && !bits.has(slot)) bits.set(slot, 1 << bits.size);
    if (bits.size > 31) throw new Error(`${type.name} has more single fields than the duplicate check tracks`);
    const resolved = field.resolvedType;
    const isMessage = resolved instanceof protobuf.Type;
    const wireType = isMessage || field.type === 'string' || field.type === 'bytes' ? 2 : resolved instanceof protobuf.Enum ? 0 : WIRE_TYPE[field.type]!;
    rule.byNumber[field.id] = {
      name: field.name,
      wireType,
      message: isMessage ? ruleFor(resolved) : undefined,
      utf8: field.type === 'string',
      packable: field.repeated && wireType !== 2,
      singleBit: slot === undefined ? 0 : bits.get(slot)!,
      record: RECORD_FIELDS.has(`${type.name}.${field.name}`),
      attributeKey: type.name === 'KeyValue' && field.name === 'key',
    };
  }
  return rule;
}

const MAX_DEPTH = 64;

export interface WireOptions {
  /** Refuse (ExportTooLargeError) a message with more top-level entries, before walking the rest. */
  maxEntries?: number;
  /** Attribute keys to look out for: the facts say whether any attribute at any level has one. */
  watchedKeys?: KeySet;
}

/** What the walk learned of a well-formed export, so that no later step walks it again. */
export interface WireFacts {
  /** Data points, log records and spans. */
  records: number;
  /** Whether some attribute key is one of the watched keys. */
  watchedKey: boolean;
}

/**
 * Throws WireFormatError unless `bytes` is a well-formed `type` message (unknown fields allowed, groups
 * and repeated single fields not), and ExportTooLargeError as soon as the message holds more than
 * `maxEntries` top-level entries (before walking the rest).
 */
export function validateWire(type: MessageType, bytes: Uint8Array, options: WireOptions = {}): WireFacts {
  records = 0;
  watchedKey = false;
  watchedKeys = options.watchedKeys?.empty === false ? options.watchedKeys : undefined;
  words = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    walk(bytes, 0, bytes.length, ruleFor(type), 0, options.maxEntries ?? Infinity);
  } finally {
    watchedKeys = undefined;
    words = NO_WORDS;
  }
  return { records, watchedKey };
}

/* The walk in progress (walking is synchronous: module state saves passing these down every level). */
let records = 0;
let watchedKey = false;
let watchedKeys: KeySet | undefined;
/** The bytes being walked, read four at a time by the UTF-8 check. */
const NO_WORDS: DataView = new DataView(new ArrayBuffer(0));
let words = NO_WORDS;

/** Where the last varint read ended (read by the caller at once: saves allocating a pair per varint). */
let varintEnd = 0;

/** A varint's value (exact up to 2^53, which tags and lengths never reach), its end in `varintEnd`. */
function readVarint(buf: Uint8Array, pos: number, end: number, rule: MessageRule): number {
  if (pos >= end) throw new WireFormatError(`${rule.name} is cut short (offset ${pos})`);
  let byte = buf[pos++]!;
  if (byte < 0x80) {
    varintEnd = pos;
    return byte;
  }
  let value = byte & 0x7f;
  let scale = 128;
  for (let i = 1; ; i++) {
    if (pos >= end) throw new WireFormatError(`${rule.name} is cut short (offset ${pos})`);
    if (i === 10) throw new WireFormatError(`${rule.name} holds a varint longer than 10 bytes (offset ${pos})`);
    byte = buf[pos++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) break;
    scale *= 128;
  }
  varintEnd = pos;
  return value;
}

function walk(buf: Uint8Array, pos: number, end: number, rule: MessageRule, depth: number, maxEntries: number): void {
  if (depth > MAX_DEPTH) throw new WireFormatError(`nested deeper than ${MAX_DEPTH} levels`);
  let seen = 0;
  let entries = 0;
  const byNumber = rule.byNumber;
  while (pos < end) {
    const at = pos;
    // Tags and lengths of one byte (most of them) are read here; longer ones by readVarint.
    let tag = buf[pos]!;
    if (tag < 0x80) pos++;
    else {
      tag = readVarint(buf, pos, end, rule);
      pos = varintEnd;
      if (tag > 0xffffffff) throw new WireFormatError(`field number ${Math.floor(tag / 8)} in ${rule.name} (offset ${at})`);
    }
    // Every tag is below 2^32 from here, so bit operations are exact.
    const fieldNumber = tag >>> 3;
    const wireType = tag & 7;
    if (fieldNumber === 0 || fieldNumber > MAX_FIELD_NUMBER) throw new WireFormatError(`field number ${fieldNumber} in ${rule.name} (offset ${at})`);
    const field = fieldNumber < byNumber.length ? byNumber[fieldNumber] : undefined;
    if (field !== undefined && field.singleBit !== 0) {
      if ((seen & field.singleBit) !== 0) throw new WireFormatError(`${rule.name}.${field.name} (or another member of its oneof) appears more than once (offset ${at})`);
      seen |= field.singleBit;
    }
    if (wireType === 2) {
      let length = pos < end ? buf[pos]! : 0x80;
      if (length < 0x80) pos++;
      else {
        length = readVarint(buf, pos, end, rule);
        pos = varintEnd;
      }
      const start = pos;
      pos = start + length;
      if (pos > end) throw new WireFormatError(`${rule.name}${field ? `.${field.name}` : ''} runs past the end of its message (offset ${at})`);
      if (field === undefined) continue;
      if (field.message) {
        // Counted at every depth (the cap is Infinity below the top): a branch taken only at the top
        // left the optimised walk without type feedback for it, and V8 then kept running a slow version.
        if (++entries > maxEntries) throw new ExportTooLargeError(`export holds more than ${maxEntries} ${field.name} entries`);
        if (field.record) records++;
        walk(buf, start, pos, field.message, depth + 1, Infinity);
      } else if (field.wireType === 2 || field.packable) {
        if (field.utf8 && !isUtf8Range(buf, start, pos)) throw new WireFormatError(`${rule.name}.${field.name} is not UTF-8 (offset ${at})`);
        // The first-byte test inline: a call per key cost 5 ns here (the walk is too large to inline into).
        if (field.attributeKey && watchedKeys !== undefined && watchedKeys.firstBytes[pos > start ? buf[start]! : 0] === 1 && !watchedKey) watchedKey = watchedKeys.has(buf, start, pos);
      } else {
        throw new WireFormatError(`${rule.name}.${field.name} has wire type 2, expected ${field.wireType} (offset ${at})`);
      }
      continue;
    }
    if (field !== undefined && wireType !== field.wireType) {
      throw new WireFormatError(`${rule.name}.${field.name} has wire type ${wireType}, expected ${field.wireType} (offset ${at})`);
    }
    if (wireType === 0) {
      readVarint(buf, pos, end, rule);
      pos = varintEnd;
    } else if (wireType === 1 || wireType === 5) {
      pos += wireType === 1 ? 8 : 4;
      if (pos > end) throw new WireFormatError(`${rule.name} is cut short (offset ${at})`);
    } else {
      throw new WireFormatError(`wire type ${wireType} is not accepted in ${rule.name} (offset ${at})`);
    }
  }
}

/**
 * Most OTLP strings are ASCII: those are checked in place, four bytes at a time (half the time of a
 * byte loop on the Codex export's 1,800 strings), and the rest left to the native validator, whose
 * call costs more than checking a short string here.
 */
function isUtf8Range(buf: Uint8Array, start: number, stop: number): boolean {
  let high = 0;
  let i = start;
  for (; i + 8 <= stop; i += 8) high |= words.getUint32(i, true) | words.getUint32(i + 4, true);
  for (; i + 4 <= stop; i += 4) high |= words.getUint32(i, true);
  for (; i < stop; i++) high |= buf[i]!;
  return (high & 0x80808080) === 0 || isUtf8(buf.subarray(start, stop));
}
