import { otlpType, type MessageType } from './schema.js';
import { fromOtlpJson, OtlpDecodeError, toOtlpJson } from './otlp-json.js';
import { rpcCodeFor } from './status.js';
import { validateWire } from './wire.js';

export { OtlpDecodeError };

/** One OTLP encoding: how request bodies are read and how responses are written. */
export interface Codec {
  readonly contentType: 'application/x-protobuf' | 'application/json';
  /** Validates a request body and returns it as protobuf bytes (the only form forwarded upstream). */
  toProtobuf(type: MessageType, body: Uint8Array): Uint8Array;
  /** Encodes a decoded message (a response) in this encoding. */
  encode(type: MessageType, message: object): Uint8Array;
}

const RpcStatus = otlpType('RpcStatus');

export const protobufCodec: Codec = {
  contentType: 'application/x-protobuf',
  toProtobuf(type, body) {
    try {
      validateWire(type, body);
    } catch (err) {
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
  toProtobuf(type, body) {
    let json: unknown;
    try {
      json = JSON.parse(utf8.decode(body));
    } catch (err) {
      throw new OtlpDecodeError(`invalid JSON: ${(err as Error).message}`);
    }
    return type.encode(fromOtlpJson(type, json)).finish();
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
