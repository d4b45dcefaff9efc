import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonCodec } from '../../shared/otlp/codec.js';
import { toOtlpJson } from '../../shared/otlp/otlp-json.js';
import { signalNamed, type SignalName } from '../../shared/otlp/signals.js';
import { fixtures, type Fixture } from '../fixtures.js';
import { ALICE, bearerFor, TEST_SIGNING_KEY } from '../credentials.js';

/** Items in an export counted straight from the decoded message, independently of the row code. */
function itemCount(signal: SignalName, message: any): number {
  if (signal === 'metrics') {
    return message.resourceMetrics
      .flatMap((r: any) => r.scopeMetrics)
      .flatMap((s: any) => s.metrics)
      .reduce((n: number, m: any) => n + m[m.data].dataPoints.length, 0);
  }
  if (signal === 'logs') return message.resourceLogs.flatMap((r: any) => r.scopeLogs).flatMap((s: any) => s.logRecords).length;
  return message.resourceSpans.flatMap((r: any) => r.scopeSpans).flatMap((s: any) => s.spans).length;
}

function decode(f: Fixture): any {
  const type = signalNamed(f.signal)!.request;
  return type.decode(f.contentType === 'application/json' ? jsonCodec.toProtobuf(type, f.body).protobuf : f.body);
}

const SERVICE_OF: Record<Fixture['agent'], string> = { 'claude-code': 'claude-code', codex: 'codex_exec', 'gemini-cli': 'gemini-cli' };
const TABLE_OF: Record<SignalName, string> = { metrics: 'agents_otel_metrics', logs: 'agents_otel_logs', traces: 'agents_otel_spans' };

describe('npm start (local mode) end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-e2e-'));
  const dbPath = join(dir, 'telemetry.duckdb');
  let child: ChildProcess;
  let base = '';
  const expected = new Map<string, number>();

  beforeAll(async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'shared/local/main.ts'], {
      env: { PATH: process.env.PATH, LOCAL_PORT: '0', LOCAL_DUCKDB_PATH: dbPath, RELAY_SIGNING_KEY: TEST_SIGNING_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    base = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('exit', (code) => reject(new Error(`runner exited with ${code}: ${out}`)));
    });
  });

  afterAll(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports local mode on /api/health', async () => {
    const health = (await (await fetch(`${base}/api/health`)).json()) as Record<string, string>;
    expect(health).toMatchObject({ status: 'ok', mode: 'local', secrets: 'environment', relayAuth: 'relay credential required' });
    expect(health.userSignIn).toMatch(/^LOCAL IDENTITY developer@localhost/);
  });

  it.each([
    ['no credential', undefined, 'missing credential: send Authorization: Bearer <relay credential>'],
    ['a credential signed with another key', 'other', 'credential signed with an unknown or retired key'],
  ])('refuses an export with %s', async (_case, key, message) => {
    const f = fixtures()[0]!;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (key) headers.authorization = await bearerFor('claude-code', ALICE, `${key}-signing-key-0123456789abcdef0123456789`);
    const response = await fetch(`${base}/api/otel/v1/${f.signal}`, { method: 'POST', headers, body: '{}' });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ code: 16, message });
  });

  it('accepts every fixture as protobuf, as OTLP/JSON and gzipped', async () => {
    for (const f of fixtures()) {
      const type = signalNamed(f.signal)!.request;
      const message = decode(f);
      const protobuf = type.encode(message).finish();
      const json = Buffer.from(JSON.stringify(toOtlpJson(type, message)));
      const variants: [string, Uint8Array, Record<string, string>][] = [
        ['protobuf', protobuf, { 'content-type': 'application/x-protobuf' }],
        ['json', json, { 'content-type': 'application/json' }],
        ['gzip json', gzipSync(json), { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
        ['gzip protobuf', gzipSync(protobuf), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }],
      ];
      const authorization = await bearerFor(f.agent === 'codex' ? 'codex' : f.agent);
      for (const [name, body, headers] of variants) {
        const response = await fetch(`${base}/api/otel/v1/${f.signal}`, { method: 'POST', headers: { ...headers, authorization }, body });
        expect(response.status, `${f.file} as ${name}`).toBe(200);
        expect(response.headers.get('content-type')).toBe(headers['content-type']);
      }
      const key = `${TABLE_OF[f.signal]}/${SERVICE_OF[f.agent]}`;
      expect(itemCount(f.signal, message), f.file).toBeGreaterThan(0);
      expected.set(key, (expected.get(key) ?? 0) + variants.length * itemCount(f.signal, message));
    }
  });

  it('answers a chunked body without Content-Length', async () => {
    const f = fixtures()[0]!;
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(f.body.subarray(0, 100));
        controller.enqueue(f.body.subarray(100));
        controller.close();
      },
    });
    const response = await fetch(`${base}/api/otel/v1/${f.signal}`, {
      method: 'POST',
      headers: { 'content-type': f.contentType, authorization: await bearerFor(f.agent) },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(200);
    const key = `${TABLE_OF[f.signal]}/${SERVICE_OF[f.agent]}`;
    expected.set(key, expected.get(key)! + itemCount(f.signal, decode(f)));
  });

  it('refuses a body over the limit while it streams in and keeps serving', async () => {
    const response = await fetch(`${base}/api/otel/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', authorization: await bearerFor('codex') },
      body: Buffer.alloc(21 * 1024 * 1024),
    }).catch((e: Error) => e);
    if (response instanceof Response) expect(response.status).toBe(413);
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
  });

  it('answers a malformed percent-encoding in the path with 400', async () => {
    const response = await fetch(`${base}/api/otel/v1/%E0%A4%A`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ code: 3, message: 'malformed percent-encoding in the URL path' });
    expect((await fetch(`${base}/api/config/%ZZ`)).status).toBe(400);
  });

  it('holds no body of unauthenticated posts: memory grows by less than 50 MB under 40 parallel 20 MiB posts', async () => {
    const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024;
    const body = Buffer.alloc(20 * 1024 * 1024, 1);
    const before = rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 20);
    const post = () =>
      new Promise<number | string>((resolve) => {
        const request = http.request(`${base}/api/otel/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (response) => {
          response.resume();
          resolve(response.statusCode!);
        });
        request.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
        request.end(body);
      });
    const outcomes = await Promise.all(Array.from({ length: 40 }, post));
    await new Promise((r) => setTimeout(r, 200));
    clearInterval(sampler);
    // Each is answered 401 (or its connection closed before the client finished sending): never read.
    for (const outcome of outcomes) expect([401, 'EPIPE', 'ECONNRESET']).toContain(outcome);
    expect(outcomes).toContain(401);
    expect(peak - before).toBeLessThan(50 * 1024 * 1024);
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
  });

  it('lands one row per data point, log record and span in DuckDB, under the right table', async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    const instance = await DuckDBInstance.create(dbPath, { access_mode: 'READ_ONLY' });
    const connection = await instance.connect();
    try {
      const actual = new Map<string, number>();
      for (const table of Object.values(TABLE_OF)) {
        const reader = await connection.runAndReadAll(
          `SELECT resource.attributes['service.name'] AS service, count(*) AS n FROM coding_agents.${table} GROUP BY 1`,
        );
        for (const row of reader.getRowObjectsJson()) actual.set(`${table}/${row.service}`, Number(row.n));
      }
      expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));

      const request = await connection.runAndReadAll(
        `SELECT attributes['input_tokens'] AS input, attributes['output_tokens'] AS output, severity_number
         FROM coding_agents.agents_otel_logs WHERE body = 'claude_code.api_request' LIMIT 1`,
      );
      expect(request.getRowObjectsJson()[0]).toEqual({ input: '123', output: '45', severity_number: 'SEVERITY_NUMBER_UNSPECIFIED' });

      const spans = await connection.runAndReadAll(
        `SELECT DISTINCT length(trace_id) AS t, length(span_id) AS s, kind LIKE 'SPAN_KIND_%' AS named FROM coding_agents.agents_otel_spans`,
      );
      expect(spans.getRowObjectsJson()).toEqual([{ t: '32', s: '16', named: true }]);

      // Every row carries the credential's identity and agent; the Gemini prompt is nowhere.
      for (const table of Object.values(TABLE_OF)) {
        const stamped = await connection.runAndReadAll(
          `SELECT DISTINCT resource.attributes['user.email'] AS email, resource.attributes['user.id'] AS id,
             resource.attributes['coding_agent.name'] AS agent, resource.attributes['service.name'] AS service
           FROM coding_agents.${table} ORDER BY service`,
        );
        for (const row of stamped.getRowObjectsJson()) {
          expect(row).toMatchObject({ email: ALICE.email, id: ALICE.userId });
          expect(String(row.service).startsWith(String(row.agent))).toBe(true);
        }
        const leaks = await connection.runAndReadAll(`SELECT count(*) AS n FROM coding_agents.${table} AS t WHERE CAST(t AS VARCHAR) LIKE '%say hi%'`);
        expect(leaks.getRowObjectsJson()).toEqual([{ n: '0' }]);
        const args = await connection.runAndReadAll(`SELECT count(*) AS n FROM coding_agents.${table} WHERE resource.attributes['process.command_args'] IS NOT NULL`);
        expect(args.getRowObjectsJson()).toEqual([{ n: '0' }]);
      }

      const sums = await connection.runAndReadAll(
        `SELECT DISTINCT sum.aggregation_temporality AS t FROM coding_agents.agents_otel_metrics WHERE metric_type = 'sum' ORDER BY 1`,
      );
      expect(sums.getRowObjectsJson().map((r) => r.t)).toEqual(['AGGREGATION_TEMPORALITY_CUMULATIVE', 'AGGREGATION_TEMPORALITY_DELTA']);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});
