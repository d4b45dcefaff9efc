import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { plainHeaders, type PlainRequest, type PlainResponse } from './http.js';
import { streamBody } from './stream-body.js';

const NO_BODY: AsyncIterable<Uint8Array> = { async *[Symbol.asyncIterator]() {} };

/**
 * The Functions host's request as a plain request (path and query only, like the local runner's). With
 * HTTP streams on (functions/otel.ts), the body arrives as a stream and is read only as far as the
 * handler wants it (the worker drains what is left once the response is sent, without keeping it).
 */
export function fromFunctionsRequest(request: HttpRequest): PlainRequest {
  const url = new URL(request.url);
  const length = request.headers.get('content-length');
  return {
    method: request.method,
    url: `${url.pathname}${url.search}`,
    headers: plainHeaders(request.headers.entries()),
    body: streamBody(request.body ?? NO_BODY, length !== null && /^\d+$/.test(length) ? Number(length) : undefined),
  };
}

export function toFunctionsResponse(response: PlainResponse): HttpResponseInit {
  return { status: response.status, headers: response.headers, body: response.body };
}
