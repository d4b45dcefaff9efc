import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonResponse, type Handler } from '../../shared/http.js';
import { serve, type Served } from '../../shared/local/serve.js';

let served: Served | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

const echoLength: Handler = async (request) => jsonResponse(200, { length: (await request.body.read(1024)).length });

describe('serve', () => {
  it('hands the handler the body to read, and reads a posted one', async () => {
    served = await serve(echoLength, { host: '127.0.0.1', port: 0 });
    const response = await fetch(`${served.url}/x`, { method: 'POST', body: 'hello' });
    expect(await response.json()).toEqual({ length: 5 });
  });

  it('closes the connection after answering without reading the body', async () => {
    served = await serve(async () => jsonResponse(401, { error: 'no' }), { host: '127.0.0.1', port: 0 });
    const response = await fetch(`${served.url}/x`, { method: 'POST', body: Buffer.alloc(64 * 1024) });
    expect(response.status).toBe(401);
    expect(response.headers.get('connection')).toBe('close');
  });

  it.each([
    ['declared', 'Content-Length: 100000\r\n', ''],
    ['chunked', 'Transfer-Encoding: chunked\r\n', 'a\r\n'],
  ])('ends the read of a %s body whose client goes away, midway or before the read, with a refusal', async (_kind, framing, chunkHeader) => {
    const outcomes: string[] = [];
    let arrived = () => {};
    let gone = Promise.resolve();
    served = await serve(
      async (request) => {
        arrived();
        if (request.url === '/late') await gone; // read only once the client has gone
        try {
          await request.body.read(1 << 20);
          outcomes.push('read');
        } catch (err) {
          outcomes.push((err as Error).message);
        }
        return jsonResponse(200, {});
      },
      { host: '127.0.0.1', port: 0 },
    );
    const { port } = new URL(served.url);
    for (const path of ['/midway', '/late']) {
      let clientGone = () => {};
      gone = new Promise((resolve) => (clientGone = resolve));
      const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
      const socket = net.connect(Number(port), '127.0.0.1');
      socket.on('error', () => {});
      socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\n${framing}\r\n${chunkHeader}0123456789`);
      await requestArrived;
      await new Promise((r) => setTimeout(r, 50));
      socket.destroy();
      await new Promise((r) => setTimeout(r, 50));
      clientGone();
      const deadline = Date.now() + 2000;
      while (outcomes.length < (path === '/midway' ? 1 : 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    }
    expect(outcomes).toEqual(['request body could not be read: aborted', 'request body could not be read: aborted']);
  });

  it('closes slow and silent connections (slowloris) after the header timeout and keeps serving meanwhile', async () => {
    served = await serve(echoLength, { host: '127.0.0.1', port: 0, timeouts: { headersMs: 500, requestMs: 1000, keepAliveMs: 1000, checkEveryMs: 100 } });
    const { port } = new URL(served.url);
    const sockets: net.Socket[] = [];
    let closed = 0;
    let slowClosed = 0;
    for (let i = 0; i < 300; i++) {
      const socket = net.connect(Number(port), '127.0.0.1');
      socket.on('error', () => {});
      socket.resume(); // flowing, so that the server closing it is seen
      socket.on('close', () => (closed++, i % 2 === 0 ? slowClosed++ : 0));
      // Half send a request line and then a header byte at a time; the other half send nothing.
      if (i % 2 === 0) socket.write('POST /x HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      sockets.push(socket);
    }
    const trickle = setInterval(() => sockets.forEach((s, i) => i % 2 === 0 && !s.destroyed && s.write('a')), 100);
    try {
      const started = Date.now();
      const response = await fetch(`${served.url}/x`, { method: 'POST', body: 'ok' });
      expect(response.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(1000);
      const deadline = Date.now() + 5000;
      while (closed < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect({ closed, slowClosed }).toEqual({ closed: 300, slowClosed: 150 });
    } finally {
      clearInterval(trickle);
      sockets.forEach((s) => s.destroy());
    }
  });
});
