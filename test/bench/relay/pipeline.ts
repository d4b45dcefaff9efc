/*
 * The export pipeline's own CPU cost per request, in process and without HTTP, with the relay's
 * credential check, identity stamping and privacy guard off ("plain") and on ("guarded"), on the
 * Claude Code (2 KB) and Codex (130 KB) metrics fixtures. Plain and guarded alternate in
 * BENCH_PIPELINE_ROUNDS (7) rounds; medians are reported. Much less noisy than the wrk benchmark,
 * whose relay figures include HTTP in and out on a shared 2-core machine. Each request's body is
 * copied into a fresh buffer with room before it, as the server reads it (the guard rewrites it in
 * place): on the Codex export that allocation, and the collections it brings, are most of the cost.
 */
import { exportGuard } from '../../../shared/identity/export-guard.js';
import { CredentialVerifier, issueCredential, parseRevocations, signingKey } from '../../../shared/identity/relay-credentials.js';
import { bufferedBody } from '../../../shared/http.js';
import { admission } from '../../../shared/relay/admission.js';
import { exportHandler } from '../../../shared/relay/handle-export.js';
import { DEFAULT_DENIED_LOG_ATTRIBUTES, DEFAULT_DENIED_RESOURCE_ATTRIBUTES } from '../../../shared/settings.js';
import { fixture } from '../../fixtures.js';

const ROUNDS = Number(process.env.BENCH_PIPELINE_ROUNDS ?? 7);
const keys = { current: signingKey('bench-signing-key-0123456789abcdef0123456789') };
const revocations = parseRevocations('');
const forward = async () => ({ kind: 'accepted' as const, body: new Uint8Array() });
const limits = { maxBodyBytes: 1 << 24, maxEntries: 1000, admission: admission(256, 1 << 28) };
const plain = exportHandler({ ...limits, forward, guard: exportGuard({ verifier: undefined, deniedResourceAttributes: new Set(), deniedLogAttributes: new Set() }) });
const guarded = exportHandler({
  ...limits,
  forward,
  guard: exportGuard({
    verifier: new CredentialVerifier({ keys: async () => keys, revocations: async () => revocations }),
    deniedResourceAttributes: new Set(DEFAULT_DENIED_RESOURCE_ATTRIBUTES.split(',')),
    deniedLogAttributes: new Set(DEFAULT_DENIED_LOG_ATTRIBUTES.split(',')),
  }),
});
const { credential } = await issueCredential(keys, { userId: 'bench', email: 'bench@example.com', agent: 'codex', ttlSeconds: 86_400 });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function microsPerRequest(handler: typeof plain, body: Buffer, requests: number): Promise<number> {
  const request = { method: 'POST', url: '/api/otel/v1/metrics', headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${credential}` }, body: bufferedBody(body) };
  const started = performance.now();
  for (let i = 0; i < requests; i++) {
    const response = await handler('metrics', request);
    if (response.status !== 200) throw new Error(`status ${response.status}`);
  }
  return ((performance.now() - started) / requests) * 1000;
}

const report: Record<string, unknown> = {};
for (const [name, file, requests] of [['claude', 'claude-code-2.1.197.metrics.pb', 20_000], ['codex', 'codex-0.169.0.metrics.pb', 2_000]] as const) {
  const body = fixture(file).body;
  await microsPerRequest(plain, body, requests / 4);
  await microsPerRequest(guarded, body, requests / 4);
  const times = { plain: [] as number[], guarded: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    times.plain.push(await microsPerRequest(plain, body, requests));
    times.guarded.push(await microsPerRequest(guarded, body, requests));
  }
  const result = { plainMicros: Number(median(times.plain).toFixed(1)), guardedMicros: Number(median(times.guarded).toFixed(1)) };
  report[name] = { ...result, guardCostMicros: Number((result.guardedMicros - result.plainMicros).toFixed(1)) };
  console.log(`${name}: plain ${result.plainMicros} us, guarded ${result.guardedMicros} us per request (pipeline only, medians of ${ROUNDS})`);
}
console.log(JSON.stringify(report));
