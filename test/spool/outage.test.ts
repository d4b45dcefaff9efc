import { silentLog } from '../../shared/log.js';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../shared/app.js';
import { serve, type Served } from '../../shared/local/serve.js';
import type { Signal } from '../../shared/otlp/signals.js';
import { httpUpstream } from '../../shared/relay/forward-http.js';
import { withTokenRefresh } from '../../shared/relay/with-token-refresh.js';
import { blobSpoolStore, DEAD_LETTER_CONTAINER, SPOOL_CONTAINER, SpoolGauge, spoolReplayer, type SpoolReplayer } from '../../shared/spool/index.js';
import { bearerFor, TEST_SIGNING_KEY } from '../credentials.js';
import { exportWithRetry } from '../fakes/retrying-otlp-client.js';
import { markedExport, markersIn, switchableIngest, testAzurite } from './fixtures.js';
import { bufferedBody } from '../../shared/http.js';

/*
 * The ingest is down for a simulated 10 minutes while 1,000 distinct exports arrive through a client
 * that retries like the OpenTelemetry exporters. Every export must be acknowledged, and after the
 * ingest recovers every one must be there exactly once, counted by content. The relay (the app as
 * the local runner builds it) spools; a second replayer on a simulated clock stands for another
 * instance's timer during the outage (its backoff is what the simulated time exercises), and after
 * the recovery both drain at once, kept apart by blob leases.
 */

const quiet = silentLog;
const EXPORTS = 1000;
const MINUTES = 10;

describe('ingest down for a simulated 10 minutes', () => {
  let azurite: Awaited<ReturnType<typeof testAzurite>>;
  let ingest: Awaited<ReturnType<typeof switchableIngest>>;
  let app: App;
  let served: Served;
  let otherInstance: SpoolReplayer;
  let closeUpstream: () => Promise<void>;
  const clock = { now: Date.parse('2026-11-22T10:00:00Z') };
  let replayAttemptsDuringOutage = 0;

  beforeAll(async () => {
    [azurite, ingest] = await Promise.all([testAzurite(), switchableIngest()]);
    const env = {
      OTEL_INGEST_URL: `${ingest.url}/api/2.0/otel`,
      DATABRICKS_TOKEN: 'dapi-test',
      RELAY_SIGNING_KEY: TEST_SIGNING_KEY,
      AzureWebJobsStorage: azurite.connectionString,
    };
    app = await createApp(env, quiet);
    served = await serve(app.handle, { host: '127.0.0.1', port: 0 });

    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const tableFor = (signal: Signal) => `dev.coding_agents.agents${signal.tableSuffix}`;
    const upstream = httpUpstream({ ingestUrl: env.OTEL_INGEST_URL, tableHeader: 'X-Databricks-UC-Table-Name', tableFor, gzip: false, timeoutMs: 5000, maxSockets: 8 });
    closeUpstream = () => upstream.close();
    otherInstance = spoolReplayer({
      store: blobSpoolStore(service.getContainerClient(SPOOL_CONTAINER), service.getContainerClient(DEAD_LETTER_CONTAINER)),
      gauge: new SpoolGauge(1024 ** 3, () => clock.now),
      forward: withTokenRefresh(upstream, { token: async () => 'dapi-test', invalidate() {} }, () => undefined),
      tableFor,
      log: quiet,
      leaseSeconds: 15,
      now: () => clock.now,
      sleep: async (ms) => void (clock.now += ms),
      random: () => 0.5,
    });
  }, 60_000);

  afterAll(async () => {
    await served?.close();
    await app?.close();
    await closeUpstream?.();
    await Promise.all([azurite?.close(), ingest?.close()]);
  });

  it('acknowledges all 1,000 exports while the ingest is down, and backs off replaying', async () => {
    ingest.setDown(true);
    const authorization = await bearerFor('claude-code');
    const statuses: number[] = [];
    const nextAttempts: number[] = [];
    for (let minute = 0; minute < MINUTES; minute++) {
      const batch = Array.from({ length: EXPORTS / MINUTES }, (_, i) => `export-${minute * (EXPORTS / MINUTES) + i}`);
      // 20 clients at a time, as a fleet of agents would.
      for (let i = 0; i < batch.length; i += 20) {
        const results = await Promise.all(batch.slice(i, i + 20).map((marker) => exportWithRetry(`${served.url}/api/otel/v1/logs`, markedExport(marker), { authorization })));
        statuses.push(...results.map((r) => r.status));
      }
      const before = ingest.attempts();
      const end = clock.now + 60_000;
      const report = await otherInstance(60_000);
      clock.now = Math.max(clock.now, end);
      replayAttemptsDuringOutage += ingest.attempts() - before;
      expect(report).toMatchObject({ replayed: 0, ended: 'upstream-failing' });
      nextAttempts.push(Date.parse(report.nextAttemptAt!));
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(statuses).toHaveLength(EXPORTS);
    expect(app.spoolStats()).toMatchObject({ spooled: EXPORTS, writeFailures: 0 });
    // Backoff: attempts 1, 2, 4, ... 60 s apart (jitter fixed at the midpoint here), not one per blob.
    expect(replayAttemptsDuringOutage).toBeLessThanOrEqual(8 * 20);
    expect(replayAttemptsDuringOutage).toBeGreaterThan(0);
  }, 180_000);

  it('delivers every one exactly once after the ingest recovers, two replayers draining at once', async () => {
    ingest.setDown(false);
    clock.now += 60_000;
    const [mine, other] = await Promise.all([app.replaySpool(120_000), otherInstance(120_000)]);
    expect(mine!.replayed + other.replayed).toBe(EXPORTS);
    const counts = new Map<string, number>();
    for (const r of ingest.received) for (const m of markersIn(r.body)) counts.set(m, (counts.get(m) ?? 0) + 1);
    expect(counts.size).toBe(EXPORTS);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    for (let i = 0; i < EXPORTS; i++) expect(counts.has(`export-${i}`)).toBe(true);
    expect(new Set(ingest.received.map((r) => `${r.path} ${r.table}`))).toEqual(new Set(['/api/2.0/otel/v1/logs dev.coding_agents.agents_otel_logs']));
    // A fresh pass lists the now empty spool.
    await app.replaySpool(10_000);
    const health = JSON.parse(Buffer.from((await app.health({ method: 'GET', url: '/api/health', headers: {}, body: bufferedBody(new Uint8Array()) })).body).toString());
    expect(health.spool).toMatchObject({ exports: 0, bytes: 0, oldestAgeSeconds: null });
  }, 180_000);
});
