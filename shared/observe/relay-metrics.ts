import type { TokenCredential } from '@azure/identity';
import type { SpoolStats } from '../spool/spool-gauge.js';
import type { Attributes, Histogram, Meter, ObservableResult } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type MetricReader } from '@opentelemetry/sdk-metrics';

/*
 * The relay's own metrics, with the OpenTelemetry API and SDK: read in Prometheus text at
 * GET /api/metrics, and exported to Azure Monitor when APPLICATIONINSIGHTS_CONNECTION_STRING is set.
 *
 * Cost on the hot path: the SDK hashes the attribute set of every synchronous `add`, which at five
 * counters per export would cost a few percent of the relay's throughput. Counters touched per export
 * are therefore summed in plain maps and reported through observable counters at collection time;
 * only the two latency histograms are recorded per export through the SDK.
 *
 * Adding a metric (e.g. the spool's): `metrics.meter.createCounter('relay_spool_writes', {...})` or an
 * observable one; every instrument on this meter appears in both places without further wiring.
 */

export type ExportOutcome =
  | 'accepted'
  | 'refused_client'
  | 'refused_auth'
  | 'too_large'
  | 'upstream_retryable'
  | 'upstream_rejected'
  /** Ours to fix, answered 503 before forwarding: a secret or key unavailable, start-up not finished. */
  | 'unavailable'
  /** A bug: answered 500 by the catch-all. */
  | 'error';

/** Latency buckets in seconds: the relay adds well under a millisecond; the upstream takes tens of ms. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Cumulative sums by attribute set, kept off the SDK's per-call path (see above). Up to three label
 * values, looked up level by level: no key string is built per export (joining them and hashing the
 * result cost more than the lookups).
 */
class Sums {
  private readonly byLabels = new Map<string, Map<string, Map<string, { attributes: Attributes; value: number }>>>();

  constructor(private readonly names: readonly string[]) {}

  add(value: number, a: string, b = '', c = ''): void {
    let second = this.byLabels.get(a);
    if (!second) this.byLabels.set(a, (second = new Map()));
    let third = second.get(b);
    if (!third) second.set(b, (third = new Map()));
    const entry = third.get(c);
    if (entry) entry.value += value;
    else third.set(c, { attributes: Object.fromEntries(this.names.map((name, i) => [name, [a, b, c][i]!])), value });
  }

  report(result: ObservableResult): void {
    for (const second of this.byLabels.values()) for (const third of second.values()) for (const { attributes, value } of third.values()) result.observe(value, attributes);
  }
}

export interface ExportFacts {
  signal: string;
  agent: string;
  outcome: ExportOutcome;
  recordsIn: number;
  /** Records the upstream holds (accepted minus any partial-success rejections are not told apart). */
  recordsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Wall time of the whole export, and of its upstream call when there was one. */
  seconds: number;
  upstreamSeconds: number | undefined;
}

/** Sources of counts other modules keep themselves, read at collection time. */
export interface CountSources {
  /** Reads sent to the secret source (Key Vault or environment), by outcome. */
  secretReads: () => Iterable<{ source: string; outcome: string; count: number }>;
  /** Relay credential checks answered from the verifier's cache, and those that verified a signature. */
  credentialCache: () => { hits: number; misses: number };
  /** The durable spool's counts and size; undefined when RELAY_SPOOL is off. */
  spool: () => SpoolStats | undefined;
}

export class RelayMetrics {
  /** Exports being handled right now (the wrapper counts them; read at collection). */
  inflight = 0;
  private readonly exports = new Sums(['signal', 'agent', 'outcome']);
  private readonly recordsIn = new Sums(['signal', 'agent']);
  private readonly recordsOut = new Sums(['signal', 'agent']);
  private readonly bytesIn = new Sums(['signal']);
  private readonly bytesOut = new Sums(['signal']);
  /** The histograms' attribute sets, one object per signal. */
  private readonly bySignal = new Map<string, Attributes>();
  private readonly addedLatency: Histogram;
  private readonly upstreamLatency: Histogram;

  constructor(
    readonly meter: Meter,
    sources: CountSources,
  ) {
    const observe = (name: string, description: string, sums: Sums, unit?: string) =>
      meter.createObservableCounter(name, { description, unit }).addCallback((result) => sums.report(result));
    observe('relay_exports', 'OTLP exports handled, by signal, agent and outcome', this.exports);
    observe('relay_records_in', 'records received (data points, log records, spans), by signal and agent', this.recordsIn);
    observe('relay_records_out', 'records in exports the upstream accepted, by signal and agent', this.recordsOut);
    observe('relay_bytes_in', 'request body bytes received, by signal (as sent, before decompression)', this.bytesIn, 'By');
    observe('relay_bytes_out', 'protobuf bytes sent upstream, by signal', this.bytesOut, 'By');
    meter.createObservableUpDownCounter('relay_exports_in_flight', { description: 'exports being handled now' }).addCallback((result) => result.observe(this.inflight));
    meter.createObservableCounter('relay_secret_reads', { description: 'reads sent to the secret source (Key Vault or environment), by outcome' }).addCallback((result) => {
      for (const { source, outcome, count } of sources.secretReads()) result.observe(count, { source, outcome });
    });
    meter.createObservableCounter('relay_credential_cache', { description: 'relay credential checks, answered from the cache (hit) or by verifying the signature (miss)' }).addCallback((result) => {
      const { hits, misses } = sources.credentialCache();
      result.observe(hits, { result: 'hit' });
      result.observe(misses, { result: 'miss' });
    });
    meter.createObservableCounter('relay_spool_exports', { description: 'exports the durable spool took in (spooled), sent on (replayed), moved to dead letters, failed to write, or refused as full' }).addCallback((result) => {
      const stats = sources.spool();
      if (!stats) return;
      for (const event of ['spooled', 'replayed', 'deadLettered', 'writeFailures', 'refusedFull'] as const) result.observe(stats[event], { event });
    });
    meter.createObservableGauge('relay_spool_bytes', { description: 'bytes held in the durable spool (all instances, as of the last listing)', unit: 'By' }).addCallback((result) => {
      const stats = sources.spool();
      if (stats) result.observe(stats.bytes);
    });
    meter.createObservableGauge('relay_spool_oldest_age_seconds', { description: 'age of the oldest export in the durable spool (0 when empty)', unit: 's' }).addCallback((result) => {
      const stats = sources.spool();
      if (stats) result.observe(stats.oldestAgeSeconds ?? 0);
    });
    const advice = { explicitBucketBoundaries: LATENCY_BUCKETS };
    this.addedLatency = meter.createHistogram('relay_added_latency_seconds', { description: "time the relay adds to an export (total minus the upstream's)", unit: 's', advice });
    this.upstreamLatency = meter.createHistogram('relay_upstream_latency_seconds', { description: 'time of the upstream call, including the token lookup and a retry after a refused token', unit: 's', advice });
  }

  export(facts: ExportFacts): void {
    const { signal, agent, outcome } = facts;
    this.exports.add(1, signal, agent, outcome);
    if (facts.recordsIn > 0) this.recordsIn.add(facts.recordsIn, signal, agent);
    if (facts.recordsOut > 0) this.recordsOut.add(facts.recordsOut, signal, agent);
    this.bytesIn.add(facts.bytesIn, signal);
    if (facts.bytesOut > 0) this.bytesOut.add(facts.bytesOut, signal);
    let attributes = this.bySignal.get(signal);
    if (!attributes) this.bySignal.set(signal, (attributes = { signal }));
    if (facts.upstreamSeconds !== undefined) {
      this.upstreamLatency.record(facts.upstreamSeconds, attributes);
      this.addedLatency.record(Math.max(0, facts.seconds - facts.upstreamSeconds), attributes);
    } else {
      this.addedLatency.record(facts.seconds, attributes);
    }
  }
}

export interface MetricsOptions {
  /** Application Insights connection string: metrics go there too, every minute. */
  azureMonitor?: { connectionString: string; credential?: TokenCredential };
  sources: CountSources;
}

export interface MetricsPipeline {
  metrics: RelayMetrics;
  /** The current values in Prometheus text exposition format (cumulative). */
  prometheusText(): Promise<string>;
  close(): Promise<void>;
}

export async function relayMetricsPipeline(options: MetricsOptions): Promise<MetricsPipeline> {
  // The exporter's own HTTP server stays off: the app serves the text at GET /api/metrics.
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const serializer = new PrometheusSerializer(undefined, false, undefined, true, true);
  const readers: MetricReader[] = [prometheus];
  if (options.azureMonitor) {
    // Loaded only when configured: the exporter and its Azure dependencies are not on the relay's path otherwise.
    const { AzureMonitorMetricExporter } = await import('@azure/monitor-opentelemetry-exporter');
    const exporter = new AzureMonitorMetricExporter(options.azureMonitor);
    readers.push(new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 }));
  }
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'coding-agent-relay' }), readers });
  const metrics = new RelayMetrics(provider.getMeter('coding-agent-relay'), options.sources);
  return {
    metrics,
    async prometheusText() {
      const { resourceMetrics, errors } = await prometheus.collect();
      if (errors.length > 0) throw new AggregateError(errors, 'collecting metrics failed');
      return serializer.serialize(resourceMetrics);
    },
    close: () => provider.shutdown(),
  };
}
