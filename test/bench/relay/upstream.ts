import http from 'node:http';
import type { AddressInfo } from 'node:net';

// The stand-in Databricks ingest for the benchmark: reads the body, answers 200 with an empty
// Export*ServiceResponse, and says which port it listens on.
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
    res.end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as AddressInfo).port}`));
