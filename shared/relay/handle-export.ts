import { codecFor, jsonCodec, OtlpDecodeError } from '../otlp/codec.js';
import { BodyTooLargeError, CorruptBodyError, decompress, UnsupportedEncodingError } from '../otlp/decompress.js';
import { signalNamed } from '../otlp/signals.js';
import { BEARER_CHALLENGE, type PlainRequest, type PlainResponse } from '../http.js';
import type { ExportGuard } from '../identity/export-guard.js';
import { CredentialError, type Caller } from '../identity/relay-credentials.js';
import type { Forward } from './outcome.js';
import { errorResponse, outcomeResponse } from './respond.js';

export interface ExportDeps {
  maxBodyBytes: number;
  guard: ExportGuard;
  forward: Forward;
}

export type ExportHandler = (signalName: string, request: PlainRequest) => Promise<PlainResponse>;

/**
 * The one export pipeline for every signal: method -> content type -> credential -> size +
 * decompress -> decode -> stamp identity and drop private attributes -> forward -> respond.
 * Status rules follow opentelemetry-proto docs/specification.md (OTLP/HTTP).
 */
export function exportHandler(deps: ExportDeps): ExportHandler {
  return async (signalName, request) => {
    const codec = codecFor(request.headers['content-type']);
    const signal = signalNamed(signalName);
    if (!signal) return errorResponse(codec ?? jsonCodec, 404, `unknown signal "${signalName}" (use metrics, logs or traces)`);
    if (request.method !== 'POST') {
      return errorResponse(codec ?? jsonCodec, 405, `method ${request.method} not allowed: use POST`, { allow: 'POST' });
    }
    if (!codec) {
      return errorResponse(jsonCodec, 415, 'unsupported Content-Type: use application/x-protobuf or application/json');
    }
    let caller: Caller | undefined;
    try {
      caller = await deps.guard.authenticate(request.headers.authorization);
    } catch (err) {
      if (err instanceof CredentialError) {
        const error = request.headers.authorization ? `, error="invalid_token"` : '';
        return errorResponse(codec, 401, err.message, { 'www-authenticate': `${BEARER_CHALLENGE}${error}` });
      }
      // The keys to check credentials are unavailable (Key Vault): ours to fix, the client may retry.
      return errorResponse(codec, 503, 'relay cannot check credentials right now', { 'retry-after': '2' });
    }
    if (request.body.length > deps.maxBodyBytes) {
      return errorResponse(codec, 413, `body exceeds ${deps.maxBodyBytes} bytes`);
    }
    let body: Uint8Array;
    try {
      body = await decompress(request.body, request.headers['content-encoding'], deps.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) return errorResponse(codec, 413, err.message);
      if (err instanceof UnsupportedEncodingError) return errorResponse(codec, 415, err.message);
      if (err instanceof CorruptBodyError) return errorResponse(codec, 400, err.message);
      throw err;
    }
    // OTLP: an empty request is a success; there is nothing to forward.
    if (body.length === 0) return outcomeResponse(codec, signal, { kind: 'accepted', body: new Uint8Array() });
    let protobuf: Uint8Array;
    try {
      protobuf = codec.toProtobuf(signal.request, body);
    } catch (err) {
      if (err instanceof OtlpDecodeError) return errorResponse(codec, 400, err.message);
      throw err;
    }
    return outcomeResponse(codec, signal, await deps.forward(signal, deps.guard.protect(signal.name, protobuf, caller)));
  };
}
