import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The agents start slowly (Codex, Gemini: seconds); give each test room.
const AGENT_TIMEOUT_MS = 120_000;
import { gatewayTokenSecretName } from '../../shared/agents/gateway-token.js';
import { TelemetryDb } from '../../shared/local/telemetry-db.js';
import { environmentVariableFor } from '../../shared/secrets.js';
import { duckdbUsageStore } from '../../shared/usage/duckdb-usage-store.js';
import { recentDays, rollupUsage } from '../../shared/usage/rollup-usage.js';
import { fakeModelApis, USAGE } from '../fakes/model-apis.js';
import { fakeServer, type FakeServer, type RecordedRequest } from '../fakes/http-server.js';
import { gatewayRows, type GatewayRequest } from '../usage/builders.js';
import { TEST_SIGNING_KEY } from '../credentials.js';
import { agentClis } from './agent-clis.js';

/*
 * The real Claude Code, Codex and Gemini CLIs, configured only by what the relay's config endpoint
 * hands out, answer one prompt through loopback fakes of the AI Gateway's model APIs; their
 * telemetry goes through the relay (credential checked, identity stamped) into the embedded ingest.
 */

const run = promisify(execFile);
/** The environment variable standing in for a user's Key Vault gateway-token secret in local mode. */
const gatewayVariable = (userId: string) => environmentVariableFor(gatewayTokenSecretName('gateway-token-{user}', userId));
const LOCAL_USER = { id: 'local-developer', email: 'developer@localhost' };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Runner {
  child: ChildProcess;
  url: string;
  dbPath: string;
  stop(): Promise<void>;
}

async function startRunner(dir: string, models: FakeServer, extraEnv: Record<string, string>): Promise<Runner> {
  const port = await freePort();
  const dbPath = join(dir, 'telemetry.duckdb');
  const child = spawn(process.execPath, ['--import', 'tsx', 'shared/local/main.ts'], {
    env: {
      PATH: process.env.PATH,
      LOCAL_PORT: String(port),
      LOCAL_DUCKDB_PATH: dbPath,
      RELAY_SIGNING_KEY: TEST_SIGNING_KEY,
      AI_GATEWAY_URL: models.url,
      GATEWAY_TOKEN_HELPER: 'echo helper-gateway-token',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes(' on http://')) resolve();
    });
    child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`runner exited with ${code}: ${log}`)));
  });
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    dbPath,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** What `curl -o <path> <relay>/api/config/<agent>` does. */
async function fetchConfig(relay: string, target: string, path: string): Promise<void> {
  const response = await fetch(`${relay}/api/config/${target}`);
  expect(response.status, `GET /api/config/${target}`).toBe(200);
  expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="/);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, Buffer.from(await response.arrayBuffer()));
}

interface AgentRun {
  env?: Record<string, string>;
  timeoutMs?: number;
  /** The folder it runs in; default: a fresh folder inside HOME. */
  cwd?: string;
}

/** Runs an agent non-interactively (stdin closed: Codex reads a piped stdin as more prompt), whatever its exit code. */
async function spawnAgent(command: string, args: string[], home: string, options: AgentRun = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cwd = options.cwd ?? mkdtempSync(join(home, 'work-'));
  const child = spawn(command, args, { cwd, env: { PATH: process.env.PATH, HOME: home, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Runs an agent as spawnAgent does and answers its stdout; a non-zero exit fails the test. */
async function runAgent(command: string, args: string[], home: string, options: AgentRun = {}): Promise<string> {
  const { code, stdout, stderr } = await spawnAgent(command, args, home, options);
  if (code !== 0) throw new Error(`${command} exited with ${code}: ${stderr.slice(-2000)}`);
  return stdout;
}

async function telemetryRows(dbPath: string): Promise<{ service: string; email: string; id: string; agent: string; table: string; n: number }[]> {
  const instance = await DuckDBInstance.create(dbPath, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const rows = [];
    for (const table of ['agents_otel_metrics', 'agents_otel_logs', 'agents_otel_spans']) {
      const reader = await connection.runAndReadAll(
        `SELECT resource.attributes['service.name'] AS service, resource.attributes['user.email'] AS email,
           resource.attributes['user.id'] AS id, resource.attributes['coding_agent.name'] AS agent, count(*) AS n
         FROM coding_agents.${table} GROUP BY ALL ORDER BY ALL`,
      );
      rows.push(...reader.getRowObjectsJson().map((r) => ({ ...(r as Record<string, string>), table, n: Number(r.n) })));
    }
    return rows as never;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * For one describe block: a temporary folder, fake model APIs and `npm start`'s entry point using them,
 * started before its tests and stopped after. Read the values inside tests (they exist from beforeAll).
 */
function localRelay(env: Record<string, string>, models: () => Promise<FakeServer> = fakeModelApis) {
  const state = {} as { dir: string; models: FakeServer; runner: Runner };
  beforeAll(async () => {
    state.dir = mkdtempSync(join(tmpdir(), 'relay-agents-'));
    state.models = await models();
    state.runner = await startRunner(state.dir, state.models, env);
  });
  afterAll(async () => {
    await state.runner?.stop();
    await state.models?.close();
    rmSync(state.dir, { recursive: true, force: true });
  });
  return { dir: () => state.dir, models: () => state.models, runner: () => state.runner };
}

const clis = agentClis();

/** How each CLI is configured (files from the config endpoint), run, and seen at the model API. */
const AGENT_RUNS: { agent: string; configs: [string, string][]; cli: keyof typeof clis; args: string[]; env?: Record<string, string>; modelCall: RegExp }[] = [
  { agent: 'claude-code', configs: [['claude-code', '.claude/settings.json']], cli: 'claude', args: ['-p', 'say hi'], modelCall: /^\/anthropic\/v1\/messages/ },
  { agent: 'codex', configs: [['codex', '.codex/config.toml']], cli: 'codex', args: ['exec', '--skip-git-repo-check', 'say hi'], modelCall: /^\/openai\/v1\/responses$/ },
  {
    agent: 'gemini-cli',
    configs: [['gemini-cli?file=env', '.gemini/.env'], ['gemini-cli?file=settings', '.gemini/settings.json']],
    cli: 'gemini',
    args: ['-p', 'say hi'],
    modelCall: /:streamGenerateContent/,
  },
];

describe.each<{ tokenSource: string; env: Record<string, string>; gatewayToken: string; agents: string[] }>([
  { tokenSource: 'the user secret in Key Vault', env: { [gatewayVariable(LOCAL_USER.id)]: 'user-secret-gateway-token' }, gatewayToken: 'user-secret-gateway-token', agents: ['claude-code', 'codex', 'gemini-cli'] },
  { tokenSource: 'the Azure CLI helper', env: {}, gatewayToken: 'helper-gateway-token', agents: ['claude-code', 'codex'] },
])('real agent CLIs with configs from the relay, gateway token from $tokenSource', ({ env, gatewayToken, agents }) => {
  const { dir, models, runner } = localRelay(env);

  it.each(AGENT_RUNS.filter((run) => agents.includes(run.agent)))(
    '$agent answers one prompt through the gateway with the config from GET /api/config/$agent',
    async (run) => {
      const home = join(dir(), `${run.agent}-home`);
      for (const [target, path] of run.configs) await fetchConfig(runner().url, target, join(home, path));
      expect(await runAgent(clis[run.cli], run.args, home, { env: run.env })).toContain('hi');
      const call = models().requests.find((r) => run.modelCall.test(r.url));
      expect(call?.headers.authorization).toBe(`Bearer ${gatewayToken}`);
      if (run.agent === 'claude-code') expect(call?.headers['x-databricks-use-coding-agent-mode']).toBe('true');
    },
    AGENT_TIMEOUT_MS,
  );

  it("lands each agent's telemetry in DuckDB, stamped with the user's identity", async () => {
    await runner().stop(); // the agents flushed on exit; DuckDB is readable once the runner is gone
    const rows = await telemetryRows(runner().dbPath);
    const services = new Set(rows.map((r) => r.service));
    const expected = { 'claude-code': 'claude-code', codex: 'codex_exec', 'gemini-cli': 'gemini-cli' } as Record<string, string>;
    for (const agent of agents) expect(services, `telemetry of ${agent}`).toContain(expected[agent]);
    for (const row of rows) {
      expect(row).toMatchObject({ email: LOCAL_USER.email, id: LOCAL_USER.id });
      expect(row.service.startsWith(row.agent)).toBe(true);
    }
    expect(rows.filter((r) => r.table === 'agents_otel_logs').length).toBeGreaterThan(0);
  });

  it('rolls telemetry and the gateway record up to one priced row per agent, Cursor included, with the tokens the model API reported', async () => {
    const names = { catalog: 'dev', schema: 'coding_agents', prefix: 'agents', gatewayUsage: 'dev.ai_gateway.usage' };
    const db = await TelemetryDb.open(runner().dbPath, names);
    try {
      // The gateway's record of each model call the CLIs made (as the AI Gateway would log it, with the
      // User-Agent they really sent), and one Cursor request, into the local stand-in of its usage table.
      const calls = models().requests.filter((r) => AGENT_RUNS.some((run) => agents.includes(run.agent) && run.modelCall.test(r.url)));
      await gatewayRows(db, names.gatewayUsage, [
        ...calls.map((call, i) => gatewayRecordOf(call, `call-${i}`, LOCAL_USER.email)),
        { requestId: 'cursor-1', at: new Date().toISOString(), requester: LOCAL_USER.email, userAgent: 'Go-http-client/2.0', url: `${models().url}/cursor/v1/chat/completions`, model: 'databricks-gpt-5-2', input: 1000, output: 50, cacheRead: 200 },
      ]);
      const store = duckdbUsageStore(db.connection);
      const result = await rollupUsage(store, names, recentDays(new Date(), 2));
      const rows = await store.query(
        `SELECT agent, count(*) AS model_rows, sum(requests) AS requests, sum(gateway_requests) AS gateway_requests, sum(telemetry_requests) AS telemetry_requests,
           sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cost_usd) AS cost, min(tokens_source) AS source, min(user_id) AS user_id,
           sum(telemetry_input_tokens) AS t_input, sum(telemetry_output_tokens) AS t_output, sum(telemetry_cache_read_tokens) AS t_cached, min(telemetry_source) AS t_source, min(user_email) AS email
         FROM dev.coding_agents.agents_usage_daily WHERE model <> '' GROUP BY agent ORDER BY agent`,
        {},
      );
      expect(rows.map((r) => r.agent)).toEqual([...agents, 'cursor'].sort());
      expect(result.unpriced).toEqual({ rows: 0, models: [] });
      const perRequest: Record<string, [number, number, number]> = {
        'claude-code': [USAGE.anthropic.input, USAGE.anthropic.output, USAGE.anthropic.cacheRead],
        codex: [USAGE.openai.input, USAGE.openai.output, USAGE.openai.cached],
        'gemini-cli': [USAGE.gemini.prompt, USAGE.gemini.candidates, 0],
      };
      for (const row of rows) {
        const agent = String(row.agent);
        // One row per agent: the telemetry and the gateway's record of the same calls met on it.
        expect([Number(row.model_rows), row.source, row.user_id, Number(row.cost) > 0, Number(row.input) > 0, Number(row.output) > 0], agent).toEqual([
          1, 'gateway', LOCAL_USER.id, true, true, true,
        ]);
        if (agent === 'cursor') continue;
        const n = calls.filter((c) => AGENT_RUNS.find((r) => r.agent === agent)!.modelCall.test(c.url)).length;
        const [input, output, cached] = perRequest[agent]!;
        expect(n, agent).toBeGreaterThan(0);
        expect([Number(row.gateway_requests), Number(row.telemetry_requests), Number(row.t_input), Number(row.t_output), Number(row.t_cached ?? 0), row.t_source, row.email], agent).toEqual([
          n,
          n,
          n * input,
          n * output,
          n * cached,
          'events',
          LOCAL_USER.email,
        ]);
      }
    } finally {
      db.close();
    }
  });

  it('sends the AI Gateway the User-Agent its config sets, which the roll-up classifies by', () => {
    for (const run of AGENT_RUNS.filter((r) => agents.includes(r.agent))) {
      const call = models().requests.find((r) => run.modelCall.test(r.url));
      expect(call?.headers['user-agent'], run.agent).toBe(`coding-agent-relay (${run.agent})`);
    }
  });
});

/** The AI Gateway's usage row for a model call the fake answered (tokens as test/fakes/model-apis.ts reports them). */
function gatewayRecordOf(call: RecordedRequest, requestId: string, requester: string): GatewayRequest {
  const common = { requestId, at: new Date().toISOString(), requester, userAgent: String(call.headers['user-agent']), url: call.url };
  if (call.url.includes('/anthropic/')) {
    // Counted as Databricks' ucode reads the table: cache reads and writes within input_tokens.
    const { input, output, cacheRead, cacheCreation } = USAGE.anthropic;
    return { ...common, model: JSON.parse(call.body.toString()).model, input: input + cacheRead + cacheCreation, output, cacheRead, cacheCreation };
  }
  if (call.url.includes('/gemini/')) {
    return { ...common, model: /models\/([^/:]+):/.exec(call.url)![1]!, input: USAGE.gemini.prompt, output: USAGE.gemini.candidates };
  }
  return { ...common, model: JSON.parse(call.body.toString()).model, input: USAGE.openai.input, output: USAGE.openai.output, cacheRead: USAGE.openai.cached };
}

describe('install.sh', () => {
  const { dir, runner } = localRelay({});

  it('on a fresh machine creates every file with its folder, and the first re-run prints unchanged for each', async () => {
    const home = join(dir(), 'fresh-home');
    const script = join(dir(), 'install-fresh.sh');
    writeFileSync(script, await (await fetch(`${runner().url}/api/config/install.sh?agents=claude-code,codex,gemini-cli`)).text());
    const env = { PATH: process.env.PATH, HOME: home };
    const first = await run('sh', [script], { env });
    expect(first.stdout.match(/: created/g)).toHaveLength(4);
    const second = await run('sh', [script], { env });
    expect(second.stdout.match(/: unchanged/g)).toHaveLength(4);
    expect(second.stdout).not.toContain('backup');
  });

  it('names a missing prerequisite', async () => {
    const bin = mkdtempSync(join(dir(), 'bin-'));
    symlinkSync('/usr/bin/curl', join(bin, 'curl'));
    const script = join(dir(), 'install-nonode.sh');
    writeFileSync(script, await (await fetch(`${runner().url}/api/config/install.sh?agents=codex`)).text());
    const failed = await run('/bin/sh', [script], { env: { PATH: bin, HOME: join(dir(), 'nonode-home') } }).then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => e);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('install.sh: node is required but not found on PATH');
  });

  it('merges into existing files without losing unrelated keys, keeps backups, and is idempotent', async () => {
    const home = join(dir(), 'home');
    const file = (path: string, body: string) => {
      mkdirSync(dirname(join(home, path)), { recursive: true });
      writeFileSync(join(home, path), body);
    };
    file('.claude/settings.json', JSON.stringify({ permissions: { allow: ['Bash(ls)'] }, env: { MY_VAR: 'keep', ANTHROPIC_MODEL: 'old-model' } }, null, 2));
    file('.codex/config.toml', 'model = "old"\napproval_policy = "never"\n\n[projects."/src/app"]\ntrust_level = "trusted"\n\n[otel.exporter.otlp-http]\nendpoint = "https://old.example/v1/logs"\n');
    file('.gemini/.env', 'MY_KEY=keep-me\nGEMINI_MODEL=old\n');
    file('.gemini/settings.json', JSON.stringify({ theme: 'Dracula', telemetry: { enabled: false, outfile: '/tmp/x' } }));

    const script = await (await fetch(`${runner().url}/api/config/install.sh?agents=claude-code,codex,gemini-cli`)).text();
    writeFileSync(join(dir(), 'install.sh'), script);
    const first = await run('sh', [join(dir(), 'install.sh')], { env: { PATH: process.env.PATH, HOME: home } });
    expect(first.stdout).toContain('backup in');

    const claude = JSON.parse(readFileSync(join(home, '.claude/settings.json'), 'utf8'));
    expect(claude.permissions).toEqual({ allow: ['Bash(ls)'] });
    expect(claude.env).toMatchObject({ MY_VAR: 'keep', ANTHROPIC_MODEL: 'databricks-claude-opus-4-6', CLAUDE_CODE_ENABLE_TELEMETRY: '1' });
    expect(claude.apiKeyHelper).toBe('echo helper-gateway-token');
    expect(claude.env.OTEL_EXPORTER_OTLP_HEADERS).toBeUndefined();
    expect(claude.otelHeadersHelper).toContain('/api/credential?agent=claude-code');

    const codex = readFileSync(join(home, '.codex/config.toml'), 'utf8');
    const { parse } = await import('smol-toml');
    const toml = parse(codex) as any;
    expect(toml).toMatchObject({ model: 'databricks-gpt-5-2', approval_policy: 'never', model_provider: 'databricks', projects: { '/src/app': { trust_level: 'trusted' } } });
    expect(toml.otel.exporter['otlp-http'].endpoint).toBe(`${runner().url}/api/otel/v1/logs`);

    expect(readFileSync(join(home, '.gemini/.env'), 'utf8')).toMatch(/^MY_KEY=keep-me$/m);
    expect(readFileSync(join(home, '.gemini/.env'), 'utf8')).toMatch(/^GEMINI_MODEL="databricks-gemini-2-5-flash"$/m);
    const gemini = JSON.parse(readFileSync(join(home, '.gemini/settings.json'), 'utf8'));
    expect(gemini).toMatchObject({ theme: 'Dracula', telemetry: { enabled: true, outfile: '/tmp/x', otlpProtocol: 'http', logPrompts: false } });

    const backups = (sub: string) => readdirSync(join(home, sub)).filter((f) => f.includes('.bak.'));
    expect(backups('.claude')).toHaveLength(1);
    expect(backups('.codex')).toHaveLength(1);
    expect(backups('.gemini')).toHaveLength(2);

    const snapshot = () => ['.claude/settings.json', '.codex/config.toml', '.gemini/.env', '.gemini/settings.json'].map((p) => readFileSync(join(home, p), 'utf8'));
    const before = snapshot();
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a new timestamp would show as a new backup
    const second = await run('sh', [join(dir(), 'install.sh')], { env: { PATH: process.env.PATH, HOME: home } });
    expect(second.stdout.match(/unchanged/g)).toHaveLength(4);
    expect(snapshot()).toEqual(before);
    expect(backups('.claude')).toHaveLength(1);
    expect(backups('.gemini')).toHaveLength(2);
  });
});

describe('install.sh when the relay refuses', () => {
  const { dir, runner } = localRelay({ AI_GATEWAY_URL: '' });

  it("shows the relay's own message, installs nothing and exits 1", async () => {
    const home = join(dir(), 'home');
    const script = join(dir(), 'install.sh');
    writeFileSync(script, await (await fetch(`${runner().url}/api/config/install.sh?agents=codex`)).text());
    const failed = await run('sh', [script], { env: { PATH: process.env.PATH, HOME: home } }).then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => e);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`${runner().url}/api/config/codex answered 503:`);
    expect(failed.stderr).toContain('setting AI_GATEWAY_URL is not set');
    expect(existsSync(join(home, '.codex/config.toml'))).toBe(false);
  });
});

/**
 * An Anthropic Messages fake that keeps Claude Code busy: the main loop (requests offering the Bash
 * tool) gets `sleep <seconds>` tool calls until it has run `turns` of them, then a final "done";
 * side calls (no tools) get plain text.
 */
async function busyAnthropic(turns: number, seconds: number): Promise<FakeServer> {
  return fakeServer((req, res) => {
    if (req.method !== 'POST' || !/\/anthropic\/v1\/messages$/.test(req.url.split('?')[0]!)) {
      res.writeHead(404).end();
      return;
    }
    const body = JSON.parse(req.body.toString() || '{}') as { model?: string; tools?: { name: string }[]; messages?: { role: string }[] };
    const done = (body.messages ?? []).filter((m) => m.role === 'assistant').length;
    const tool = (body.tools ?? []).some((t) => t.name === 'Bash') && done < turns;
    const usage = { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
    const message = { id: `msg_${req.body.length}_${done}`, type: 'message', role: 'assistant', model: body.model ?? 'm', stop_reason: null, stop_sequence: null };
    const block = tool
      ? [
          ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: `toolu_${done}`, name: 'Bash', input: {} } }],
          ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify({ command: `sleep ${seconds}`, description: 'Wait' }) } }],
        ]
      : [
          ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
          ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'done' } }],
        ];
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const [event, data] of [
      ['message_start', { type: 'message_start', message: { ...message, content: [], usage } }],
      ...block,
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      ['message_delta', { type: 'message_delta', delta: { stop_reason: tool ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } }],
      ['message_stop', { type: 'message_stop' }],
    ] as [string, object][]) {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    }
    res.end();
  });
}

describe('Claude Code with short-lived relay credentials from its otelHeadersHelper', () => {
  // One-minute credentials (plus the relay's minute of clock tolerance), refreshed every 15 s; the
  // session runs well past the expiry of the credential it started with.
  const TURNS = 6;
  const SLEEP_SECONDS = 25;
  const { dir, models, runner } = localRelay({ RELAY_SHORT_CREDENTIAL_MINUTES: '1' }, () => busyAnthropic(TURNS, SLEEP_SECONDS));

  it(
    'keeps exporting across the expiry of the credential it started with, losing no event',
    async () => {
      const home = join(dir(), 'claude-home');
      await fetchConfig(runner().url, 'claude-code', join(home, '.claude/settings.json'));
      const settings = JSON.parse(readFileSync(join(home, '.claude/settings.json'), 'utf8'));
      expect(settings.env.OTEL_EXPORTER_OTLP_HEADERS).toBeUndefined();
      expect(settings.env.CLAUDE_CODE_OTEL_HEADERS_HELPER_DEBOUNCE_MS).toBe('15000');

      // What the helper prints at the start of the session: a credential that expires during it.
      const startedAt = Date.now();
      const first = JSON.parse((await run('sh', ['-c', settings.otelHeadersHelper], { env: { PATH: process.env.PATH, HOME: home } })).stdout);
      expect(Object.keys(first)).toEqual(['Authorization']);

      await runAgent(clis.claude, ['-p', 'wait a while', '--allowedTools', 'Bash'], home, { env: { OTEL_LOGS_EXPORT_INTERVAL: '2000' }, timeoutMs: 240_000 });
      const endedAt = Date.now();
      expect(endedAt - startedAt, 'the session outlived its first credential').toBeGreaterThan(125_000);

      // That first credential is refused now ...
      const stale = await fetch(`${runner().url}/api/otel/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', authorization: first.Authorization }, body: new Uint8Array() });
      expect(stale.status).toBe(401);
      expect(await stale.text()).toContain('credential expired');

      // ... yet every model call of the session, the late ones included, arrived as an api_request event.
      await runner().stop();
      const calls = models().requests.filter((r) => /\/v1\/messages$/.test(r.url.split('?')[0]!)).length;
      const instance = await DuckDBInstance.create(runner().dbPath, { access_mode: 'READ_ONLY' });
      const connection = await instance.connect();
      try {
        const reader = await connection.runAndReadAll(
          `SELECT time_unix_nano AS t, resource.attributes['user.email'] AS email FROM coding_agents.agents_otel_logs
           WHERE resource.attributes['service.name'] = 'claude-code' AND attributes['event.name'] = 'api_request' ORDER BY t`,
        );
        const events = reader.getRowObjectsJson().map((r) => ({ t: Number(r.t) / 1e6, email: String(r.email) }));
        expect(events.length).toBe(calls);
        expect(calls).toBeGreaterThanOrEqual(TURNS + 1);
        expect(events.at(-1)!.t - startedAt, 'an event from after the first credential expired').toBeGreaterThan(125_000);
        for (const event of events) expect(event.email).toBe(LOCAL_USER.email);
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
    },
    300_000,
  );
});

/** The three folders a Gemini CLI user runs in, outside HOME, none of them trusted. */
const GEMINI_FOLDERS: { folder: string; dotenv?: string }[] = [
  { folder: 'a fresh untrusted folder' },
  { folder: "a folder whose .env sets its own GEMINI_API_KEY", dotenv: 'GEMINI_API_KEY=AIzaProjectOwnKey\n' },
  { folder: 'a folder whose .env sets unrelated variables', dotenv: 'DATABASE_URL=postgres://localhost/app\nDEBUG=1\n' },
];

async function geminiHome(dir: string, relay: string, name: string): Promise<string> {
  const home = join(dir, name);
  await fetchConfig(relay, 'gemini-cli?file=env', join(home, '.gemini/.env'));
  await fetchConfig(relay, 'gemini-cli?file=settings', join(home, '.gemini/settings.json'));
  return home;
}

function project(dir: string, dotenv: string | undefined): string {
  const folder = mkdtempSync(join(dir, 'project-'));
  if (dotenv !== undefined) writeFileSync(join(folder, '.env'), dotenv);
  return folder;
}

describe('Gemini CLI with only the issued files, in folders it does not trust', () => {
  const { dir, models, runner } = localRelay({ [gatewayVariable(LOCAL_USER.id)]: 'user-secret-gateway-token' });

  it.each(GEMINI_FOLDERS)(
    'goes through the gateway from $folder',
    async ({ dotenv }) => {
      const home = await geminiHome(dir(), runner().url, 'gemini-home');
      const before = models().requests.length;
      expect(await runAgent(clis.gemini, ['-p', 'say hi'], home, { cwd: project(dir(), dotenv) })).toContain('hi');
      const calls = models().requests.slice(before).filter((r) => /:streamGenerateContent/.test(r.url));
      expect(calls.length).toBeGreaterThan(0);
      for (const call of calls) expect(call.headers.authorization).toBe('Bearer user-secret-gateway-token');
    },
    AGENT_TIMEOUT_MS,
  );

  it('has every run\'s telemetry accepted: one api_response event per model call, stamped with the user', async () => {
    await runner().stop();
    const calls = models().requests.filter((r) => /:streamGenerateContent/.test(r.url)).length;
    const instance = await DuckDBInstance.create(runner().dbPath, { access_mode: 'READ_ONLY' });
    const connection = await instance.connect();
    try {
      const reader = await connection.runAndReadAll(
        `SELECT count(*) AS n, min(resource.attributes['user.email']) AS email FROM coding_agents.agents_otel_logs
         WHERE resource.attributes['service.name'] = 'gemini-cli' AND attributes['event.name'] = 'gemini_cli.api_response'`,
      );
      const [row] = reader.getRowObjectsJson();
      expect(calls).toBeGreaterThanOrEqual(GEMINI_FOLDERS.length);
      expect(Number(row!.n)).toBe(calls);
      expect(row!.email).toBe(LOCAL_USER.email);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

describe('Gemini CLI with GEMINI_FOLDER_TRUST=on, in folders it does not trust', () => {
  const { dir, models, runner } = localRelay({ GEMINI_FOLDER_TRUST: 'on', [gatewayVariable(LOCAL_USER.id)]: 'user-secret-gateway-token' });

  it.each(GEMINI_FOLDERS)(
    'stops before any model call from $folder, saying what is missing, and sends nothing anywhere',
    async ({ dotenv }) => {
      const home = await geminiHome(dir(), runner().url, 'gemini-home');
      const result = await spawnAgent(clis.gemini, ['-p', 'say hi'], home, { cwd: project(dir(), dotenv) });
      expect(result.code).toBe(41);
      expect(result.stderr).toContain('GEMINI_API_KEY');
      expect(models().requests).toEqual([]);
    },
    AGENT_TIMEOUT_MS,
  );
});
