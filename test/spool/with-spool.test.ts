import { describe, expect, it } from 'vitest';
import { signalNamed } from '../../shared/otlp/signals.js';
import type { Forward, ForwardOutcome } from '../../shared/relay/outcome.js';
import { SpoolGauge, withSpool, type SpoolEntry, type SpoolStore } from '../../shared/spool/index.js';

/** A spool store held in memory that can be told to fail its writes. */
function memoryStore(options: { failWrites?: boolean } = {}): SpoolStore & { entries: SpoolEntry[] } {
  const entries: SpoolEntry[] = [];
  return {
    entries,
    async write(entry) {
      if (options.failWrites) throw new Error('connect ECONNREFUSED 127.0.0.1:10000');
      entries.push(entry);
    },
    async *list() {},
    async lease() {
      return undefined;
    },
  };
}

const logs = signalNamed('logs')!;
const parts = [new Uint8Array([1, 2]), new Uint8Array([3])];
const answering = (outcome: ForwardOutcome): Forward => async () => outcome;
const tableFor = () => 'dev.coding_agents.agents_otel_logs';

describe('withSpool', () => {
  it.each<[string, ForwardOutcome]>([
    ['upstream 429', { kind: 'retryable', status: 429, retryAfterSeconds: 2, reason: 'upstream is throttling' }],
    ['upstream 5xx, timeout or connection error', { kind: 'retryable', status: 503, retryAfterSeconds: 1, reason: 'upstream timed out' }],
    ['no Databricks token', { kind: 'retryable', status: 503, retryAfterSeconds: 2, reason: 'relay credentials unavailable' }],
  ])('spools the export as it would have been sent and answers accepted on %s', async (_case, outcome) => {
    const store = memoryStore();
    const gauge = new SpoolGauge(1024, () => 5000);
    const forward = withSpool(answering(outcome), { store, gauge, tableFor, warn: () => undefined, now: () => 1234 });
    expect(await forward(logs, parts)).toEqual({ kind: 'accepted', body: new Uint8Array() });
    expect(store.entries).toEqual([{ signal: 'logs', table: 'dev.coding_agents.agents_otel_logs', receivedAt: 1234, protobuf: parts }]);
    expect(gauge.stats()).toMatchObject({ spooled: 1, blobs: 1, bytes: 3, oldestAgeSeconds: 4 });
  });

  it.each<[string, ForwardOutcome]>([
    ['accepted', { kind: 'accepted', body: new Uint8Array([9]) }],
    ['upstream 400', { kind: 'rejected', status: 400, reason: 'upstream rejected the data: bad table' }],
    ['upstream 413', { kind: 'rejected', status: 413, reason: 'upstream refused the size: too big' }],
  ])('passes %s through without spooling', async (_case, outcome) => {
    const store = memoryStore();
    const forward = withSpool(answering(outcome), { store, gauge: new SpoolGauge(1024), tableFor, warn: () => undefined });
    expect(await forward(logs, parts)).toEqual(outcome);
    expect(store.entries).toEqual([]);
  });

  it('answers 503 with Retry-After when the spool is full, and writes nothing', async () => {
    const store = memoryStore();
    const gauge = new SpoolGauge(4);
    const warnings: string[] = [];
    const forward = withSpool(answering({ kind: 'retryable', status: 503, retryAfterSeconds: 1, reason: 'upstream unavailable (HTTP 500)' }), { store, gauge, tableFor, warn: (m) => warnings.push(m) });
    expect((await forward(logs, parts)).kind).toBe('accepted'); // 3 of 4 bytes
    expect(await forward(logs, parts)).toEqual({ kind: 'retryable', status: 503, retryAfterSeconds: 3, reason: 'upstream unavailable (HTTP 500); the relay spool is full' });
    expect(store.entries).toHaveLength(1);
    expect(gauge.stats()).toMatchObject({ spooled: 1, refusedFull: 1 });
    expect(warnings).toEqual(['spool full (4 bytes): logs export refused while upstream unavailable (HTTP 500)']);
  });

  it('keeps the retryable answer when the spool write fails', async () => {
    const outcome: ForwardOutcome = { kind: 'retryable', status: 503, retryAfterSeconds: 1, reason: 'upstream timed out' };
    const gauge = new SpoolGauge(1024);
    const warnings: string[] = [];
    const forward = withSpool(answering(outcome), { store: memoryStore({ failWrites: true }), gauge, tableFor, warn: (m) => warnings.push(m) });
    expect(await forward(logs, parts)).toEqual(outcome);
    expect(gauge.stats()).toMatchObject({ spooled: 0, writeFailures: 1, blobs: 0 });
    expect(warnings).toEqual(['spool write failed (Error: connect ECONNREFUSED 127.0.0.1:10000) while upstream timed out']);
  });
});
