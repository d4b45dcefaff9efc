import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

// The floor for any Node relay: node:http in, the same undici pool out, the same two headers
// injected, and nothing else (no validation, no routing, no secrets). Argument: the upstream port.
const pool = new Pool(`http://127.0.0.1:${process.argv[2]}`, { connections: 64 });
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', async () => {
    const upstream = await pool.request({
      path: req.url ?? '/',
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', authorization: 'Bearer dapi-bench-token', 'x-databricks-uc-table-name': 'main.telemetry.agents_otel_metrics' },
      body: Buffer.concat(chunks),
    });
    await upstream.body.dump();
    res.writeHead(upstream.statusCode, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
    res.end();
  });
});
// Exits on SIGTERM (the bench stops it so) through process.exit, so that --cpu-prof writes its profile.
process.once('SIGTERM', () => process.exit(0));
server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as AddressInfo).port}`));
