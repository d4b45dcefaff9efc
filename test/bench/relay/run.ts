/*
 * npm run bench: the Claude Code metrics fixture posted by one load generator (wrk) to
 *   1. the loopback upstream directly,
 *   2. nginx proxy_pass injecting the same two headers (Authorization, table header),
 *   3. a bare Node proxy (node:http + the relay's undici pool, headers injected, nothing else):
 *      the floor for any relay written in Node, so the relay's own overhead can be told apart,
 *   4. the relay (the local runner, forwarding to the same upstream, its token from a loopback
 *      Key Vault read through the real SDK and a managed identity endpoint),
 * in one run, interleaved, and reports requests/s, p50/p99, Key Vault reads per 10,000 requests
 * and the relay's peak RSS. Settings: BENCH_SECONDS (10), BENCH_CONNECTIONS (32), BENCH_ROUNDS (2).
 */
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeKeyVault } from '../../fakes/key-vault.js';
import { fakeManagedIdentity } from '../../fakes/managed-identity.js';
import { FIXTURE_DIR } from '../../fixtures.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const BODY_FILE = join(FIXTURE_DIR, 'claude-code-2.1.197.metrics.pb');
const TABLE = 'main.telemetry.agents_otel_metrics';
const children: ChildProcess[] = [];

function ensureTools(): void {
  const missing = ['wrk', 'nginx'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`]).status !== 0);
  if (missing.length === 0) return;
  console.log(`installing ${missing.join(', ')} from Debian (wrk, nginx-light)`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'wrk', 'nginx-light'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function start(command: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = ready.exec(out);
      if (match) resolve({ child, match });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}: ${out}`)));
  });
}

async function startNginx(upstreamPort: number, token: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir};
  proxy_temp_path ${dir};
  upstream ingest { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://ingest;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "Bearer ${token}";
      proxy_set_header X-Databricks-UC-Table-Name "${TABLE}";
    }
  }
}
`,
  );
  const nginx = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'inherit' });
  children.push(nginx);
  for (let i = 0; i < 50; i++) {
    if ((await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined)) !== undefined) return port;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('nginx did not start');
}

interface Result {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
}

function toMs(value: string, unit: string): number {
  return Number(value) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[unit]!;
}

// wrk runs asynchronously: the fake Key Vault and identity endpoint live in this process and must answer meanwhile.
async function wrk(url: string, seconds: number): Promise<Result> {
  const { stdout: out } = await promisify(execFile)('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', join(import.meta.dirname, 'post.lua'), url], {
    env: { ...process.env, BODY_FILE },
  });
  if (process.env.BENCH_DEBUG) console.log(out);
  const latency = (p: string) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out)!;
    return toMs(m[1]!, m[2]!);
  };
  const requests = Number(/(\d+) requests in/.exec(out)![1]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((n, v) => n + Number(v), 0) : 0);
  return { requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]), p50Ms: latency('50'), p99Ms: latency('99'), requests, errors };
}

function peakRssMb(pid: number): number {
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  return Math.round(kb / 1024);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  ensureTools();
  const token = 'dapi-bench-token';
  const vault = await fakeKeyVault({ 'databricks-token': token });
  const identity = await fakeManagedIdentity();
  const tsx = ['--import', 'tsx'];
  const upstream = await start(process.execPath, [...tsx, join(import.meta.dirname, 'upstream.ts')], process.env, /listening (\d+)/);
  const upstreamPort = Number(upstream.match[1]);
  const nginxPort = await startNginx(upstreamPort, token);
  const bare = await start(process.execPath, [...tsx, join(import.meta.dirname, 'bare-proxy.ts'), String(upstreamPort)], process.env, /listening (\d+)/);
  const relay = await start(
    process.execPath,
    ['dist/shared/local/main.js'],
    {
      PATH: process.env.PATH,
      ...identity.env,
      LOCAL_PORT: '0',
      OTEL_INGEST_URL: `http://127.0.0.1:${upstreamPort}/api/2.0/otel`,
      KEY_VAULT_URL: vault.url,
      UC_CATALOG: 'main_bench',
      UC_SCHEMA: 'telemetry',
      UC_TABLE_PREFIX: 'agents',
    },
    /on (http:\/\/127\.0\.0\.1:\d+)/,
  );
  console.log(`relay at ${relay.match[1]}`);
  const targets = {
    direct: `http://127.0.0.1:${upstreamPort}/api/2.0/otel/v1/metrics`,
    nginx: `http://127.0.0.1:${nginxPort}/api/2.0/otel/v1/metrics`,
    bareNode: `http://127.0.0.1:${bare.match[1]}/api/2.0/otel/v1/metrics`,
    relay: `${relay.match[1]}/api/otel/v1/metrics`,
  };
  const results: Record<keyof typeof targets, Result[]> = { direct: [], nginx: [], bareNode: [], relay: [] };
  for (const url of Object.values(targets)) await wrk(url, 2); // warm up JITs and connection pools
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, url] of Object.entries(targets) as [keyof typeof targets, string][]) {
      const result = await wrk(url, SECONDS);
      results[name].push(result);
      console.log(`round ${round + 1} ${name.padEnd(8)} ${result.requestsPerSecond.toFixed(0)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  errors ${result.errors}`);
    }
  }
  const relayRequests = results.relay.reduce((n, r) => n + r.requests, 0);
  const summary = Object.fromEntries(
    Object.entries(results).map(([name, rs]) => [
      name,
      { requestsPerSecond: Math.round(median(rs.map((r) => r.requestsPerSecond))), p50Ms: median(rs.map((r) => r.p50Ms)), p99Ms: median(rs.map((r) => r.p99Ms)), errors: rs.reduce((n, r) => n + r.errors, 0) },
    ]),
  ) as Record<keyof typeof targets, { requestsPerSecond: number; p50Ms: number; p99Ms: number; errors: number }>;
  const report = {
    date: new Date().toISOString(),
    body: `claude-code-2.1.197.metrics.pb (${readFileSync(BODY_FILE).length} bytes)`,
    load: `wrk -t2 -c${CONNECTIONS}, ${ROUNDS} rounds of ${SECONDS}s, medians`,
    ...summary,
    relayVsNginx: Number((summary.relay.requestsPerSecond / summary.nginx.requestsPerSecond).toFixed(2)),
    bareNodeVsNginx: Number((summary.bareNode.requestsPerSecond / summary.nginx.requestsPerSecond).toFixed(2)),
    relayVsBareNode: Number((summary.relay.requestsPerSecond / summary.bareNode.requestsPerSecond).toFixed(2)),
    keyVaultReadsPer10kRequests: Number(((vault.reads() / relayRequests) * 10_000).toFixed(3)),
    keyVaultReads: vault.reads(),
    relayRequests,
    relayPeakRssMb: peakRssMb(relay.child.pid!),
  };
  console.log(JSON.stringify(report, null, 2));
  writeFileSync(join(import.meta.dirname, 'last-run.json'), JSON.stringify(report, null, 2) + '\n');
  await Promise.all([vault.close(), identity.close()]);
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) child.kill('SIGTERM');
  });
