import { setTimeout as sleep } from 'node:timers/promises';

/*
 * An OTLP/HTTP client that retries the way the OpenTelemetry JS exporters do (otlp-exporter-base:
 * is-export-retryable and the retrying transport): on 429, 502, 503 and 504 and on connection errors
 * (refused, reset), at most 5 attempts, waiting Retry-After when given, else an exponential backoff
 * from 1 s (x1.5, at most 5 s) with jitter. `timeScale` shortens every wait for tests.
 */

const RETRYABLE = new Set([429, 502, 503, 504]);
const MAX_ATTEMPTS = 5;

export interface ExportResult {
  /** The final HTTP status; 0 when the last attempt's connection failed. */
  status: number;
  attempts: number;
  /** Retry-After values (seconds) the client honoured. */
  retryAfters: number[];
}

export async function exportWithRetry(
  url: string,
  body: Uint8Array,
  headers: Record<string, string>,
  options: { timeScale?: number } = {},
): Promise<ExportResult> {
  const scale = options.timeScale ?? 1;
  const retryAfters: number[] = [];
  let backoffMs = 1000;
  for (let attempt = 1; ; attempt++) {
    let response: Response | undefined;
    try {
      response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...headers }, body });
      await response.arrayBuffer();
    } catch {
      response = undefined; // the connection failed: retried like a 503 without Retry-After
    }
    const status = response?.status ?? 0;
    if ((response && !RETRYABLE.has(status)) || attempt === MAX_ATTEMPTS) return { status, attempts: attempt, retryAfters };
    const header = response?.headers.get('retry-after') ?? null;
    let waitMs: number;
    if (header !== null && /^\d+$/.test(header)) {
      retryAfters.push(Number(header));
      waitMs = Number(header) * 1000;
    } else {
      waitMs = backoffMs * (0.8 + Math.random() * 0.4);
      backoffMs = Math.min(5000, backoffMs * 1.5);
    }
    await sleep(waitMs * scale);
  }
}
