import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Handler } from '../http.js';

export interface Served {
  server: http.Server;
  url: string;
  close(): Promise<void>;
}

/**
 * Serves a plain handler over node:http on loopback. Bodies (chunked or not) are read up to
 * `maxBodyBytes + 1`: a longer one reaches the handler cut at that length, so the handler answers
 * 413 in the caller's encoding, and the connection is closed instead of reading the rest.
 */
export async function serve(handler: Handler, options: { host: string; port: number; maxBodyBytes: number }): Promise<Served> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    const respond = async () => {
      const response = await handler({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        // Node already lower-cases names and joins repeated headers; set-cookie (an array) is never read.
        headers: req.headers as Record<string, string | undefined>,
        body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
      }).catch(() => ({ status: 500, headers: { 'content-type': 'text/plain' }, body: Buffer.from('internal error\n') }));
      res.writeHead(response.status, { ...response.headers, 'content-length': response.body.length, ...(truncated ? { connection: 'close' } : {}) });
      res.end(response.body);
      if (truncated) res.on('finish', () => req.destroy());
    };
    req.on('data', (chunk: Buffer) => {
      if (truncated) return;
      size += chunk.length;
      if (size > options.maxBodyBytes) {
        chunks.push(chunk.subarray(0, chunk.length - (size - options.maxBodyBytes - 1)));
        truncated = true;
        req.pause();
        void respond();
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => {
      if (!truncated) void respond();
    });
    req.on('error', () => res.destroy());
  });
  server.keepAliveTimeout = 65_000;
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
