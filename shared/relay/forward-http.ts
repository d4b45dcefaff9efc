import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { Pool, type Dispatcher } from 'undici';
import type { Signal } from '../otlp/signals.js';
import { classifyUpstream } from './classify-upstream.js';
import type { ProtobufParts } from '../otlp/protobuf-parts.js';
import type { ForwardOutcome } from './outcome.js';

const gzip = promisify(zlib.gzip);

/** Sends one protobuf export with a given bearer token. */
export type SendWithToken = (signal: Signal, protobuf: ProtobufParts, token: string) => Promise<ForwardOutcome>;

export interface HttpUpstreamOptions {
  /** Ingest base; the export goes to `<ingestUrl>/v1/<signal>`. */
  ingestUrl: string;
  tableHeader: string;
  tableFor: (signal: Signal) => string;
  gzip: boolean;
  timeoutMs: number;
  maxSockets: number;
}

const MAX_RESPONSE_BYTES = 1024 * 1024;
const EMPTY = new Uint8Array();
const USER_AGENT = 'coding-agent-relay/0.1';
/** Errors of a pooled connection the server closed while idle. */
const STALE_CONNECTION_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

interface UpstreamAnswer {
  status: number;
  headers: Record<string, string | undefined>;
  body: Uint8Array;
}

/** An upstream failure, and whether any of the request had been handed to a connection by then. */
class UpstreamError extends Error {
  constructor(
    readonly code: string,
    readonly written: boolean,
  ) {
    super(code);
  }
}

/** What undici reports of one request, gathered into an answer (one object per request, no closures). */
class Exchange implements Dispatcher.DispatchHandler {
  private written = false;
  private answer: UpstreamAnswer | undefined;
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly resolve: (answer: UpstreamAnswer) => void,
    private readonly reject: (err: UpstreamError) => void,
  ) {}

  onRequestStart(): void {
    this.written = true;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    this.answer = { status, headers: headers as Record<string, string | undefined>, body: EMPTY };
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // Keep the first MAX_RESPONSE_BYTES, discard the rest.
    if (this.size < MAX_RESPONSE_BYTES) this.chunks.push(chunk);
    this.size += chunk.length;
  }

  onResponseEnd(): void {
    const { answer, chunks } = this;
    if (chunks.length > 0) answer!.body = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).subarray(0, MAX_RESPONSE_BYTES);
    this.chunks = [];
    this.resolve(answer!);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.reject(new UpstreamError((err as { code?: string }).code ?? 'error', this.written));
  }
}

/**
 * The forward path, on an undici connection pool: measured here it forwards about 1.5x what
 * `http.request` with a keep-alive agent does and several times the global `fetch` (the first figure is
 * in docs/benchmarks.md, "Relay throughput", earlier changes). The pool bounds open connections; the caller bounds exports in flight
 * (relay/admission.ts), so nothing queues without limit.
 */
export function httpUpstream(options: HttpUpstreamOptions): SendWithToken & { close(): Promise<void> } {
  const base = new URL(options.ingestUrl);
  const pool = new Pool(base.origin, {
    connections: options.maxSockets,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connectTimeout: options.timeoutMs,
  });
  const pathPrefix = base.pathname.replace(/\/$/, '');

  /** One request through the pool's dispatcher, which (unlike `request`) says when the request starts being written. */
  function exchange(path: string, headers: Record<string, string>, body: Uint8Array | ProtobufParts): Promise<UpstreamAnswer> {
    return new Promise((resolve, reject) => {
      // undici sends any iterable of chunks (its request body contract); its type declarations omit it.
      pool.dispatch({ origin: base.origin, path, method: 'POST', headers, body: body as Uint8Array }, new Exchange(resolve, reject));
    });
  }

  async function post(path: string, headers: Record<string, string>, body: Uint8Array | ProtobufParts, sent: readonly string[]): Promise<ForwardOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await exchange(path, headers, body);
        return classifyUpstream(answer.status, answer.headers, answer.body, sent);
      } catch (err) {
        const { code, written } = err as UpstreamError;
        // Sent again only when provably not sent at all: a pooled connection that failed before any of
        // this request was written. After that, the upstream may hold the data (a second copy would be
        // stored twice); the client's own retry of a 503 is absorbed by the roll-up's de-duplication.
        if (attempt === 1 && !written && STALE_CONNECTION_ERRORS.has(code)) continue;
        const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
        return { kind: 'retryable', status: 503, retryAfterSeconds: 1, reason: timedOut ? 'upstream timed out' : `upstream unreachable (${code})` };
      }
    }
  }

  // Made once per signal and per token rather than per export (an OAuth token is about 1 KB).
  const targets = new Map<string, { path: string; table: string }>();
  let bearer = { token: '', authorization: '' };
  const send: SendWithToken = async (signal, protobuf, token) => {
    const body = options.gzip ? await gzip(Buffer.concat(protobuf)) : requestBody(protobuf);
    const length = body instanceof Uint8Array ? body.length : protobuf.reduce((n, part) => n + part.length, 0);
    if (bearer.token !== token) bearer = { token, authorization: `Bearer ${token}` };
    const { authorization } = bearer;
    let target = targets.get(signal.name);
    if (!target) targets.set(signal.name, (target = { path: `${pathPrefix}/v1/${signal.name}`, table: options.tableFor(signal) }));
    const headers: Record<string, string> = {
      'content-type': 'application/x-protobuf',
      'content-length': String(length),
      authorization,
      [options.tableHeader]: target.table,
      'user-agent': USER_AGENT,
    };
    if (options.gzip) headers['content-encoding'] = 'gzip';
    return post(target.path, headers, body, [authorization, token, target.table]);
  };
  return Object.assign(send, { close: () => pool.destroy() });
}

/**
 * The pieces as they are: the rewrite already joins everything but the long untouched ranges of a
 * large export, which go out as slices of the request (copying them cost more than the rest of the
 * relay's work on the 130 KB Codex export).
 */
function requestBody(parts: ProtobufParts): Uint8Array | ProtobufParts {
  return parts.length === 1 ? parts[0]! : parts;
}
