import { codecFor, ExportTooLargeError, jsonCodec, OtlpDecodeError, type Codec, type ValidExport } from '../otlp/codec.js';
import { contentEncoding, CorruptBodyError, decompress, UnsupportedEncodingError, type ContentEncoding } from '../otlp/decompress.js';
import type { ProtobufParts } from '../otlp/protobuf-parts.js';
import { signalNamed, type Signal } from '../otlp/signals.js';
import { BodyTooLargeError, Refusal, type PlainRequest, type PlainResponse } from '../http.js';
import type { ExportGuard } from '../identity/export-guard.js';
import type { Caller } from '../identity/relay-credentials.js';
import { AtCapacityError, type Admission, type Ticket } from './admission.js';
import type { Forward, ForwardOutcome } from './outcome.js';
import { errorResponse, outcomeResponse } from './respond.js';

export interface ExportDeps {
  /** Bound on the body as received, as decompressed, and as rewritten for the upstream. */
  maxBodyBytes: number;
  /** Bound on the top-level entries (Resource{Metrics,Logs,Spans}) of one export. */
  maxEntries: number;
  admission: Admission;
  guard: ExportGuard;
  forward: Forward;
}

/** What an observer (the relay's metrics and logs) learns of one export as it passes; all optional. */
export interface ExportTrace {
  authenticated(caller: Caller | undefined): void;
  /** The body's size as received (before decompression), once read: a body never read counts 0. */
  received(bytes: number): void;
  /** The export as received (validated) and as it leaves, just before the upstream call. */
  forwarding(exported: ValidExport, parts: ProtobufParts): void;
  forwarded(outcome: ForwardOutcome): void;
}

export type ExportHandler = (signalName: string, request: PlainRequest, trace?: ExportTrace) => Promise<PlainResponse>;

const NOTHING = new Uint8Array();

/**
 * Room reserved before each body as it is read, so that stamping can rewrite the export in place: the
 * stamp grows an export by about 150 bytes per resource. Small enough that a 2 KB body still comes
 * from Node's buffer pool.
 */
const REWRITE_HEADROOM = 1024;

/**
 * The one export pipeline for every signal: method -> content type -> credential -> declared size ->
 * admission (exports in flight, bytes held) -> read the body -> decompress -> decode -> stamp identity
 * and drop private attributes -> forward -> respond. Everything before admission looks at headers only,
 * so a refused or shed request costs no body reading, decompression or parsing.
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
    let encoding: ContentEncoding;
    try {
      encoding = contentEncoding(request.headers['content-encoding']);
    } catch (err) {
      return errorResponse(codec, 415, (err as UnsupportedEncodingError).message);
    }
    const declared = request.body.declaredLength;
    if (declared !== undefined && declared > deps.maxBodyBytes) return errorResponse(codec, 413, `body exceeds ${deps.maxBodyBytes} bytes`);
    const ticket = deps.admission.enter();
    if (!ticket) return atCapacity(codec);
    try {
      return await admitted(deps, codec, signal, encoding, request, caller, ticket, trace);
    } finally {
      ticket.release();
    }
  };
}

async function admitted(
  deps: ExportDeps,
  codec: Codec,
  signal: Signal,
  encoding: ContentEncoding,
  request: PlainRequest,
  caller: Caller | undefined,
  ticket: Ticket,
  trace: ExportTrace | undefined,
): Promise<PlainResponse> {
  const hold = (bytes: number) => ticket.hold(bytes);
  let received: Uint8Array;
  let body: Uint8Array;
  try {
    received = await request.body.read(deps.maxBodyBytes, hold, REWRITE_HEADROOM);
    trace?.received(received.length);
    body = encoding === 'identity' ? received : await decompress(received, encoding, deps.maxBodyBytes, hold);
  } catch (err) {
    if (err instanceof BodyTooLargeError) return errorResponse(codec, 413, err.message);
    if (err instanceof AtCapacityError) return atCapacity(codec);
    if (err instanceof CorruptBodyError) return errorResponse(codec, 400, err.message);
    throw err;
  }
  // OTLP: an empty request is a success; there is nothing to forward.
  if (body.length === 0) return outcomeResponse(codec, signal, { kind: 'accepted', body: NOTHING });
  let exported: ValidExport;
  try {
    exported = codec.toProtobuf(signal.request, body, { maxEntries: deps.maxEntries, watchedKeys: deps.guard.watchedKeys });
  } catch (err) {
    if (err instanceof OtlpDecodeError) return errorResponse(codec, 400, err.message);
    if (err instanceof ExportTooLargeError) return errorResponse(codec, 413, err.message);
    throw err;
  }
  // The room before the body is there only while the export is the body as read (not decompressed or converted).
  const parts = deps.guard.protect(signal.name, exported, caller, exported.protobuf === received ? REWRITE_HEADROOM : 0);
  if (parts.length === 0) return outcomeResponse(codec, signal, { kind: 'accepted', body: NOTHING }); // only empty entries
  let size = 0;
  for (const part of parts) size += part.length;
  if (size > deps.maxBodyBytes) return errorResponse(codec, 413, `export exceeds ${deps.maxBodyBytes} bytes once identity is stamped`);
  trace?.forwarding(exported, parts);
  const outcome = await deps.forward(signal, parts);
  trace?.forwarded(outcome);
  return outcomeResponse(codec, signal, outcome);
}

function atCapacity(codec: Codec): PlainResponse {
  return errorResponse(codec, 503, 'relay is at capacity', { 'retry-after': '1' });
}
