import { codecFor, jsonCodec, OtlpDecodeError } from '../otlp/codec.js';
import { BodyTooLargeError, CorruptBodyError, decompress, UnsupportedEncodingError } from '../otlp/decompress.js';
import { signalNamed } from '../otlp/signals.js';
import { Refusal, type PlainRequest, type PlainResponse } from '../http.js';
import type { ExportGuard } from '../identity/export-guard.js';
import type { Caller } from '../identity/relay-credentials.js';
import type { ProtobufParts } from '../otlp/protobuf-parts.js';
import type { Forward, ForwardOutcome } from './outcome.js';
import { errorResponse, outcomeResponse } from './respond.js';

export interface ExportDeps {
  maxBodyBytes: number;
  guard: ExportGuard;
  forward: Forward;
}

/** What an observer (the relay's metrics and logs) learns of one export as it passes; all optional. */
export interface ExportTrace {
  authenticated(caller: Caller | undefined): void;
  /** The export as received (validated protobuf) and as it leaves, just before the upstream call. */
  forwarding(protobuf: Uint8Array, parts: ProtobufParts): void;
  forwarded(outcome: ForwardOutcome): void;
}

export type ExportHandler = (signalName: string, request: PlainRequest, trace?: ExportTrace) => Promise<PlainResponse>;

/**
 * The one export pipeline for every signal: method -> content type -> credential -> size +
 * decompress -> decode -> stamp identity and drop private attributes -> forward -> respond.
 * Status rules follow opentelemetry-proto docs/specification.md (OTLP/HTTP).
 */
export function exportHandler(deps: ExportDeps): ExportHandler {
  return async (signalName, request, trace) => {
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
      // A bad credential (401) or keys that cannot be read right now (503); anything else is a bug for the catch-all.
      if (err instanceof Refusal) return errorResponse(codec, err.status, err.message, err.headers);
      throw err;
    }
    trace?.authenticated(caller);
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
    const parts = deps.guard.protect(signal.name, protobuf, caller);
    trace?.forwarding(protobuf, parts);
    const outcome = await deps.forward(signal, parts);
    trace?.forwarded(outcome);
    return outcomeResponse(codec, signal, outcome);
  };
}
