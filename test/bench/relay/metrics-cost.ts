/*
 * npm run bench:metrics: what the relay's own metrics and logs cost per export, in process: the
 * guarded export pipeline alone, and wrapped as the app serves it (observeExports: records counted,
 * counters and both latency histograms through the OpenTelemetry SDK), alternating over
 * BENCH_PIPELINE_ROUNDS (7) rounds on the Claude Code (2 KB) and Codex (130 KB) metrics fixtures;
 * medians. The added microseconds are also set against the relay's time per request in the last
 * end-to-end run (test/bench/relay/last-run.json): a single relay process is CPU-bound, so its
 * throughput falls by about added / (added + time per request).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportGuard } from '../../../shared/identity/export-guard.js';
import { CredentialVerifier, issueCredential, parseRevocations, signingKey } from '../../../shared/identity/relay-credentials.js';
import { silentLog } from '../../../shared/log.js';
import { observeExports } from '../../../shared/observe/observe-exports.js';
import { relayMetricsPipeline } from '../../../shared/observe/relay-metrics.js';
import { exportHandler } from '../../../shared/relay/handle-export.js';
import { DEFAULT_DENIED_LOG_ATTRIBUTES, DEFAULT_DENIED_RESOURCE_ATTRIBUTES } from '../../../shared/settings.js';
import { fixture } from '../../fixtures.js';
import { bufferedBody } from '../../../shared/http.js';
import { admission } from '../../../shared/relay/admission.js';

const ROUNDS = Number(process.env.BENCH_PIPELINE_ROUNDS ?? 7);
const keys = { current: signingKey('bench-signing-key-0123456789abcdef0123456789') };
const verifier = new CredentialVerifier({ keys: async () => keys, revocations: async () => parseRevocations('') });
const forward = async () => ({ kind: 'accepted' as const, body: new Uint8Array() });
const guard = exportGuard({ verifier, deniedResourceAttributes: new Set(DEFAULT_DENIED_RESOURCE_ATTRIBUTES.split(',')), deniedLogAttributes: new Set(DEFAULT_DENIED_LOG_ATTRIBUTES.split(',')) });
const bare = exportHandler({ maxBodyBytes: 1 << 24, maxEntries: 1000, admission: admission(256, 1 << 28), forward, guard });
const telemetry = await relayMetricsPipeline({ sources: { secretReads: () => [], credentialCache: () => verifier.cache, spool: () => undefined } });
const observed = observeExports(bare, telemetry.metrics, { logAccepted: false });
const { credential } = await issueCredential(keys, { userId: 'bench', email: 'bench@example.com', agent: 'codex', ttlSeconds: 86_400 });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function microsPerRequest(handle: (request: Parameters<typeof bare>[1]) => Promise<{ status: number }>, body: Buffer, requests: number): Promise<number> {
  const request = { method: 'POST', url: '/api/otel/v1/metrics', headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${credential}` }, body: bufferedBody(body) };
  const started = performance.now();
  for (let i = 0; i < requests; i++) {
    if ((await handle(request)).status !== 200) throw new Error('export refused');
  }
  return ((performance.now() - started) / requests) * 1000;
}

const lastRun = JSON.parse(readFileSync(join(import.meta.dirname, 'last-run.json'), 'utf8')) as Record<string, { requestsPerSecond: number }>;
const report: Record<string, unknown> = {};
for (const [name, file, requests, endToEnd] of [['claude', 'claude-code-2.1.197.metrics.pb', 20_000, 'relayGuarded'], ['codex', 'codex-0.169.0.metrics.pb', 2_000, 'codexRelayGuarded']] as const) {
  const body = fixture(file).body;
  const plain = (request: Parameters<typeof bare>[1]) => bare('metrics', request);
  const withMetrics = (request: Parameters<typeof bare>[1]) => observed('metrics', request, silentLog);
  await microsPerRequest(plain, body, requests / 4);
  await microsPerRequest(withMetrics, body, requests / 4);
  const times = { plain: [] as number[], observed: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    times.plain.push(await microsPerRequest(plain, body, requests));
    times.observed.push(await microsPerRequest(withMetrics, body, requests));
  }
  const addedMicros = median(times.observed) - median(times.plain);
  const perRequestMicros = 1e6 / lastRun[endToEnd]!.requestsPerSecond;
  report[name] = {
    pipelineMicros: Number(median(times.plain).toFixed(1)),
    withMetricsMicros: Number(median(times.observed).toFixed(1)),
    addedMicros: Number(addedMicros.toFixed(2)),
    endToEndMicrosPerRequest: Number(perRequestMicros.toFixed(1)),
    throughputCostPercent: Number(((addedMicros / (addedMicros + perRequestMicros)) * 100).toFixed(2)),
  };
}
await telemetry.close();
console.log(JSON.stringify(report, null, 2));
