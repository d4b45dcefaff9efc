import type { Signal } from '../otlp/signals.js';
import type { Forward, ForwardOutcome } from '../relay/outcome.js';
import { MAX_RETRY_AFTER_SECONDS } from '../relay/classify-upstream.js';
import type { SpoolGauge } from './spool-gauge.js';
import type { SpoolStore } from './spool-store.js';

export interface SpoolWriterDeps {
  store: SpoolStore;
  gauge: SpoolGauge;
  tableFor: (signal: Signal) => string;
  warn: (message: string) => void;
  now?: () => number;
}

const EMPTY = new Uint8Array();

/**
 * Keeps what the upstream cannot take right now. Every export goes upstream first; when the outcome
 * is retryable (429, 5xx, timeout, connection error, no Databricks token) the export, as it would
 * have been sent, is written to the spool and the client gets its 200 only once that write
 * succeeded. Refusals of the data itself (400, 413) pass through: replaying them could never succeed.
 * A full spool or a failed write leaves the retryable answer, so the client keeps the data and retries.
 */
export function withSpool(forward: Forward, deps: SpoolWriterDeps): Forward {
  const now = deps.now ?? Date.now;
  return async (signal, protobuf): Promise<ForwardOutcome> => {
    const receivedAt = now();
    const outcome = await forward(signal, protobuf);
    if (outcome.kind !== 'retryable') return outcome;
    const size = protobuf.reduce((n, part) => n + part.length, 0);
    if (!deps.gauge.hasRoom(size)) {
      deps.gauge.refusedFull();
      deps.warn(`spool full (${deps.gauge.maxBytes} bytes): ${signal.name} export refused while ${outcome.reason}`);
      return { kind: 'retryable', status: 503, retryAfterSeconds: MAX_RETRY_AFTER_SECONDS, reason: `${outcome.reason}; the relay spool is full` };
    }
    try {
      await deps.store.write({ signal: signal.name, table: deps.tableFor(signal), receivedAt, protobuf });
    } catch (err) {
      deps.gauge.writeFailed();
      deps.warn(`spool write failed (${(err as Error).name}: ${(err as Error).message.split('\n')[0]}) while ${outcome.reason}`);
      return outcome;
    }
    deps.gauge.written(size, receivedAt);
    // The spool holds it now; the replay delivers it. The empty body is OTLP's full success.
    return { kind: 'accepted', body: EMPTY };
  };
}
