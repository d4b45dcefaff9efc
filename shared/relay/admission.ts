/** The process holds as many request bytes as it may: the client should come back shortly. */
export class AtCapacityError extends Error {}

/** One admitted export: what it holds in memory, given back when it is answered. */
export interface Ticket {
  /** Counts `bytes` more against the shared budget; throws AtCapacityError when they do not fit. */
  hold(bytes: number): void;
  release(): void;
}

export interface Admission {
  /** A ticket, or undefined when `maxInflight` exports are already being handled. */
  enter(): Ticket | undefined;
}

/**
 * Caps exports in flight per process and the request bytes they hold together (as received and as
 * decompressed). Taken before any body is read, so shedding load costs no parsing; past either cap the
 * client is told to come back rather than queued: an unbounded queue only turns an upstream slowdown
 * into memory growth and timeouts.
 */
export function admission(maxInflight: number, maxBufferedBytes: number): Admission {
  let inflight = 0;
  let buffered = 0;
  return {
    enter() {
      if (inflight >= maxInflight) return undefined;
      inflight++;
      let held = 0;
      let released = false;
      return {
        hold(bytes) {
          if (buffered + bytes > maxBufferedBytes) throw new AtCapacityError('relay is at capacity');
          buffered += bytes;
          held += bytes;
        },
        release() {
          if (released) return;
          released = true;
          inflight--;
          buffered -= held;
        },
      };
    },
  };
}
