/** A framework-free HTTP request: what the Functions host, the local runner and tests all hand in. */
export interface PlainRequest {
  method: string;
  /** Path and query, e.g. `/api/otel/v1/metrics`. */
  url: string;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  body: Uint8Array;
}

export interface PlainResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** The WWW-Authenticate challenge of every 401 the app answers. */
export const BEARER_CHALLENGE = 'Bearer realm="coding-agent-relay"';

export type Handler = (request: PlainRequest) => Promise<PlainResponse>;

/**
 * An expected refusal: the HTTP status, a message the client may read (never a secret), and extra
 * headers. Any module may throw one; the route it reached decides the body (OTLP google.rpc.Status on
 * the relay, a JSON error elsewhere: see shared/respond-route.ts).
 */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): PlainResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(value, null, 2) + '\n'),
  };
}

/** Lower-cases header names and joins repeated values, as fetch's Headers does. */
export function plainHeaders(entries: Iterable<[string, string | string[] | undefined]>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const joined = Array.isArray(value) ? value.join(', ') : value;
    headers[key] = headers[key] === undefined ? joined : `${headers[key]}, ${joined}`;
  }
  return headers;
}
