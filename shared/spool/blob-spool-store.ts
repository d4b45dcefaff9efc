import { randomUUID } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import type { SpoolEntry, SpooledItem, SpoolLease, SpoolStore } from './spool-store.js';

export const SPOOL_CONTAINER = 'relay-spool';
export const DEAD_LETTER_CONTAINER = 'relay-spool-dead-letter';

/*
 * Blob names start with the receive time in ISO form, so the service's listing (always in name
 * order) is oldest first: `2026-11-22T23:30:04.123Z-<uuid>.<signal>.pb`. The body is the protobuf
 * exactly as it would have gone upstream; metadata carries the target table and the receive time.
 */
const NAME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)-[0-9a-f-]{36}\.([a-z]+)\.pb$/;

export function spoolBlobName(entry: Pick<SpoolEntry, 'signal' | 'receivedAt'>): string {
  return `${new Date(entry.receivedAt).toISOString()}-${randomUUID()}.${entry.signal}.pb`;
}

/** Blob metadata values are ASCII header values: anything else is percent-encoded. */
function metadataValue(value: string, maxChars = 1024): string {
  return encodeURIComponent(value).slice(0, maxChars);
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

async function readAll(stream: NodeJS.ReadableStream | undefined): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  if (stream) for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The spool in two blob containers of the Functions app's own storage account: spooled exports, and
 * those the upstream refused for good (dead letters). Containers are created on first use when missing
 * (infra/ creates them in Azure). Leases keep replayers on several instances off each other's blobs.
 */
export function blobSpoolStore(spool: ContainerClient, deadLetters: ContainerClient): SpoolStore {
  let ready: Promise<unknown> | undefined;
  const ensureContainers = () =>
    (ready ??= Promise.all([spool.createIfNotExists(), deadLetters.createIfNotExists()]).catch((err: unknown) => {
      ready = undefined; // try again next time
      throw err;
    }));

  return {
    async write(entry) {
      await ensureContainers();
      const body = entry.protobuf.length === 1 ? entry.protobuf[0]! : Buffer.concat(entry.protobuf);
      await spool.getBlockBlobClient(spoolBlobName(entry)).uploadData(body, {
        blobHTTPHeaders: { blobContentType: 'application/x-protobuf' },
        metadata: { signal: entry.signal, table: metadataValue(entry.table), receivedat: new Date(entry.receivedAt).toISOString() },
        conditions: { ifNoneMatch: '*' },
      });
    },

    async *list() {
      await ensureContainers();
      for await (const blob of spool.listBlobsFlat()) {
        const match = NAME.exec(blob.name);
        yield {
          name: blob.name,
          signal: match?.[2] ?? '',
          receivedAt: match ? Date.parse(match[1]!) : (blob.properties.createdOn?.getTime() ?? 0),
          size: blob.properties.contentLength ?? 0,
          leased: blob.properties.leaseState === 'leased',
        } satisfies SpooledItem;
      }
    },

    async lease(item, seconds) {
      const blob = spool.getBlobClient(item.name);
      const leaseClient = blob.getBlobLeaseClient();
      try {
        await leaseClient.acquireLease(seconds);
      } catch (err) {
        if (statusOf(err) === 409 || statusOf(err) === 404) return undefined;
        throw err;
      }
      const conditions = { leaseId: leaseClient.leaseId };
      let read: { protobuf: Uint8Array; table: string | undefined; metadata: Record<string, string> } | undefined;
      const lease: SpoolLease = {
        async read() {
          const download = await blob.download(0, undefined, { conditions });
          const metadata = download.metadata ?? {};
          const table = metadata.table === undefined ? undefined : decodeURIComponent(metadata.table);
          read = { protobuf: await readAll(download.readableStreamBody), table, metadata };
          return read;
        },
        async delete() {
          await blob.delete({ conditions });
        },
        async deadLetter(reason) {
          if (!read) await lease.read();
          const { protobuf, metadata } = read!;
          await deadLetters.getBlockBlobClient(item.name).uploadData(protobuf, {
            blobHTTPHeaders: { blobContentType: 'application/x-protobuf' },
            metadata: { ...metadata, reason: metadataValue(reason), deadletteredat: new Date().toISOString() },
          });
          await blob.delete({ conditions });
        },
        async release() {
          await leaseClient.releaseLease().catch(() => undefined); // it expires by itself anyway
        },
      };
      return lease;
    },
  };
}
