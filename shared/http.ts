/** A framework-free HTTP request: what the Functions host, the local runner and tests all hand in. */
export interface PlainRequest {
  method: string;
  /** Path and query, e.g. `/api/otel/v1/metrics`. */
  url: string;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  /** Not read yet: a handler reads it (bounded) only once the headers say the request is worth it. */
  body: RequestBody;
}

/** A request body, read on demand. */
export interface RequestBody {
  /** The Content-Length the client declared; undefined when it sent none (chunked). */
  readonly declaredLength: number | undefined;
  /**
   * The whole body. Past `maxBytes` it throws BodyTooLargeError, having kept no more than `maxBytes`
   * (a declared length over the limit is refused before reading). `onChunk` is told each chunk's size
   * before the chunk is kept and may throw to stop reading. With `headroom`, the bytes are preceded in
   * their buffer by that many bytes that belong to the caller (room to rewrite them in place).
   */
  read(maxBytes: number, onChunk?: (bytes: number) => void, headroom?: number): Promise<Uint8Array>;
}

export class BodyTooLargeError extends Error {}

/** A body already in memory (tests, callers that hold the bytes). */
export function bufferedBody(bytes: Uint8Array): RequestBody {
  return {
    declaredLength: bytes.length,
    async read(maxBytes, onChunk, headroom = 0) {
      if (bytes.length > maxBytes) throw new BodyTooLargeError(`body exceeds ${maxBytes} bytes`);
      onChunk?.(bytes.length);
      if (headroom === 0) return bytes;
      const roomy = Buffer.allocUnsafe(headroom + bytes.length);
      roomy.set(bytes, headroom);
      return roomy.subarray(headroom);
    },
  };
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
