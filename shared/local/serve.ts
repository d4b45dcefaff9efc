import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Handler, PlainResponse } from '../http.js';
import { streamBody } from '../stream-body.js';

export interface Served {
  server: http.Server;
  url: string;
  close(): Promise<void>;
}

/**
 * How long a client may take, so that slow or silent connections (slowloris) cannot pile up: all the
 * request headers within `headersMs` (a connection that sends nothing gets 408 then too), the whole
 * request within `requestMs`, both checked every `checkEveryMs`; an idle keep-alive connection is
 * closed after `keepAliveMs`.
 */
export interface ServerTimeouts {
  headersMs: number;
  requestMs: number;
  keepAliveMs: number;
  checkEveryMs: number;
}

/** Bodies up to this size go out with the headers in one write (as a latin1 string: byte for byte). */
const SMALL_BODY_BYTES = 4096;

export const DEFAULT_TIMEOUTS: ServerTimeouts = { headersMs: 10_000, requestMs: 60_000, keepAliveMs: 65_000, checkEveryMs: 1_000 };

/**
 * Serves a plain handler over node:http on loopback. The handler gets the body unread and reads it
 * (bounded) only if it wants it; a body left unread or cut at a limit is not drained: the response
 * says `Connection: close` and the connection is closed once it is sent.
 */
const INTERNAL_ERROR: PlainResponse = { status: 500, headers: { 'content-type': 'text/plain' }, body: Buffer.from('internal error\n') };

async function answer(handler: Handler, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const length = req.headers['content-length'];
  const body = streamBody(req, length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined);
  let response: PlainResponse;
  try {
    response = await handler({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      // Node already lower-cases names and joins repeated headers; set-cookie (an array) is never read.
      headers: req.headers as Record<string, string | undefined>,
      body,
    });
  } catch {
    response = INTERNAL_ERROR;
  }
  if (res.destroyed) return;
  const unread = !body.finished && length !== '0' && req.method !== 'GET' && req.method !== 'HEAD';
  // Names and values in one flat list: node:http takes it without walking an object's keys.
  const headers: (string | number)[] = [];
  for (const name in response.headers) headers.push(name, response.headers[name]!);
  headers.push('content-length', response.body.length);
  if (unread) headers.push('connection', 'close');
  res.writeHead(response.status, headers as string[]);
  // Headers and body in one write: node:http joins a string body to the header block, while a
  // buffer (even an empty one) makes it a gathered write of several pieces, which measured twice
  // as costly per response on loopback.
  if (response.body.length === 0) res.end();
  else if (response.body.length <= SMALL_BODY_BYTES) res.end(Buffer.from(response.body.buffer, response.body.byteOffset, response.body.length).toString('latin1'), 'latin1');
  else res.end(response.body);
  if (unread) res.on('finish', () => body.discard());
}

export async function serve(handler: Handler, options: { host: string; port: number; timeouts?: ServerTimeouts }): Promise<Served> {
  const timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
  const server = http.createServer(
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      connectionsCheckingInterval: timeouts.checkEveryMs,
    },
    (req, res) => void answer(handler, req, res),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${options.host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
