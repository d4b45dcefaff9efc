import { ExportTooLargeError, OtlpDecodeError } from './errors.js';
import { otlpType, type MessageType } from './schema.js';
import { checkJsonEntries, fromOtlpJson, toOtlpJson } from './otlp-json.js';
import { rpcCodeFor } from './status.js';
import { validateWire } from './wire.js';

export { ExportTooLargeError, OtlpDecodeError };

/** One OTLP encoding: how request bodies are read and how responses are written. */
export interface Codec {
  readonly contentType: 'application/x-protobuf' | 'application/json';
  /**
   * Validates a request body and returns it as protobuf bytes (the only form forwarded upstream).
   * Throws OtlpDecodeError for a bad body, ExportTooLargeError past `maxEntries` top-level entries.
   */
  toProtobuf(type: MessageType, body: Uint8Array, maxEntries?: number): Uint8Array;
  /** Encodes a decoded message (a response) in this encoding. */
  encode(type: MessageType, message: object): Uint8Array;
}

const RpcStatus = otlpType('RpcStatus');

export const protobufCodec: Codec = {
  contentType: 'application/x-protobuf',
  toProtobuf(type, body, maxEntries) {
    try {
      validateWire(type, body, maxEntries);
    } catch (err) {
      if (err instanceof ExportTooLargeError) throw err;
      throw new OtlpDecodeError(`invalid protobuf ${type.name}: ${(err as Error).message}`);
    }
    return body;
  },
  encode(type, message) {
    return type.encode(type.fromObject(message)).finish();
  },
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

export const jsonCodec: Codec = {
  contentType: 'application/json',
  toProtobuf(type, body, maxEntries = Infinity) {
    checkJsonEntries(type, body, maxEntries);
    let json: unknown;
    try {
      json = JSON.parse(utf8.decode(body));
    } catch (err) {
      throw new OtlpDecodeError(`invalid JSON: ${(err as Error).message}`);
    }
    const message = fromOtlpJson(type, json);
    try {
      return type.encode(message).finish();
    } catch (err) {
      // fromOtlpJson checks every value, so this is a case it missed: still the body's fault, not ours.
      throw new OtlpDecodeError(`cannot encode ${type.name}: ${(err as Error).message}`);
    }
  },
  encode(type, message) {
    return Buffer.from(JSON.stringify(toOtlpJson(type, type.fromObject(message))));
  },
};

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
