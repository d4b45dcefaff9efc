import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Signal } from '../otlp/signals.js';
import { classifyUpstream } from './classify-upstream.js';
import type { ForwardOutcome } from './outcome.js';

const gzip = promisify(zlib.gzip);

/** Sends one protobuf export with a given bearer token. */
export type SendWithToken = (signal: Signal, protobuf: Uint8Array, token: string) => Promise<ForwardOutcome>;

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
const USER_AGENT = 'coding-agent-relay/0.1';

interface RawResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: Uint8Array;
}

/**
 * The forward path. It uses `http.request` with a keep-alive agent rather than `fetch`: measured
 * here, that is several times the throughput (see README, "Benchmarks"). The agent bounds open
 * sockets; the caller bounds requests in flight (with-concurrency-limit.ts).
 */
export function httpUpstream(options: HttpUpstreamOptions): SendWithToken & { close(): void } {
  const base = new URL(options.ingestUrl);
  const transport = base.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets });

  function post(path: string, headers: http.OutgoingHttpHeaders, body: Uint8Array, attempt = 0): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const request = transport.request(
        { protocol: base.protocol, hostname: base.hostname, port: base.port, path, method: 'POST', headers, agent },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
          });
          response.on('end', () => {
            clearTimeout(timer);
            resolve({ status: response.statusCode ?? 502, headers: response.headers as RawResponse['headers'], body: Buffer.concat(chunks) });
          });
          response.on('error', reject);
        },
      );
      const timer = setTimeout(() => request.destroy(new UpstreamTimeoutError()), options.timeoutMs);
      request.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        // A pooled socket the server closed while idle: the request never reached it, send it again.
        if (attempt === 0 && request.reusedSocket && err.code === 'ECONNRESET') {
          resolve(post(path, headers, body, 1));
        } else {
          reject(err);
        }
      });
      request.end(body);
    });
  }

  const send: SendWithToken = async (signal, protobuf, token) => {
    const body = options.gzip ? await gzip(protobuf) : protobuf;
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/x-protobuf',
      'content-length': body.length,
      authorization: `Bearer ${token}`,
      [options.tableHeader]: options.tableFor(signal),
      'user-agent': USER_AGENT,
    };
    if (options.gzip) headers['content-encoding'] = 'gzip';
    try {
      const response = await post(`${base.pathname.replace(/\/$/, '')}/v1/${signal.name}`, headers, body);
      return classifyUpstream(response.status, response.headers, response.body);
    } catch (err) {
      const reason = err instanceof UpstreamTimeoutError ? 'upstream timed out' : `upstream unreachable (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
      return { kind: 'retryable', status: 503, retryAfterSeconds: 1, reason };
    }
  };
  return Object.assign(send, { close: () => agent.destroy() });
}

class UpstreamTimeoutError extends Error {}
