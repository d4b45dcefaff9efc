import { DefaultAzureCredential } from '@azure/identity';
import type { BlobServiceClient, StoragePipelineOptions } from '@azure/storage-blob';
import type { Signal } from '../otlp/signals.js';
import type { Forward } from '../relay/outcome.js';
import type { Settings, SpoolStorage } from '../settings.js';
import { blobSpoolStore, DEAD_LETTER_CONTAINER, SPOOL_CONTAINER } from './blob-spool-store.js';
import { spoolReplayer, type ReplayReport } from './replay-spool.js';
import { SpoolGauge, type SpoolStats } from './spool-gauge.js';
import { withSpool } from './with-spool.js';

/** The spool of one process: the writer decorator, the replay job and its numbers. */
export interface Spool {
  /** The forward path with the spool under it (wrap the path the replay does not use). */
  writer: Forward;
  /** Drains for at most `budgetMs` (the timer and the local runner call it). */
  replay(budgetMs?: number): Promise<ReplayReport>;
  stats(): SpoolStats;
}

/** A timer run drains this long at most, leaving room before the next run of a one-minute schedule. */
export const REPLAY_BUDGET_MS = 50_000;

/*
 * A spool write happens while the client waits (the OTel JS exporter allows 10 s per export), and a
 * failed write must turn into a 503 the client retries: few, short tries rather than the SDK's
 * default of minutes of backoff.
 */
const STORAGE_OPTIONS: StoragePipelineOptions = { retryOptions: { maxTries: 3, tryTimeoutInMs: 10_000, retryDelayInMs: 200, maxRetryDelayInMs: 1000 } };

/** The Blob Storage SDK is loaded only with the spool on: off, it would hold some 7 MB of heap for nothing. */
async function blobServiceFor(storage: SpoolStorage): Promise<BlobServiceClient> {
  const { BlobServiceClient } = await import('@azure/storage-blob');
  switch (storage.kind) {
    case 'connection-string':
      return BlobServiceClient.fromConnectionString(storage.connectionString, STORAGE_OPTIONS);
    case 'development':
      return BlobServiceClient.fromConnectionString('UseDevelopmentStorage=true', STORAGE_OPTIONS);
    case 'identity':
      // The same identity the Functions host uses for AzureWebJobsStorage (infra/app/api.bicep).
      return new BlobServiceClient(storage.blobServiceUri, new DefaultAzureCredential({ managedIdentityClientId: storage.clientId }), STORAGE_OPTIONS);
  }
}

export interface SpoolDeps {
  /** The forward path without the spool (token refresh over the HTTP upstream); the replay sends through it. */
  forward: Forward;
  tableFor: (signal: Signal) => string;
  log: { info(message: string): void; warn(message: string): void };
}

/** The spool the settings ask for; undefined when RELAY_SPOOL is off. */
export async function spoolFor(settings: Settings, deps: SpoolDeps): Promise<Spool | undefined> {
  const { spool } = settings;
  if (spool.mode === 'off' || !spool.storage) return undefined;
  const service = await blobServiceFor(spool.storage);
  const store = blobSpoolStore(service.getContainerClient(SPOOL_CONTAINER), service.getContainerClient(DEAD_LETTER_CONTAINER));
  const gauge = new SpoolGauge(spool.maxBytes);
  const replay = spoolReplayer({
    store,
    gauge,
    forward: deps.forward,
    tableFor: deps.tableFor,
    log: deps.log,
    // Longer than one upstream attempt (connect + response timeouts), within the service's 15-60 s.
    leaseSeconds: Math.min(60, Math.max(15, Math.ceil((2 * settings.upstreamTimeoutMs) / 1000) + 5)),
  });
  return {
    writer: withSpool(deps.forward, { store, gauge, tableFor: deps.tableFor, warn: (m) => deps.log.warn(m) }),
    replay: (budgetMs = REPLAY_BUDGET_MS) => replay(budgetMs),
    stats: () => gauge.stats(),
  };
}
