import { encodeStatus, type Codec } from '../otlp/codec.js';
import type { Signal } from '../otlp/signals.js';
import type { PlainResponse } from '../http.js';
import type { ForwardOutcome } from './outcome.js';

/** An OTLP error: the HTTP status with a google.rpc.Status body in the caller's encoding. */
export function errorResponse(codec: Codec, status: number, message: string, headers: Record<string, string> = {}): PlainResponse {
  return { status, headers: { 'content-type': codec.contentType, ...headers }, body: encodeStatus(codec, status, message) };
}

/** The one table from upstream outcome to client response. */
export function outcomeResponse(codec: Codec, signal: Signal, outcome: ForwardOutcome): PlainResponse {
  switch (outcome.kind) {
    case 'accepted':
      // 200 only now that the upstream holds the data; its partial_success goes back as it came.
      return { status: 200, headers: { 'content-type': codec.contentType }, body: acknowledgement(codec, signal, outcome.body) };
    case 'retryable':
      return errorResponse(codec, outcome.status, outcome.reason, { 'retry-after': String(outcome.retryAfterSeconds) });
    case 'rejected':
      return errorResponse(codec, outcome.status, outcome.reason);
    case 'unauthorized':
      // Decorators turn this into a retryable outcome; answering it directly would make clients drop data.
      return errorResponse(codec, 503, 'upstream refused the relay credentials', { 'retry-after': '3' });
  }
}

const emptyAcknowledgements = new Map<string, Uint8Array>();

function acknowledgement(codec: Codec, signal: Signal, upstreamBody: Uint8Array): Uint8Array {
  if (upstreamBody.length === 0) {
    // The common case, encoded once per encoding and signal.
    const key = `${codec.contentType} ${signal.name}`;
    let empty = emptyAcknowledgements.get(key);
    if (!empty) emptyAcknowledgements.set(key, (empty = codec.encode(signal.response, {})));
    return empty;
  }
  let response: object;
  try {
    response = signal.response.decode(upstreamBody);
  } catch {
    response = {}; // The data was accepted; an unreadable acknowledgement carries nothing to pass on.
  }
  return codec.encode(signal.response, response);
}
