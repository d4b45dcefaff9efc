import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite, type Azurite } from '../../shared/local/start-azurite.js';
import { otlpType } from '../../shared/otlp/schema.js';

/** An Azurite of the test's own, on an ephemeral port, with its data in a temporary folder. */
export async function testAzurite(): Promise<Azurite & { close(): Promise<void> }> {
  const location = mkdtempSync(join(tmpdir(), 'relay-azurite-'));
  const azurite = await startAzurite({ location });
  return Object.assign(azurite, {
    async close() {
      await azurite.stop();
      rmSync(location, { recursive: true, force: true });
    },
  });
}

const LogsRequest = otlpType('ExportLogsServiceRequest');

/** A distinct logs export: one record whose body is `marker`, so the ingest can count by content. */
export function markedExport(marker: string): Uint8Array {
  return LogsRequest.encode(
    LogsRequest.fromObject({
      resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'spool-test' } }] }, scopeLogs: [{ logRecords: [{ timeUnixNano: '1763769600000000000', body: { stringValue: marker } }] }] }],
    }),
  ).finish();
}

/** The markers in what an ingest received (every log record body of every request). */
export function markersIn(body: Uint8Array): string[] {
  const request = LogsRequest.toObject(LogsRequest.decode(body)) as { resourceLogs?: { scopeLogs?: { logRecords?: { body?: { stringValue?: string } }[] }[] }[] };
  return (request.resourceLogs ?? []).flatMap((r) => r.scopeLogs ?? []).flatMap((s) => s.logRecords ?? []).map((l) => l.body?.stringValue ?? '');
}

export interface Received {
  path: string;
  table: string | undefined;
  body: Buffer;
}

/**
 * A loopback ingest that is up (200) or down (503), records every export it accepted, and can be told
 * to accept one matching export and then never answer (the relay dies waiting for it).
 */
export async function switchableIngest() {
  const received: Received[] = [];
  let attempts = 0;
  let down = false;
  let hangOn: ((body: Buffer) => boolean) | undefined;
  let onHang: (() => void) | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      attempts++;
      const body = Buffer.concat(chunks);
      if (down) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        return void res.end('ingest down');
      }
      received.push({ path: req.url ?? '', table: req.headers['x-databricks-uc-table-name'] as string | undefined, body });
      if (hangOn?.(body)) {
        hangOn = undefined;
        onHang?.();
        return; // accepted, but the answer never comes
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    attempts: () => attempts,
    setDown(value: boolean) {
      down = value;
    },
    /** Resolves once an export matching `predicate` was recorded and left unanswered. */
    hangAfterRecording(predicate: (body: Buffer) => boolean): Promise<void> {
      hangOn = predicate;
      return new Promise((resolve) => (onHang = resolve));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
