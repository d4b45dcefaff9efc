import { ExportTooLargeError, OtlpDecodeError } from './errors.js';
import { otlpType, type MessageType } from './schema.js';
import { checkJsonEntries, fromOtlpJson, toOtlpJson } from './otlp-json.js';
import { rpcCodeFor } from './status.js';
import { validateWire, type WireFacts, type WireOptions } from './wire.js';

export { ExportTooLargeError, OtlpDecodeError };

/** A request body as the relay forwards it: validated protobuf, and what validating it learned. */
export interface ValidExport extends WireFacts {
  protobuf: Uint8Array;
}

/** One OTLP encoding: how request bodies are read and how responses are written. */
export interface Codec {
  readonly contentType: 'application/x-protobuf' | 'application/json';
  /**
   * Validates a request body and returns it as protobuf bytes (the only form forwarded upstream), with
   * what the validation learned. Throws OtlpDecodeError for a bad body, ExportTooLargeError past
   * `options.maxEntries` top-level entries.
   */
  toProtobuf(type: MessageType, body: Uint8Array, options?: WireOptions): ValidExport;
  /** Encodes a decoded message (a response) in this encoding. */
  encode(type: MessageType, message: object): Uint8Array;
}

const RpcStatus = otlpType('RpcStatus');

export const protobufCodec: Codec = {
  contentType: 'application/x-protobuf',
  toProtobuf(type, body, options) {
    return { protobuf: body, ...validated(type, body, options, 'invalid protobuf') };
  },
  encode(type, message) {
    return type.encode(type.fromObject(message)).finish();
  },
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

export const jsonCodec: Codec = {
  contentType: 'application/json',
  toProtobuf(type, body, options) {
    checkJsonEntries(type, body, options?.maxEntries ?? Infinity);
    let json: unknown;
    try {
      json = JSON.parse(utf8.decode(body));
    } catch (err) {
      throw new OtlpDecodeError(`invalid JSON: ${(err as Error).message}`);
    }
    const message = fromOtlpJson(type, json);
    let protobuf: Uint8Array;
    try {
      protobuf = type.encode(message).finish();
    } catch (err) {
      // fromOtlpJson checks every value, so this is a case it missed: still the body's fault, not ours.
      throw new OtlpDecodeError(`cannot encode ${type.name}: ${(err as Error).message}`);
    }
    // Walked like a protobuf body, for the same facts (and a string no parser would read back is refused).
    return { protobuf, ...validated(type, protobuf, options, 'invalid OTLP JSON') };
  },
  encode(type, message) {
    return Buffer.from(JSON.stringify(toOtlpJson(type, type.fromObject(message))));
  },
};

function validated(type: MessageType, protobuf: Uint8Array, options: WireOptions | undefined, what: string): WireFacts {
  try {
    return validateWire(type, protobuf, options);
  } catch (err) {
    if (err instanceof ExportTooLargeError) throw err;
    throw new OtlpDecodeError(`${what} ${type.name}: ${(err as Error).message}`);
  }
}

/** Picks the codec for a Content-Type header, ignoring parameters such as charset. */
export function codecFor(contentType: string | undefined): Codec | undefined {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType === 'application/x-protobuf' || mediaType === 'application/protobuf') return protobufCodec;
  if (mediaType === 'application/json') return jsonCodec;
  return undefined;
}

/** A google.rpc.Status error body in the codec's encoding. */
export function encodeStatus(codec: Codec, httpStatus: number, message: string): Uint8Array {
  return codec.encode(RpcStatus, { code: rpcCodeFor(httpStatus), message });
}
