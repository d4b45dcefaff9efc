import type { PlainRequest, PlainResponse } from '../http.js';
import type { Caller } from '../identity/relay-credentials.js';
import { redact, type Log } from '../log.js';
import type { ValidExport } from '../otlp/codec.js';
import type { ProtobufParts } from '../otlp/protobuf-parts.js';
import { otlpType } from '../otlp/schema.js';
import { signalNamed } from '../otlp/signals.js';
import type { ExportHandler, ExportTrace } from '../relay/handle-export.js';
import type { ForwardOutcome } from '../relay/outcome.js';
import type { ExportOutcome, RelayMetrics } from './relay-metrics.js';

/** The export route as the app serves it: the pipeline plus the invocation's log. */
export type ObservedExportHandler = (signalName: string, request: PlainRequest, log: Log) => Promise<PlainResponse>;

/** Filled by the pipeline as the export passes (handle-export.ts calls it); read once the answer is known. */
class Trace implements ExportTrace {
  caller: Caller | undefined;
  recordsIn = 0;
  bytesIn = 0;
  bytesOut = 0;
  outcome: ForwardOutcome | undefined;
  forwardedAt = 0;
  upstreamSeconds: number | undefined;

  authenticated(caller: Caller | undefined): void {
    this.caller = caller;
  }

  received(bytes: number): void {
    this.bytesIn = bytes;
  }

  forwarding(exported: ValidExport, parts: ProtobufParts): void {
    this.recordsIn = exported.records;
    for (const part of parts) this.bytesOut += part.length;
    this.forwardedAt = performance.now();
  }

  forwarded(outcome: ForwardOutcome): void {
    this.outcome = outcome;
    this.upstreamSeconds = (performance.now() - this.forwardedAt) / 1000;
  }
}

/** What became of an export: from the upstream's outcome when it was forwarded, else from the status. */
export function exportOutcome(status: number, forwarded: ForwardOutcome | undefined): ExportOutcome {
  switch (forwarded?.kind) {
    case 'accepted':
      return 'accepted';
    case 'rejected':
      return 'upstream_rejected';
    case 'retryable':
    case 'unauthorized':
      return 'upstream_retryable';
  }
  if (status < 300) return 'accepted'; // an empty export: nothing to forward
  if (status === 401) return 'refused_auth';
  if (status === 413) return 'too_large';
  if (status === 429 || status === 503) return 'unavailable';
  if (status >= 500) return 'error';
  return 'refused_client';
}

/**
 * The relay's own view of each export: counted in the metrics (all of them), logged as one JSON line
 * when refused or failed (accepted ones only when `logAccepted`: at thousands per second a line each
 * would cost more than the export). A handler that throws is counted as `error` and left to the route's
 * catch-all, which logs it.
 */
export function observeExports(handle: ExportHandler, metrics: RelayMetrics, options: { logAccepted: boolean }): ObservedExportHandler {
  return async (signalName, request, log) => {
    const started = performance.now();
    const known = signalNamed(signalName)?.name;
    const signal = known ?? 'unknown'; // never a label from the URL as it came
    const trace = new Trace();
    metrics.inflight++;
    let response: PlainResponse | undefined;
    try {
      response = await handle(signalName, request, trace);
      return response;
    } finally {
      metrics.inflight--;
      const seconds = (performance.now() - started) / 1000;
      const status = response?.status ?? 500;
      const outcome = response ? exportOutcome(status, trace.outcome) : 'error';
      const agent = trace.caller?.agent ?? 'unknown';
      const { recordsIn } = trace;
      metrics.export({
        signal,
        agent,
        outcome,
        recordsIn,
        recordsOut: outcome === 'accepted' ? recordsIn : 0,
        bytesIn: trace.bytesIn,
        bytesOut: trace.bytesOut,
        seconds,
        upstreamSeconds: trace.upstreamSeconds,
      });
      if (response && (outcome !== 'accepted' || options.logAccepted)) {
        const fields = { route: 'otel', signal, agent, status, outcome, records: recordsIn, durationMs: Math.round(seconds * 10_000) / 10, reason: outcome === 'accepted' ? undefined : reasonOf(response, trace.outcome) };
        if (outcome === 'accepted') log.info('export.accepted', fields);
        else if (outcome === 'error') log.error('export.failed', fields);
        else log.warn(outcome.startsWith('upstream') || outcome === 'unavailable' ? 'export.failed' : 'export.refused', fields);
      }
    }
  };
}

const RpcStatus = otlpType('RpcStatus');

/** The reason the client was given (the google.rpc.Status message), read back for the log. */
function reasonOf(response: PlainResponse, outcome: ForwardOutcome | undefined): string {
  if (outcome && outcome.kind !== 'accepted') return redact(outcome.kind === 'unauthorized' ? `upstream refused the relay credentials (HTTP ${outcome.upstreamStatus})` : outcome.reason);
  try {
    const message = response.headers['content-type'] === 'application/x-protobuf'
      ? (RpcStatus.decode(response.body) as unknown as { message?: string }).message
      : (JSON.parse(Buffer.from(response.body).toString('utf8')) as { message?: string }).message;
    return redact(message ?? '');
  } catch {
    return '';
  }
}
