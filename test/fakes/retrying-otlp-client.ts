import { setTimeout as sleep } from 'node:timers/promises';

/*
 * An OTLP/HTTP client that retries the way the OpenTelemetry exporters do
 * (opentelemetry-js otlp-exporter-base: retrying transport): on 429, 502, 503 and 504 only, at most
 * 5 attempts, waiting Retry-After when given, else an exponential backoff from 1 s (x1.5, at most
 * 5 s) with jitter. A connection error is not retried. `timeScale` shortens every wait for tests.
 */

const RETRYABLE = new Set([429, 502, 503, 504]);
const MAX_ATTEMPTS = 5;

export interface ExportResult {
  /** The final HTTP status; 0 when the connection failed. */
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
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...headers }, body });
      await response.arrayBuffer();
    } catch {
      return { status: 0, attempts: attempt, retryAfters };
    }
    if (!RETRYABLE.has(response.status) || attempt === MAX_ATTEMPTS) return { status: response.status, attempts: attempt, retryAfters };
    const header = response.headers.get('retry-after');
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
