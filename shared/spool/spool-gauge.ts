/** The spool's numbers, for /api/health, metrics and logs. */
export interface SpoolStats {
  /** Exports this process wrote to the spool, replayed upstream, moved to dead letters; spool writes that failed. */
  spooled: number;
  replayed: number;
  deadLettered: number;
  writeFailures: number;
  /** Exports refused with 503 because the spool was full. */
  refusedFull: number;
  /** Spooled exports and their bytes (all instances): the last full listing, plus this process's changes since. */
  blobs: number;
  bytes: number;
  /** Age of the oldest spooled export, in seconds; null when the spool is empty. */
  oldestAgeSeconds: number | null;
  /** When the spool was last listed in full (ISO); null before the first listing. */
  measuredAt: string | null;
}

/** What one full listing found, less what the replay removed meanwhile. */
export interface SpoolMeasure {
  blobs: number;
  bytes: number;
  oldestReceivedAt: number | undefined;
}

/**
 * Counts and sizes of the spool. Each full listing (every replay pass) sets the size; between
 * listings this process adds what it writes and removes, so the size errs high, never low, when
 * other instances drain meanwhile. The cap is checked against it.
 */
export class SpoolGauge {
  private counts = { spooled: 0, replayed: 0, deadLettered: 0, writeFailures: 0, refusedFull: 0 };
  private measure: SpoolMeasure = { blobs: 0, bytes: 0, oldestReceivedAt: undefined };
  private measuredAt: number | undefined;

  constructor(
    readonly maxBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  hasRoom(size: number): boolean {
    return this.measure.bytes + size <= this.maxBytes;
  }

  written(size: number, receivedAt: number): void {
    this.counts.spooled++;
    this.measure.blobs++;
    this.measure.bytes += size;
    this.measure.oldestReceivedAt = Math.min(this.measure.oldestReceivedAt ?? receivedAt, receivedAt);
  }

  removed(size: number, how: 'replayed' | 'deadLettered'): void {
    this.counts[how]++;
    this.measure.blobs = Math.max(0, this.measure.blobs - 1);
    this.measure.bytes = Math.max(0, this.measure.bytes - size);
    if (this.measure.blobs === 0) this.measure.oldestReceivedAt = undefined;
  }

  writeFailed(): void {
    this.counts.writeFailures++;
  }

  refusedFull(): void {
    this.counts.refusedFull++;
  }

  /** A full listing's result replaces the running figures (removals during the listing already taken off). */
  measured(measure: SpoolMeasure): void {
    this.measure = { ...measure };
    this.measuredAt = this.now();
  }

  stats(): SpoolStats {
    const oldest = this.measure.oldestReceivedAt;
    return {
      ...this.counts,
      blobs: this.measure.blobs,
      bytes: this.measure.bytes,
      oldestAgeSeconds: oldest === undefined ? null : Math.max(0, Math.round((this.now() - oldest) / 1000)),
      measuredAt: this.measuredAt === undefined ? null : new Date(this.measuredAt).toISOString(),
    };
  }
}
