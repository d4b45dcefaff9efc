import type { Forward } from './outcome.js';

/**
 * Caps exports in flight per process. Past the cap the client is told to come back shortly rather
 * than queued: an unbounded queue only turns an upstream slowdown into memory growth and timeouts.
 */
export function withConcurrencyLimit(forward: Forward, maxInflight: number): Forward {
  let inflight = 0;
  return async (signal, protobuf) => {
    if (inflight >= maxInflight) {
      return { kind: 'retryable', status: 503, retryAfterSeconds: 1, reason: 'relay is at capacity' };
    }
    inflight++;
    try {
      return await forward(signal, protobuf);
    } finally {
      inflight--;
    }
  };
}
