import type http from 'node:http';
import { fakeServer, type FakeServer, type RecordedRequest } from './http-server.js';

/** How the fake ingest answers one request. */
export type IngestBehaviour =
  | { status: number; headers?: Record<string, string>; body?: Uint8Array | string }
  | 'hang'
  | 'reset';

export interface FakeIngest extends FakeServer {
  /** Answers queued for the next requests; when empty, 200 with an empty protobuf body. */
  script: IngestBehaviour[];
  /** Requests carrying `Authorization: Bearer <refusedToken>` are answered 401 (a revoked token). */
  refusedToken: string | undefined;
}

/** A loopback stand-in for the Databricks OTel ingest endpoint with scriptable faults. */
export async function fakeDatabricksIngest(): Promise<FakeIngest> {
  const script: IngestBehaviour[] = [];
  const server = await fakeServer((req: RecordedRequest, res: http.ServerResponse) => {
    const refused = ingest.refusedToken !== undefined && req.headers.authorization === `Bearer ${ingest.refusedToken}`;
    const behaviour = refused ? { status: 401 } : (script.shift() ?? { status: 200 });
    if (behaviour === 'hang') return;
    if (behaviour === 'reset') return void res.socket?.destroy();
    res.writeHead(behaviour.status, { 'content-type': 'application/x-protobuf', ...behaviour.headers });
    res.end(behaviour.body ?? '');
  });
  const ingest: FakeIngest = Object.assign(server, { script, refusedToken: undefined as string | undefined });
  return ingest;
}
