/*
 * npm run bench:spool (also run by npm run bench): the spool's write rate and replay rate against an
 * Azurite started for the run. Write: the relay's spool writer (withSpool) under an upstream that
 * always answers retryable, BENCH_SPOOL_CONCURRENCY writers at once, Claude Code's metrics export
 * (2,314 B). Replay: the replay job draining those blobs to a loopback ingest through the relay's own
 * upstream (undici pool + token refresh). Results land in test/bench/spool/last-run.json.
 * Settings: BENCH_SPOOL_EXPORTS (2000), BENCH_SPOOL_CONCURRENCY (32).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite } from '../../../shared/local/start-azurite.js';
import { signalNamed, type Signal } from '../../../shared/otlp/signals.js';
import { httpUpstream } from '../../../shared/relay/forward-http.js';
import { withTokenRefresh } from '../../../shared/relay/with-token-refresh.js';
import { blobSpoolStore, DEAD_LETTER_CONTAINER, SPOOL_CONTAINER, SpoolGauge, spoolReplayer, withSpool } from '../../../shared/spool/index.js';
import { FIXTURE_DIR } from '../../fixtures.js';

const EXPORTS = Number(process.env.BENCH_SPOOL_EXPORTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_SPOOL_CONCURRENCY ?? 32);
const quiet = { info() {}, warn() {} };

async function main(): Promise<void> {
  const location = mkdtempSync(join(tmpdir(), 'bench-azurite-'));
  const azurite = await startAzurite({ location });
  let received = 0;
  const ingest = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => ingest.listen(0, '127.0.0.1', resolve));
  try {
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const store = blobSpoolStore(service.getContainerClient(SPOOL_CONTAINER), service.getContainerClient(DEAD_LETTER_CONTAINER));
    const gauge = new SpoolGauge(1024 ** 4);
    const tableFor = (signal: Signal) => `main.telemetry.agents${signal.tableSuffix}`;
    const metrics = signalNamed('metrics')!;
    const body = readFileSync(join(FIXTURE_DIR, 'claude-code-2.1.197.metrics.pb'));

    const write = withSpool(async () => ({ kind: 'retryable', status: 503, retryAfterSeconds: 1, reason: 'upstream unavailable (HTTP 503)' }), { store, gauge, tableFor, warn: quiet.warn });
    await write(metrics, [body]); // creates the containers outside the timing
    let next = 1;
    const writeStart = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < EXPORTS) {
          next++;
          const outcome = await write(metrics, [body]);
          if (outcome.kind !== 'accepted') throw new Error(`spool write failed: ${JSON.stringify(outcome)}`);
        }
      }),
    );
    const writeSeconds = (performance.now() - writeStart) / 1000;

    const upstream = httpUpstream({ ingestUrl: `http://127.0.0.1:${(ingest.address() as AddressInfo).port}/api/2.0/otel`, tableHeader: 'X-Databricks-UC-Table-Name', tableFor, gzip: false, timeoutMs: 5000, maxSockets: 16 });
    const replay = spoolReplayer({ store, gauge, forward: withTokenRefresh(upstream, { token: async () => 'dapi-bench', invalidate() {} }, quiet.warn), tableFor, log: quiet, leaseSeconds: 15 });
    const replayStart = performance.now();
    const report = await replay(600_000);
    const replaySeconds = (performance.now() - replayStart) / 1000;
    await upstream.close();
    if (report.replayed !== EXPORTS || received !== EXPORTS) throw new Error(`replayed ${report.replayed}, ingest received ${received}, expected ${EXPORTS}`);

    const result = {
      at: new Date().toISOString(),
      node: process.version,
      exports: EXPORTS,
      exportBytes: body.length,
      writeConcurrency: CONCURRENCY,
      replayConcurrency: 8,
      writePerSecond: Math.round(EXPORTS / writeSeconds),
      replayPerSecond: Math.round(EXPORTS / replaySeconds),
      writeSeconds: Number(writeSeconds.toFixed(2)),
      replaySeconds: Number(replaySeconds.toFixed(2)),
    };
    writeFileSync(join(import.meta.dirname, 'last-run.json'), JSON.stringify(result, null, 2) + '\n');
    console.log(`spool against Azurite: write ${result.writePerSecond} exports/s (${CONCURRENCY} at once), replay ${result.replayPerSecond} exports/s (${EXPORTS} exports of ${body.length} B)`);
  } finally {
    ingest.close();
    await azurite.stop();
    rmSync(location, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
