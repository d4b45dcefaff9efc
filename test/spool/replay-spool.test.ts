import { silentLog } from '../../shared/log.js';
import net from 'node:net';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../shared/app.js';
import { azuriteConnectionString } from '../../shared/local/start-azurite.js';
import type { Forward, ForwardOutcome } from '../../shared/relay/outcome.js';
import { blobSpoolStore, DEAD_LETTER_CONTAINER, SPOOL_CONTAINER, SpoolGauge, spoolReplayer, type SpoolStore } from '../../shared/spool/index.js';
import { bearerFor, TEST_SIGNING_KEY } from '../credentials.js';
import { markedExport, markersIn, switchableIngest, testAzurite } from './fixtures.js';
import { bufferedBody } from '../../shared/http.js';

const quiet = silentLog;
const tableFor = () => 'dev.coding_agents.agents_otel_logs';

describe('spoolReplayer on Azurite', () => {
  let azurite: Awaited<ReturnType<typeof testAzurite>>;
  let spool: ContainerClient;
  let deadLetters: ContainerClient;
  let store: SpoolStore;

  beforeAll(async () => {
    azurite = await testAzurite();
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    spool = service.getContainerClient(SPOOL_CONTAINER);
    deadLetters = service.getContainerClient(DEAD_LETTER_CONTAINER);
    store = blobSpoolStore(spool, deadLetters);
    await Promise.all([spool.createIfNotExists(), deadLetters.createIfNotExists()]);
  }, 60_000);
  afterAll(() => azurite?.close());
  beforeEach(async () => {
    for await (const blob of spool.listBlobsFlat()) await spool.getBlobClient(blob.name).getBlobLeaseClient().breakLease(0).catch(() => undefined);
    for await (const blob of spool.listBlobsFlat()) await spool.deleteBlob(blob.name);
  });

  /** A forward that answers by the export's marker and records what it was sent, in order. */
  function scripted(answer: (marker: string) => ForwardOutcome): Forward & { sent: string[] } {
    const sent: string[] = [];
    return Object.assign(async (_signal: unknown, parts: readonly Uint8Array[]) => {
      const marker = markersIn(Buffer.concat(parts))[0]!;
      sent.push(marker);
      return answer(marker);
    }, { sent });
  }

  const spoolThree = async () => {
    for (const [i, marker] of ['first', 'second', 'third'].entries()) {
      await store.write({ signal: 'logs', table: tableFor(), receivedAt: Date.parse('2026-11-22T10:00:00Z') + i * 1000, protobuf: [markedExport(marker)] });
    }
  };

  it('sends oldest first, deletes what the upstream accepted and dead-letters a 400 with its reason', async () => {
    await spoolThree();
    const forward = scripted((m) => (m === 'second' ? { kind: 'rejected', status: 400, reason: 'upstream rejected the data: schema mismatch' } : { kind: 'accepted', body: new Uint8Array() }));
    const gauge = new SpoolGauge(1024 ** 2);
    const replay = spoolReplayer({ store, gauge, forward, tableFor, log: quiet, leaseSeconds: 15, concurrency: 1 });
    expect(await replay(10_000)).toEqual({ replayed: 2, deadLettered: 1, ended: 'drained' });
    expect(forward.sent).toEqual(['first', 'second', 'third']);
    const left: string[] = [];
    for await (const blob of spool.listBlobsFlat()) left.push(blob.name);
    expect(left).toEqual([]);
    const dead = [];
    for await (const blob of deadLetters.listBlobsFlat({ includeMetadata: true })) dead.push(blob);
    expect(dead).toHaveLength(1);
    expect(decodeURIComponent(dead[0]!.metadata!.reason!)).toBe('upstream 400: upstream rejected the data: schema mismatch');
    expect(dead[0]!.metadata).toMatchObject({ signal: 'logs', table: 'dev.coding_agents.agents_otel_logs', receivedat: '2026-11-22T10:00:01.000Z' });
    expect(markersIn(await deadLetters.getBlobClient(dead[0]!.name).downloadToBuffer())).toEqual(['second']);
    expect(gauge.stats()).toMatchObject({ replayed: 2, deadLettered: 1, blobs: 0, bytes: 0, oldestAgeSeconds: null });
  });

  it('stops at the first retryable outcome, keeps every blob, and backs off with jitter', async () => {
    await spoolThree();
    const forward = scripted(() => ({ kind: 'retryable', status: 503, retryAfterSeconds: 1, reason: 'upstream unavailable (HTTP 503)' }));
    let clock = Date.parse('2026-11-22T10:05:00Z');
    const gauge = new SpoolGauge(1024 ** 2, () => clock);
    const waits: number[] = [];
    const replay = spoolReplayer({
      store, gauge, forward, tableFor, log: quiet, leaseSeconds: 15, concurrency: 1,
      now: () => clock, random: () => 1, sleep: async (ms) => { waits.push(ms); clock += ms; },
    });
    const report = await replay(10_000);
    expect(report).toMatchObject({ replayed: 0, deadLettered: 0, ended: 'upstream-failing' });
    // 1 s, 2 s, 4 s, then the next (8 s) would fall past the 10 s budget.
    expect(waits).toEqual([1000, 2000, 4000]);
    expect(forward.sent).toEqual(['first', 'first', 'first', 'first']);
    expect(gauge.stats()).toMatchObject({ blobs: 3, oldestAgeSeconds: 307 }); // received 10:00:00, now 10:05:07
    let leased = 0;
    for await (const blob of spool.listBlobsFlat()) if (blob.properties.leaseState === 'leased') leased++;
    expect(leased).toBe(0); // released for the next attempt
  });

  it('leaves a blob another instance holds a lease on', async () => {
    await spoolThree();
    const [oldest] = await (async () => { const n: string[] = []; for await (const b of spool.listBlobsFlat()) n.push(b.name); return n; })();
    await spool.getBlobClient(oldest!).getBlobLeaseClient().acquireLease(15);
    const forward = scripted(() => ({ kind: 'accepted', body: new Uint8Array() }));
    const gauge = new SpoolGauge(1024 ** 2);
    expect(await spoolReplayer({ store, gauge, forward, tableFor, log: quiet, leaseSeconds: 15 })(10_000)).toMatchObject({ replayed: 2, ended: 'drained' });
    expect(forward.sent.sort()).toEqual(['second', 'third']);
    expect(gauge.stats()).toMatchObject({ blobs: 1 });
  });
});

describe('the relay with the ingest and the spool storage both down', () => {
  it('answers 503 with Retry-After', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const ingest = await switchableIngest();
    ingest.setDown(true);
    const app = await createApp(
      {
        OTEL_INGEST_URL: `${ingest.url}/api/2.0/otel`,
        DATABRICKS_TOKEN: 'dapi-test',
        RELAY_SIGNING_KEY: TEST_SIGNING_KEY,
        AzureWebJobsStorage: azuriteConnectionString(`http://127.0.0.1:${closedPort}/devstoreaccount1`),
      },
      quiet,
    );
    try {
      const response = await app.handle({
        method: 'POST',
        url: '/api/otel/v1/logs',
        headers: { 'content-type': 'application/x-protobuf', authorization: await bearerFor('codex') },
        body: bufferedBody(markedExport('lost?')),
      });
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(app.spoolStats()).toMatchObject({ spooled: 0, writeFailures: 1 });
    } finally {
      await app.close();
      await ingest.close();
    }
  });
});
