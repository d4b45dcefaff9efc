import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { otlpRows } from '../../shared/local/otlp-rows.js';
import { azuriteConnectionString } from '../../shared/local/start-azurite.js';
import { TelemetryDb } from '../../shared/local/telemetry-db.js';
import { signalNamed, type SignalName } from '../../shared/otlp/signals.js';
import { SPOOL_CONTAINER } from '../../shared/spool/index.js';
import { duckdbUsageStore } from '../../shared/usage/duckdb-usage-store.js';
import { rollupUsage } from '../../shared/usage/rollup-usage.js';
import { bearerFor, TEST_SIGNING_KEY } from '../credentials.js';
import { exportWithRetry } from '../fakes/retrying-otlp-client.js';
import { fixtures } from '../fixtures.js';
import { markedExport, markersIn, switchableIngest, type Received, testAzurite } from './fixtures.js';

/*
 * kill -9 of the relay (npm start's entry point in a child process) at the two moments that matter:
 * after a spool write landed but before the client got its answer, and after the upstream accepted a
 * replayed export but before its blob was deleted. Nothing acknowledged may be lost; the second case
 * may send one export twice, and the usage roll-up must still count it once.
 */

interface Relay {
  child: ChildProcess;
  url: string;
}

const dir = mkdtempSync(join(tmpdir(), 'relay-crash-'));
const relays: ChildProcess[] = [];

async function startRelay(env: Record<string, string>): Promise<Relay> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'shared/local/main.ts'], {
    env: {
      PATH: process.env.PATH,
      LOCAL_PORT: '0',
      LOCAL_DUCKDB_PATH: join(dir, 'unused.duckdb'),
      DATABRICKS_TOKEN: 'dapi-test',
      RELAY_SIGNING_KEY: TEST_SIGNING_KEY,
      RELAY_SPOOL_REPLAY_INTERVAL_SECONDS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  relays.push(child);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}: ${out}`)));
  });
  return { child, url };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function kill9(relay: Relay): Promise<void> {
  return new Promise((resolve) => {
    relay.child.once('exit', () => resolve());
    relay.child.kill('SIGKILL');
  });
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/**
 * A pass-through proxy in front of Azurite that can swallow the answer to the next blob upload of the
 * spool: the blob is stored, the relay never hears so, and it is killed in that moment.
 */
async function azuriteProxy(target: string) {
  const base = new URL(target);
  let trap: (() => void) | undefined;
  const server = http.createServer((req, res) => {
    const upstream = http.request({ host: base.hostname, port: base.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        const isUpload = req.method === 'PUT' && req.url!.includes(`/${SPOOL_CONTAINER}/`) && !req.url!.includes('comp=');
        if (trap && isUpload && answer.statusCode === 201) {
          const sprung = trap;
          trap = undefined;
          return sprung(); // stored in Azurite; the answer is never passed on
        }
        res.writeHead(answer.statusCode!, answer.headers);
        res.end(Buffer.concat(chunks));
      });
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/devstoreaccount1`,
    /** Resolves when the next spool upload is stored and its answer held back. */
    swallowNextUpload: () => new Promise<void>((resolve) => (trap = resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('kill -9 of the relay', () => {
  let azurite: Awaited<ReturnType<typeof testAzurite>>;
  let ingest: Awaited<ReturnType<typeof switchableIngest>>;

  beforeAll(async () => {
    azurite = await testAzurite();
  }, 60_000);

  afterEach(async () => {
    for (const child of relays.splice(0)) child.kill('SIGKILL');
    await ingest?.close();
    // Each case starts from an empty spool.
    await BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(SPOOL_CONTAINER).deleteIfExists();
    await sleep(100);
  });

  afterAll(async () => {
    await azurite?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const spooledNames = async () => {
    const names: string[] = [];
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(SPOOL_CONTAINER);
    if (!(await container.exists())) return names;
    for await (const blob of container.listBlobsFlat()) names.push(blob.name);
    return names;
  };

  it('between the spool write and the answer: everything acknowledged, and the unanswered export too, reaches the ingest', async () => {
    ingest = await switchableIngest();
    ingest.setDown(true);
    const proxy = await azuriteProxy(azurite.blobEndpoint);
    // One port for both runs, so the client's retries reach the restarted relay.
    const env = { OTEL_INGEST_URL: `${ingest.url}/api/2.0/otel`, AzureWebJobsStorage: azuriteConnectionString(proxy.url), LOCAL_PORT: String(await freePort()) };
    try {
      const first = await startRelay(env);
      const authorization = await bearerFor('claude-code');
      const post = (relay: Relay, marker: string) => exportWithRetry(`${relay.url}/api/otel/v1/logs`, markedExport(marker), { authorization });
      const acknowledged: string[] = [];
      for (let i = 0; i < 5; i++) {
        expect((await post(first, `acked-${i}`)).status).toBe(200);
        acknowledged.push(`acked-${i}`);
      }
      const swallowed = proxy.swallowNextUpload();
      const unanswered = post(first, 'unanswered');
      await swallowed;
      await kill9(first);
      expect(await spooledNames()).toHaveLength(6); // stored, though its client never heard so

      ingest.setDown(false);
      await startRelay(env);
      // The client saw its connection reset and retries, as the OTel exporters do, until the new relay answers.
      expect((await unanswered).status).toBe(200);
      const markers = () => ingest.received.flatMap((r) => markersIn(r.body));
      await until('the spool to drain', async () => markers().length >= 6 && (await spooledNames()).length === 0);
      const counts = new Map<string, number>();
      for (const m of markers()) counts.set(m, (counts.get(m) ?? 0) + 1);
      for (const m of acknowledged) expect(counts.get(m), m).toBe(1);
      // The spooled copy is replayed and the client's retry went straight through: no idempotency key in
      // OTLP lets the relay tell them apart, so this export may arrive twice (usage drops it: see below).
      expect([1, 2]).toContain(counts.get('unanswered'));
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('between the replayed send and the delete: nothing lost, one duplicate, and the usage roll-up counts it once', async () => {
    ingest = await switchableIngest();
    ingest.setDown(true);
    const env = { OTEL_INGEST_URL: `${ingest.url}/api/2.0/otel`, AzureWebJobsStorage: azurite.connectionString };
    const first = await startRelay(env);
    for (const f of fixtures()) {
      const result = await exportWithRetry(`${first.url}/api/otel/v1/${f.signal}`, f.body, { 'content-type': f.contentType, authorization: await bearerFor(f.agent) });
      expect(result.status, f.file).toBe(200);
    }
    expect(await spooledNames()).toHaveLength(fixtures().length);

    // The replay sends Claude Code's request events; the ingest takes them and the relay dies before it hears back.
    const hung = ingest.hangAfterRecording((body) => body.includes('claude_code.api_request'));
    ingest.setDown(false);
    await hung;
    await kill9(first);

    await startRelay(env); // replays what is left once the dead relay's lease expires (15 s)
    await until('the spool to drain', async () => (await spooledNames()).length === 0, 90_000);

    const byContent = new Map<string, Received[]>();
    for (const r of ingest.received) {
      const key = r.body.toString('base64');
      byContent.set(key, [...(byContent.get(key) ?? []), r]);
    }
    expect(byContent.size).toBe(fixtures().length); // every export arrived
    const duplicated = [...byContent.values()].filter((copies) => copies.length > 1);
    expect(duplicated.length).toBeGreaterThanOrEqual(1);
    expect(duplicated.some((copies) => copies[0]!.body.includes('claude_code.api_request'))).toBe(true);

    // Usage from everything the ingest received equals usage from one copy of each export.
    const usageOf = async (received: Received[]) => {
      const names = { catalog: 'dev', schema: 'coding_agents', prefix: 'agents' };
      const db = await TelemetryDb.open(':memory:', names);
      try {
        for (const r of received) {
          const signal = signalNamed(/\/v1\/(\w+)$/.exec(r.path)![1]!)!;
          await db.append(signal.name as SignalName, otlpRows(signal.name, signal.request.decode(r.body)));
        }
        const store = duckdbUsageStore(db.connection);
        await rollupUsage(store, names, { from: '2026-11-21', to: '2026-11-23' }, new Date('2026-11-23T00:15:00Z'));
        return {
          usage: await store.query('SELECT * EXCLUDE (computed_at) FROM dev.coding_agents.agents_usage_daily ORDER BY ALL', {}),
          logRecords: (await store.query('SELECT count(*) AS n FROM dev.coding_agents.agents_otel_logs', {}))[0]!.n,
        };
      } finally {
        db.close();
      }
    };
    const withDuplicates = await usageOf(ingest.received);
    const once = await usageOf([...byContent.values()].map((copies) => copies[0]!));
    expect(Number(withDuplicates.logRecords)).toBeGreaterThan(Number(once.logRecords)); // the duplicate is in the raw table
    expect(withDuplicates.usage).toEqual(once.usage);
    expect(once.usage.some((row) => row.agent === 'claude-code' && row.input_tokens === '123')).toBe(true);
  }, 150_000);
});
