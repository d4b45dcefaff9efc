import protobuf from 'protobufjs';
import { ExportTooLargeError, OtlpDecodeError } from './errors.js';
import type { MessageType } from './schema.js';

/*
 * OTLP/JSON <-> protobuf message objects, following the OTLP/JSON rules
 * (opentelemetry-proto docs/specification.md#json-protobuf-encoding):
 * lowerCamelCase keys (original snake_case accepted too), 64-bit integers as decimal strings (numbers
 * accepted), enums as integers (names accepted), trace and span ids as hex, other bytes as base64,
 * unknown keys ignored. Decoding is strict so that nothing is silently altered on the way to protobuf.
 */

/** Byte fields the OTLP/JSON mapping carries as hex instead of base64. */
const HEX_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);
const INT64 = new Set(['int64', 'sint64', 'sfixed64']);
const UINT64 = new Set(['uint64', 'fixed64']);
const INT32 = new Set(['int32', 'sint32', 'sfixed32']);
const UINT32 = new Set(['uint32', 'fixed32']);
const DOUBLE = new Set(['double', 'float']);
const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const BASE64 = /^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$/;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const keyMaps = new WeakMap<MessageType, Map<string, protobuf.Field>>();

function fieldsByJsonKey(type: MessageType): Map<string, protobuf.Field> {
  let map = keyMaps.get(type);
  if (!map) {
    map = new Map();
    for (const field of type.fieldsArray) {
      map.set(field.name, field);
      map.set(field.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), field);
    }
    keyMaps.set(type, map);
  }
  return map;
}

function fail(path: string, expected: string): never {
  throw new OtlpDecodeError(`${path || 'body'}: expected ${expected}`);
}

/** Messages nest no deeper than this (the same bound as the protobuf reader's). */
const MAX_DEPTH = 64;

/** Converts an OTLP/JSON value of `type` into a message object `type.encode` accepts. */
export function fromOtlpJson(type: MessageType, json: unknown): Record<string, unknown> {
  return messageFromJson(type, json, '', 0);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Throws ExportTooLargeError when a top-level list of `type` (the export's entries) holds more than
 * `maxEntries` items, found by scanning the bytes before JSON.parse: parsing first would build every
 * one of millions of `{}` entries (measured: over 100 ms per MiB) only to refuse them. Malformed JSON is
 * left for JSON.parse to report.
 */
export function checkJsonEntries(type: MessageType, body: Uint8Array, maxEntries: number): void {
  if (body.length < 3 * maxEntries) return; // too short to hold more: `{},` per entry at least
  const fields = fieldsByJsonKey(type);
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let depth = 0;
  let keyStart = -1;
  let keyEnd = -1;
  let counted: protobuf.Field | undefined;
  let items = 0;
  let inItem = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === QUOTE) {
      // Strings are most of the bytes: skip to the closing quote natively (one not escaped by an odd run of backslashes).
      const start = i;
      for (;;) {
        i = bytes.indexOf(QUOTE, i + 1);
        if (i < 0) return; // unterminated: JSON.parse says so
        let slashes = 0;
        while (bytes[i - 1 - slashes] === BACKSLASH) slashes++;
        if (slashes % 2 === 0) break;
      }
      if (depth === 1) [keyStart, keyEnd] = [start, i + 1];
      if (counted && depth === 2 && !inItem) (inItem = true), items++;
    } else if (c === 0x7b || c === 0x5b) {
      // { or [
      if (counted && depth === 2 && !inItem) (inItem = true), items++;
      if (depth === 1 && c === 0x5b) {
        counted = fields.get(jsonKey(body, keyStart, keyEnd));
        if (!counted?.repeated) counted = undefined;
        items = 0;
        inItem = false;
      }
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 1) counted = undefined;
    } else if (c === 0x2c) {
      if (depth === 2) inItem = false;
    } else if (c > 0x20 && counted && depth === 2 && !inItem) {
      inItem = true; // a number, true, false or null
      items++;
    }
    if (items > maxEntries) throw new ExportTooLargeError(`export holds more than ${maxEntries} ${counted!.name} entries`);
  }
}

/** The text of the JSON string between `start` and `end` (quotes included). */
function jsonKey(body: Uint8Array, start: number, end: number): string {
  if (start < 0) return '';
  const raw = Buffer.from(body.buffer, body.byteOffset + start, end - start);
  if (!raw.includes(BACKSLASH)) return raw.toString('utf8', 1, raw.length - 1);
  try {
    return JSON.parse(raw.toString('utf8')) as string;
  } catch {
    return '';
  }
}

function messageFromJson(type: MessageType, json: unknown, path: string, depth: number): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(path, `a JSON object (${type.name})`);
  if (depth > MAX_DEPTH) throw new OtlpDecodeError(`${path}: nested deeper than ${MAX_DEPTH} levels`);
  const out: Record<string, unknown> = {};
  const fields = fieldsByJsonKey(type);
  for (const [key, value] of Object.entries(json as JsonObject)) {
    const field = fields.get(key);
    if (!field || value === null) continue;
    const at = path ? `${path}.${key}` : key;
    if (field.repeated) {
      if (!Array.isArray(value)) fail(at, 'an array');
      out[field.name] = value.map((item, i) => fromJsonValue(field, item, `${at}[${i}]`, depth));
    } else {
      out[field.name] = fromJsonValue(field, value, at, depth);
    }
  }
  return out;
}

function fromJsonValue(field: protobuf.Field, value: Json, path: string, depth: number): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return messageFromJson(resolved, value, path, depth + 1);
  if (resolved instanceof protobuf.Enum) return enumFromJson(resolved, value, path);
  const t = field.type;
  if (t === 'string') return typeof value === 'string' ? value : fail(path, 'a string');
  if (t === 'bool') return typeof value === 'boolean' ? value : fail(path, 'true or false');
  if (t === 'bytes') return bytesFromJson(HEX_FIELDS.has(field.name), value, path);
  if (DOUBLE.has(t)) return doubleFromJson(value, path);
  if (INT64.has(t) || UINT64.has(t)) return int64FromJson(value, UINT64.has(t), path);
  if (INT32.has(t) || UINT32.has(t)) return int32FromJson(value, UINT32.has(t), path);
  return fail(path, `a value of type ${t}`);
}

function enumFromJson(e: protobuf.Enum, value: Json, path: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && Object.hasOwn(e.values, value)) return e.values[value]!;
  return fail(path, `an integer or a name of ${e.name}`);
}

function bytesFromJson(hex: boolean, value: Json, path: string): Uint8Array {
  if (typeof value !== 'string') fail(path, hex ? 'a hex string' : 'a base64 string');
  if (hex) return HEX.test(value) ? Buffer.from(value, 'hex') : fail(path, 'a hex string');
  return BASE64.test(value) ? Buffer.from(value, 'base64') : fail(path, 'a base64 string');
}

function doubleFromJson(value: Json, path: string): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value);
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return fail(path, 'a number');
}

/** 64-bit integers stay decimal strings: protobufjs writes them exactly, a JS number would round. */
function int64FromJson(value: Json, unsigned: boolean, path: string): string {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text === 'string' && /^-?\d{1,20}$/.test(text)) {
    const n = BigInt(text);
    const ok = unsigned ? n >= 0n && n < 2n ** 64n : n >= -(2n ** 63n) && n < 2n ** 63n;
    if (ok) return text;
  }
  return fail(path, unsigned ? 'an unsigned 64-bit integer' : 'a 64-bit integer');
}

function int32FromJson(value: Json, unsigned: boolean, path: string): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  const ok =
    typeof n === 'number' && Number.isInteger(n) && (unsigned ? n >= 0 && n <= 0xffffffff : n >= -(2 ** 31) && n < 2 ** 31);
  return ok ? (n as number) : fail(path, unsigned ? 'an unsigned 32-bit integer' : 'a 32-bit integer');
}

/** Renders a decoded message as OTLP/JSON (the inverse of `fromOtlpJson`). */
export function toOtlpJson(type: MessageType, message: object): JsonObject {
  const out: JsonObject = {};
  const record = message as Record<string, unknown>;
  for (const field of type.fieldsArray) {
    if (!Object.hasOwn(record, field.name)) continue;
    const value = record[field.name];
    if (value === null || value === undefined) continue;
    if (field.repeated) {
      const items = value as unknown[];
      if (items.length > 0) out[field.name] = items.map((item) => toJsonValue(field, item));
    } else {
      out[field.name] = toJsonValue(field, value);
    }
  }
  return out;
}

function toJsonValue(field: protobuf.Field, value: unknown): Json {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return toOtlpJson(resolved, value as object);
  if (value instanceof Uint8Array) return Buffer.from(value).toString(HEX_FIELDS.has(field.name) ? 'hex' : 'base64');
  if (INT64.has(field.type) || UINT64.has(field.type)) return String(value);
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value as Json;
}
