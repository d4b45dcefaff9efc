/*
 * npm run bench: OTLP metrics exports posted by one load generator (wrk) in one run, interleaved, to
 *   1. the loopback upstream directly (Claude Code fixture),
 *   2. nginx proxy_pass injecting the same two headers (Authorization, table header),
 *   3. a bare Node proxy (node:http + the relay's undici pool, headers injected, nothing else):
 *      the floor for any relay written in Node, so the relay's own overhead can be told apart,
 *   4. the relay without credentials or privacy guard (RELAY_AUTH=none, empty deny lists),
 *   5. the relay as shipped: credential verified, identity stamped, privacy guard on;
 * 2 to 5 also with the Codex fixture (130 KB). The bare proxy and both relays run with the Node flags
 * of `npm start`. Both relays are the local runner forwarding to the same upstream, the Databricks token and signing key read from a loopback Key Vault through the
 * real SDK and a managed identity endpoint. Reports requests/s, p50/p99, the ratios of issue 14
 * (guarded and plain relay against the bare proxy, relay against nginx, each the median of per-round
 * ratios), the CPU time each serving process spent per request and the same ratios per core from it, p99/p50, Key Vault reads per 10,000 requests, the relays' resident size (sampled during the
 * load, and since start-up), the load average; and, before the load runs, the in-process
 * pipeline cost (pipeline.ts).
 * Settings: BENCH_SECONDS (8), BENCH_CONNECTIONS (32), BENCH_ROUNDS (5); for profiling, BENCH_CASES
 * (comma-separated case names: only those run, and last-run.json is left alone) and BENCH_NODE_FLAGS
 * (extra Node flags for the bare proxy and both relays, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) and
 * BENCH_LOG_DIR (their standard output, e.g. `--trace-gc` lines, kept in <dir>/<pid>.log).
 */
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeKeyVault } from '../../fakes/key-vault.js';
import { fakeManagedIdentity } from '../../fakes/managed-identity.js';
import { FIXTURE_DIR } from '../../fixtures.js';
import { issueCredential, signingKey } from '../../../shared/identity/relay-credentials.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ONLY = process.env.BENCH_CASES?.split(',');
const NODE_FLAGS = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
const LOG_DIR = process.env.BENCH_LOG_DIR;
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
      if (LOG_DIR) appendFileSync(join(LOG_DIR, `${child.pid}.log`), chunk);
      out += chunk.toString();
      const match = ready.exec(out);
      if (match) resolve({ child, match });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}: ${out}`)));
  });
}

async function startNginx(upstreamPort: number, token: string): Promise<{ port: number; pid: number }> {
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
  # Request bodies up to 1 MB stay in memory: with the default (16 KB) nginx wrote every Codex export to
  # a temporary file, and the kernel's write-back of those files some 30 s later took CPU from whichever
  # case ran then (the relays on the Codex export, at about half their throughput).
  client_body_buffer_size 1m;
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
    if ((await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined)) !== undefined) return { port, pid: nginx.pid! };
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
  /** CPU time (user + system) of the process serving the case, per request: its cost per core. */
  cpuMicrosPerRequest?: number;
}

function toMs(value: string, unit: string): number {
  return Number(value) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[unit]!;
}

// wrk runs asynchronously: the fake Key Vault and identity endpoint live in this process and must answer meanwhile.
async function wrk(url: string, seconds: number, bodyFile: string, authorization = ''): Promise<Result> {
  const { stdout: out } = await promisify(execFile)('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', join(import.meta.dirname, 'post.lua'), url], {
    env: { ...process.env, BODY_FILE: bodyFile, AUTHORIZATION: authorization },
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

/** VmHWM (the process's peak since it started, start-up included) or VmRSS (now), in MB. */
function rssMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const kb = Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  return Math.round(kb / 1024);
}

/** CPU time (user + system, all threads) a process and its children have used so far, in microseconds. */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the line (in clock ticks, 100 a second on Linux).
  const own = (Number(fields[11]) + Number(fields[12])) * 10_000;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
  return own + children.reduce((sum, child) => sum + cpuMicros(Number(child)), 0);
}

/** The highest resident size of each process seen while `run` runs, sampled every 100 ms. */
async function sampleRss<T>(pids: Record<string, number>, peaks: Record<string, number>, run: () => Promise<T>): Promise<T> {
  const sample = () => {
    for (const [name, pid] of Object.entries(pids)) peaks[name] = Math.max(peaks[name] ?? 0, rssMb(pid, 'VmRSS'));
  };
  const timer = setInterval(sample, 100);
  try {
    return await run();
  } finally {
    clearInterval(timer);
    sample();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Case {
  name: string;
  url: string;
  bodyFile: string;
  authorization?: string;
  /** The process that serves it (nginx: the master, whose worker is its child). */
  pid?: number;
}

async function main(): Promise<void> {
  ensureTools();
  const loadBefore = loadavg().map((n) => Number(n.toFixed(2)));
  console.log(`load average before the run: ${loadBefore.join(' ')} (${cpus().length} cores)`);
  // First, alone on the machine: the pipeline's own cost per request, plain and guarded (pipeline.ts).
  let pipeline: Record<string, unknown> = {};
  if (!ONLY) {
    const pipelineOut = execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'pipeline.ts')]).toString();
    process.stdout.write(pipelineOut);
    pipeline = JSON.parse(pipelineOut.trim().split('\n').at(-1)!) as Record<string, unknown>;
  }
  const token = 'dapi-bench-token';
  const signingKeySecret = 'bench-signing-key-0123456789abcdef0123456789';
  const vault = await fakeKeyVault({ 'databricks-token': token, 'relay-signing-key': signingKeySecret });
  const identity = await fakeManagedIdentity();
  const tsx = ['--import', 'tsx'];
  // The relays, and the bare proxy beside them, run with the Node flags of `npm start` (and of the
  // Functions worker: infra/app/api.bicep): the floor is measured under the same runtime settings.
  const startFlags = /node ((?:--\S+ )*)dist\//.exec(JSON.parse(readFileSync('package.json', 'utf8')).scripts.start)![1]!.trim().split(' ').filter(Boolean);
  const upstream = await start(process.execPath, [...tsx, join(import.meta.dirname, 'upstream.ts')], process.env, /listening (\d+)/);
  const upstreamPort = Number(upstream.match[1]);
  const { port: nginxPort, pid: nginxPid } = await startNginx(upstreamPort, token);
  const bare = await start(process.execPath, [...startFlags, ...NODE_FLAGS, ...tsx, join(import.meta.dirname, 'bare-proxy.ts'), String(upstreamPort)], process.env, /listening (\d+)/);
  const relayEnv = {
    PATH: process.env.PATH,
    ...identity.env,
    LOCAL_PORT: '0',
    OTEL_INGEST_URL: `http://127.0.0.1:${upstreamPort}/api/2.0/otel`,
    KEY_VAULT_URL: vault.url,
    UC_CATALOG: 'main_bench',
    UC_SCHEMA: 'telemetry',
    UC_TABLE_PREFIX: 'agents',
  };
  const ready = /on (http:\/\/127\.0\.0\.1:\d+)/;
  // The relay as issue "OTLP relay" built it (no credential, nothing removed) and as shipped (credential
  // verified, identity stamped, privacy guard on), side by side.
  const relay = [...startFlags, ...NODE_FLAGS, 'dist/shared/local/main.js'];
  const plain = await start(process.execPath, relay, { ...relayEnv, RELAY_AUTH: 'none', PRIVACY_DENIED_RESOURCE_ATTRIBUTES: '', PRIVACY_DENIED_LOG_ATTRIBUTES: '' }, ready);
  const guarded = await start(process.execPath, relay, relayEnv, ready);
  const { credential } = await issueCredential({ current: signingKey(signingKeySecret) }, { userId: 'bench-user', email: 'bench@example.com', agent: 'codex', ttlSeconds: 3600 });
  const auth = `Bearer ${credential}`;
  const claude = join(FIXTURE_DIR, 'claude-code-2.1.197.metrics.pb');
  const codex = join(FIXTURE_DIR, 'codex-0.169.0.metrics.pb');
  const allCases: Case[] = [
    { name: 'direct', url: `http://127.0.0.1:${upstreamPort}/api/2.0/otel/v1/metrics`, bodyFile: claude },
    { name: 'nginx', url: `http://127.0.0.1:${nginxPort}/api/2.0/otel/v1/metrics`, bodyFile: claude, pid: nginxPid },
    { name: 'bareNode', url: `http://127.0.0.1:${bare.match[1]}/api/2.0/otel/v1/metrics`, bodyFile: claude, pid: bare.child.pid },
    { name: 'relayPlain', url: `${plain.match[1]}/api/otel/v1/metrics`, bodyFile: claude, pid: plain.child.pid },
    { name: 'relayGuarded', url: `${guarded.match[1]}/api/otel/v1/metrics`, bodyFile: claude, authorization: auth, pid: guarded.child.pid },
    { name: 'codexNginx', url: `http://127.0.0.1:${nginxPort}/api/2.0/otel/v1/metrics`, bodyFile: codex, pid: nginxPid },
    { name: 'codexBareNode', url: `http://127.0.0.1:${bare.match[1]}/api/2.0/otel/v1/metrics`, bodyFile: codex, pid: bare.child.pid },
    { name: 'codexRelayPlain', url: `${plain.match[1]}/api/otel/v1/metrics`, bodyFile: codex, pid: plain.child.pid },
    { name: 'codexRelayGuarded', url: `${guarded.match[1]}/api/otel/v1/metrics`, bodyFile: codex, authorization: auth, pid: guarded.child.pid },
  ];
  const cases = ONLY ? allCases.filter((c) => ONLY.includes(c.name)) : allCases;
  const results = new Map<string, Result[]>(cases.map((c) => [c.name, []]));
  for (const c of cases) await wrk(c.url, 2, c.bodyFile, c.authorization); // warm up JITs and connection pools
  // Resident size of both relays while the measured load runs (start-up and warm-up excluded).
  const relayPids = { relayPlain: plain.child.pid!, relayGuarded: guarded.child.pid! };
  const loadRss: Record<string, number> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) {
      const cpuBefore = c.pid ? cpuMicros(c.pid) : 0;
      const result = await sampleRss(relayPids, loadRss, () => wrk(c.url, SECONDS, c.bodyFile, c.authorization));
      if (c.pid) result.cpuMicrosPerRequest = (cpuMicros(c.pid) - cpuBefore) / result.requests;
      results.get(c.name)!.push(result);
      const cpu = result.cpuMicrosPerRequest === undefined ? '' : `  cpu ${result.cpuMicrosPerRequest.toFixed(1)} us/req`;
      console.log(`round ${round + 1} ${c.name.padEnd(17)} ${result.requestsPerSecond.toFixed(0)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms${cpu}  errors ${result.errors}`);
    }
  }
  const summary = Object.fromEntries(
    [...results].map(([name, rs]) => [
      name,
      {
        requestsPerSecond: Math.round(median(rs.map((r) => r.requestsPerSecond))),
        p50Ms: Number(median(rs.map((r) => r.p50Ms)).toFixed(2)),
        p99Ms: Number(median(rs.map((r) => r.p99Ms)).toFixed(2)),
        ...(rs[0]!.cpuMicrosPerRequest === undefined ? {} : { cpuMicrosPerRequest: Number(median(rs.map((r) => r.cpuMicrosPerRequest!)).toFixed(1)) }),
        errors: rs.reduce((n, r) => n + r.errors, 0),
      },
    ]),
  );
  // Ratios of two targets measured in the same round (side by side), then the median over rounds: the
  // machine's speed drifts between rounds more than between neighbouring measurements.
  const ratio = (a: string, b: string) =>
    Number(median(results.get(a)!.map((r, round) => r.requestsPerSecond / results.get(b)![round]!.requestsPerSecond)).toFixed(2));
  const relayRequests = ['relayGuarded', 'codexRelayGuarded', 'relayPlain', 'codexRelayPlain'].reduce((n, name) => n + (results.get(name) ?? []).reduce((m, r) => m + r.requests, 0), 0);
  const rss = {
    duringLoad: { relayPlain: loadRss.relayPlain!, relayGuarded: loadRss.relayGuarded! },
    sinceStart: { relayPlain: rssMb(plain.child.pid!, 'VmHWM'), relayGuarded: rssMb(guarded.child.pid!, 'VmHWM') },
  };
  if (ONLY) {
    // A partial run (profiling): last-run.json keeps the last full one.
    console.log(JSON.stringify({ ...summary, peakRssMb: rss }, null, 2));
    await Promise.all([vault.close(), identity.close()]);
    return;
  }
  const tail = (name: string) => Number((summary[name]!.p99Ms / summary[name]!.p50Ms).toFixed(2));
  const ratios = {
    guardedVsBareClaude: ratio('relayGuarded', 'bareNode'),
    guardedVsBareCodex: ratio('codexRelayGuarded', 'codexBareNode'),
    plainVsBareClaude: ratio('relayPlain', 'bareNode'),
    plainVsBareCodex: ratio('codexRelayPlain', 'codexBareNode'),
    relayGuardedVsNginx: ratio('relayGuarded', 'nginx'),
    codexRelayGuardedVsNginx: ratio('codexRelayGuarded', 'codexNginx'),
    bareNodeVsNginx: ratio('bareNode', 'nginx'),
    guardedVsPlainClaude: ratio('relayGuarded', 'relayPlain'),
    guardedVsPlainCodex: ratio('codexRelayGuarded', 'codexRelayPlain'),
  };
  // Exports per core-second, side by side: the inverse ratio of CPU time per request, each round's
  // processes measured on the same run. Unlike req/s, it does not depend on how the two cores were
  // shared with wrk and the upstream.
  const perCore = (a: string, b: string) =>
    Number(median(results.get(a)!.map((r, round) => results.get(b)![round]!.cpuMicrosPerRequest! / r.cpuMicrosPerRequest!)).toFixed(2));
  const perCoreRatios = {
    guardedVsBareClaude: perCore('relayGuarded', 'bareNode'),
    guardedVsBareCodex: perCore('codexRelayGuarded', 'codexBareNode'),
    plainVsBareClaude: perCore('relayPlain', 'bareNode'),
    plainVsBareCodex: perCore('codexRelayPlain', 'codexBareNode'),
    bareNodeVsNginx: perCore('bareNode', 'nginx'),
    codexBareNodeVsNginx: perCore('codexBareNode', 'codexNginx'),
  };
  const p99OverP50 = { relayGuarded: tail('relayGuarded'), codexRelayGuarded: tail('codexRelayGuarded'), relayPlain: tail('relayPlain'), codexRelayPlain: tail('codexRelayPlain') };
  // Issue 14's targets, judged on this run's figures.
  const targets = {
    guardedVsBareClaude: { target: '>= 0.85', met: ratios.guardedVsBareClaude >= 0.85 },
    guardedVsBareCodex: { target: '>= 0.75', met: ratios.guardedVsBareCodex >= 0.75 },
    p99OverP50: { target: '<= 4 (guarded, both payloads)', met: p99OverP50.relayGuarded <= 4 && p99OverP50.codexRelayGuarded <= 4 },
    peakRssMb: { target: '<= 120 during the load', met: Math.max(rss.duringLoad.relayPlain, rss.duringLoad.relayGuarded) <= 120 },
  };
  const report = {
    date: new Date().toISOString(),
    bodies: { claude: `claude-code-2.1.197.metrics.pb (${readFileSync(claude).length} bytes)`, codex: `codex-0.169.0.metrics.pb (${readFileSync(codex).length} bytes)` },
    load: `wrk -t2 -c${CONNECTIONS}, ${ROUNDS} rounds of ${SECONDS}s each, interleaved; medians; ratios: median of per-round ratios`,
    loadAverage: { before: loadBefore, after: loadavg().map((n) => Number(n.toFixed(2))) },
    ...summary,
    ratios,
    perCoreRatios,
    p99OverP50,
    targets,
    pipelineMicrosPerRequest: pipeline,
    keyVaultReads: vault.reads(),
    keyVaultReadsPer10kRequests: Number(((vault.reads() / relayRequests) * 10_000).toFixed(3)),
    relayRequests,
    peakRssMb: rss,
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
