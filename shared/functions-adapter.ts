import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { plainHeaders, type PlainRequest, type PlainResponse } from './http.js';

/** The Functions host's request as a plain request (path and query only, like the local runner's). */
export async function fromFunctionsRequest(request: HttpRequest): Promise<PlainRequest> {
  const url = new URL(request.url);
  return {
    method: request.method,
    url: `${url.pathname}${url.search}`,
    headers: plainHeaders(request.headers.entries()),
    body: new Uint8Array(await request.arrayBuffer()),
  };
}

export function toFunctionsResponse(response: PlainResponse): HttpResponseInit {
  return { status: response.status, headers: response.headers, body: response.body };
}
