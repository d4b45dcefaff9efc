import { setTimeout as sleep } from 'node:timers/promises';
import { signalNamed, type Signal } from '../otlp/signals.js';
import type { Forward } from '../relay/outcome.js';
import type { SpoolGauge, SpoolMeasure } from './spool-gauge.js';
import type { SpooledItem, SpoolStore } from './spool-store.js';

export interface ReplayDeps {
  store: SpoolStore;
  gauge: SpoolGauge;
  /** The forward path without the spool: token refresh over the HTTP upstream. */
  forward: Forward;
  tableFor: (signal: Signal) => string;
  log: { info(message: string): void; warn(message: string): void };
  /** Lease per blob; it must outlast one upstream attempt, or another instance may send the blob too. */
  leaseSeconds: number;
  /** Blobs in flight at once. */
  concurrency?: number;
  backoff?: { initialMs: number; maxMs: number };
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
}

export interface ReplayReport {
  replayed: number;
  deadLettered: number;
  /** How the run ended: the spool was emptied (of what it could take), the upstream still fails, or time ran out. */
  ended: 'drained' | 'upstream-failing' | 'out-of-time';
  /** When the upstream fails: the next attempt is not before this (ISO). */
  nextAttemptAt?: string;
}

export type SpoolReplayer = (budgetMs: number) => Promise<ReplayReport>;

type Result = 'removed' | 'kept' | 'failed';

/**
 * Drains the spool oldest first. A blob is leased, read and sent through the normal forward path;
 * deleted only once the upstream accepted it; moved to the dead letters when the upstream refuses
 * the data itself (400, 413); left for later on anything retryable. When the upstream fails the pass
 * stops sending and the next waits an exponentially growing, jittered delay. Each pass also lists
 * the spool in full, which is what sets the gauge (size, oldest age).
 *
 * Ordering: listing is oldest first and `concurrency` blobs are in flight at once, so replay is
 * oldest first up to that overlap. New exports do not wait for the spool: they go straight upstream,
 * so during a recovery newer data can land before older spooled data.
 */
export function spoolReplayer(deps: ReplayDeps): SpoolReplayer {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const wait = deps.sleep ?? sleep;
  const concurrency = deps.concurrency ?? 8;
  const backoff = deps.backoff ?? { initialMs: 1000, maxMs: 60_000 };
  let failures = 0;
  let notBefore = 0;
  let running: Promise<ReplayReport> | undefined;

  async function replayOne(item: SpooledItem, counts: { replayed: number; deadLettered: number }): Promise<Result> {
    const lease = await deps.store.lease(item, deps.leaseSeconds);
    if (!lease) return 'kept'; // another instance has it, or already finished it
    let released = false;
    try {
      const signal = signalNamed(item.signal);
      if (!signal) {
        await lease.deadLetter(`not a spooled export of a known signal: ${item.name}`);
        released = true;
        deps.gauge.removed(item.size, 'deadLettered');
        counts.deadLettered++;
        return 'removed';
      }
      const { protobuf, table } = await lease.read();
      const current = deps.tableFor(signal);
      if (table !== undefined && table !== current) deps.log.warn(`spool: ${item.name} was spooled for ${table}; replaying to ${current} (the table setting changed)`);
      const outcome = await deps.forward(signal, [protobuf]);
      if (outcome.kind === 'accepted') {
        await lease.delete();
        released = true;
        deps.gauge.removed(item.size, 'replayed');
        counts.replayed++;
        return 'removed';
      }
      if (outcome.kind === 'rejected') {
        await lease.deadLetter(`upstream ${outcome.status}: ${outcome.reason}`);
        released = true;
        deps.gauge.removed(item.size, 'deadLettered');
        counts.deadLettered++;
        deps.log.warn(`spool: ${item.name} dead-lettered: upstream ${outcome.status}: ${outcome.reason}`);
        return 'removed';
      }
      return 'failed'; // retryable: the upstream still cannot take it
    } catch (err) {
      // Storage trouble: the blob stays (its lease expires); sending it again later is safe.
      deps.log.warn(`spool: replay of ${item.name} interrupted: ${(err as Error).message.split('\n')[0]}`);
      return 'kept';
    } finally {
      if (!released) await lease.release();
    }
  }

  /** One full listing; sends while the upstream takes them and time remains. */
  async function pass(deadline: number, counts: { replayed: number; deadLettered: number }): Promise<{ removed: number; failed: boolean }> {
    const measure: SpoolMeasure = { blobs: 0, bytes: 0, oldestReceivedAt: undefined };
    const keep = (item: SpooledItem) => (measure.oldestReceivedAt = Math.min(measure.oldestReceivedAt ?? item.receivedAt, item.receivedAt));
    const inflight = new Set<Promise<void>>();
    let sending = true;
    let removed = 0;
    for await (const item of deps.store.list()) {
      measure.blobs++;
      measure.bytes += item.size;
      while (sending && inflight.size >= concurrency) await Promise.race(inflight);
      if (!sending || item.leased || now() >= deadline) {
        keep(item);
        continue;
      }
      const work = replayOne(item, counts).then((result) => {
        if (result === 'failed') sending = false;
        if (result === 'removed') {
          removed++;
          measure.blobs--;
          measure.bytes -= item.size;
        } else {
          keep(item);
        }
      });
      const tracked = work.finally(() => inflight.delete(tracked));
      inflight.add(tracked);
    }
    await Promise.all(inflight);
    deps.gauge.measured(measure);
    return { removed, failed: !sending };
  }

  function backoffMs(): number {
    const full = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(30, failures - 1));
    return full / 2 + (random() * full) / 2; // "equal jitter": instances that failed together spread out
  }

  async function drain(budgetMs: number): Promise<ReplayReport> {
    const deadline = now() + budgetMs;
    const counts = { replayed: 0, deadLettered: 0 };
    let ended: ReplayReport['ended'] = 'out-of-time';
    while (now() < deadline) {
      if (now() < notBefore) {
        if (notBefore >= deadline) {
          ended = 'upstream-failing';
          break;
        }
        await wait(notBefore - now());
      }
      const { removed, failed } = await pass(deadline, counts);
      if (failed) {
        failures++;
        notBefore = now() + backoffMs();
        ended = 'upstream-failing';
        continue;
      }
      failures = 0;
      // Nothing taken (empty, or all of it leased elsewhere): done until the next run.
      if (removed === 0) {
        ended = 'drained';
        break;
      }
      ended = 'out-of-time';
    }
    const report: ReplayReport = { ...counts, ended };
    if (failures > 0) report.nextAttemptAt = new Date(notBefore).toISOString();
    const stats = deps.gauge.stats();
    if (report.replayed + report.deadLettered > 0 || stats.blobs > 0) {
      deps.log.info(
        `spool: replayed ${report.replayed}, dead-lettered ${report.deadLettered}; ${stats.blobs} exports (${stats.bytes} bytes) left, oldest ${stats.oldestAgeSeconds ?? 0} s; ${ended}` +
          (report.nextAttemptAt ? `, next attempt ${report.nextAttemptAt}` : ''),
      );
    }
    return report;
  }

  // One drain at a time per process; a second call shares the running one.
  return (budgetMs) => (running ??= drain(budgetMs).finally(() => (running = undefined)));
}
