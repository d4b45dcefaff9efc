import { execFile } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseDotenv } from 'dotenv';
import { parse as parseToml } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLAUDE_CODE_OWNED_KEYS } from '../../shared/agents/claude-code.js';
import { CODEX_OWNED_KEYS } from '../../shared/agents/codex.js';
import { configHandler } from '../../shared/agents/handle-config.js';
import { GEMINI_ENV_OWNED_KEYS, GEMINI_SETTINGS_OWNED_KEYS } from '../../shared/agents/gemini-cli.js';
import { MERGE_JS } from '../../shared/agents/merge-script.js';
import { signingKey } from '../../shared/identity/relay-credentials.js';
import { environmentSource, SecretCache } from '../../shared/secrets.js';
import { loadSettings, type Env } from '../../shared/settings.js';
import { TEST_SIGNING_KEY } from '../credentials.js';
import { DOTFILES, type Dotfile } from '../fixtures/dotfiles.js';

/*
 * install.sh's merge program run with node, as install.sh runs it, over a corpus of real-world
 * dotfiles. Each result is parsed back with the parser the agent uses (JSON, smol-toml, dotenv) and
 * compared with what the user had plus what the app owns; a second run must change nothing.
 */

const run = promisify(execFile);
type Kind = 'json' | 'env' | 'toml';
const OWNED: Record<string, string[]> = {
  'claude-code': CLAUDE_CODE_OWNED_KEYS,
  codex: CODEX_OWNED_KEYS,
  'gemini-env': GEMINI_ENV_OWNED_KEYS,
  'gemini-settings': GEMINI_SETTINGS_OWNED_KEYS,
};
const PARSE: Record<Kind, (text: string) => Record<string, unknown>> = {
  json: (text) => (text.trim() === '' ? {} : JSON.parse(text.replace(/^\uFEFF/, ''))),
  toml: (text) => parseToml(text.replace(/^\uFEFF/, '')) as Record<string, unknown>,
  env: (text) => parseDotenv(text),
};

let dir: string;
let incoming: Record<string, string>;

async function served(target: string, env: Env = {}): Promise<string> {
  const settings = loadSettings({ AI_GATEWAY_URL: 'https://gw.example.net', RELAY_PUBLIC_URL: 'https://relay.example.net', GATEWAY_TOKEN_HELPER: '', ...env });
  const handler = configHandler({
    settings,
    secrets: new SecretCache(environmentSource({}), { ttlMs: 60_000, maxStaleMs: 0 }),
    userSignIn: async () => ({ id: 'u-1', email: 'dev@contoso.example', roles: [], source: 'entra' }),
    signingKeys: async () => ({ current: signingKey(TEST_SIGNING_KEY) }),
    warn: () => {},
  });
  const [agent, query = ''] = target.split('?');
  const response = await handler(agent!, { method: 'GET', url: `/api/config/${agent}?${query}`, headers: {}, body: new Uint8Array() });
  expect(response.status).toBe(200);
  return Buffer.from(response.body).toString('utf8');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'merge-'));
  writeFileSync(join(dir, 'merge.cjs'), MERGE_JS);
  writeFileSync(join(dir, 'smol-toml.cjs'), readFileSync(createRequire(import.meta.url).resolve('smol-toml'), 'utf8'));
  incoming = {
    'claude-code': await served('claude-code'),
    codex: await served('codex'),
    'gemini-env': await served('gemini-cli?file=env'),
    'gemini-settings': await served('gemini-cli?file=settings'),
  };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function merge(kind: Kind, file: string, app: string, incomingText = incoming[app]!) {
  const incomingFile = join(dir, `incoming-${app}`);
  writeFileSync(incomingFile, incomingText);
  return run(process.execPath, [join(dir, 'merge.cjs'), kind, file, incomingFile, JSON.stringify(OWNED[app])], {
    env: { PATH: process.env.PATH, SMOL_TOML: join(dir, 'smol-toml.cjs'), STAMP: `t${Date.now()}${Math.random()}` },
  }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

const get = (obj: unknown, path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), obj);
function without(obj: Record<string, unknown>, owned: string[]): Record<string, unknown> {
  const copy = structuredClone(obj);
  for (const path of owned.map((p) => p.split('.'))) {
    const parent = get(copy, path.slice(0, -1));
    if (parent && typeof parent === 'object') delete (parent as Record<string, unknown>)[path.at(-1)!];
  }
  return copy;
}

/** Drops the empty tables the app's keys left behind where the user had none (parents of owned keys). */
function pruneAdded(result: Record<string, unknown>, mine: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(result)) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
    const theirs = mine[key] && typeof mine[key] === 'object' ? (mine[key] as Record<string, unknown>) : {};
    pruneAdded(value as Record<string, unknown>, theirs);
    if (Object.keys(value).length === 0 && !(key in mine)) delete result[key];
  }
  return result;
}

let seq = 0;
function place(dotfile: Dotfile): string {
  const file = join(dir, `case-${seq++}`, dotfile.name);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, dotfile.body);
  return file;
}

describe('install.sh merge program', () => {
  it.each(DOTFILES)('$app: $title: keeps what the user had, sets what the app owns, and changes nothing on a second run', async (dotfile) => {
    const file = place(dotfile);
    const first = await merge(dotfile.kind, file, dotfile.app);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const after = readFileSync(file, 'utf8');
    const parse = PARSE[dotfile.kind];
    const mine = parse(dotfile.body);
    const result = parse(after);
    const app = parse(incoming[dotfile.app]!);
    const owned = OWNED[dotfile.app]!;
    // Everything outside the app's keys is exactly what the user had ...
    expect(pruneAdded(without(result, owned), mine)).toEqual(without(mine, owned));
    // ... and the app's keys are the app's (a pasted token survives a placeholder).
    for (const path of owned.map((p) => p.split('.'))) {
      const theirs = get(app, path);
      const expected = theirs === 'REPLACE_WITH_YOUR_DATABRICKS_TOKEN' && typeof get(mine, path) === 'string' ? get(mine, path) : theirs;
      expect(get(result, path), path.join('.')).toEqual(expected);
    }
    for (const line of dotfile.keepLines ?? []) expect(after).toContain(line);
    if (dotfile.body.includes('\r\n')) expect(after.replace(/\r\n/g, '')).not.toContain('\n');
    if (dotfile.body.startsWith('\uFEFF')) expect(after.startsWith('\uFEFF')).toBe(true);
    const second = await merge(dotfile.kind, file, dotfile.app);
    expect(second.stdout.trim()).toBe(`${file}: unchanged`);
    expect(readFileSync(file, 'utf8')).toBe(after);
  });

  it.each([
    ['codex', 'toml', 'config.toml', 'model = "a"\n[otel\nx = 1\n', /config\.toml: not valid TOML at line 2 /],
    ['claude-code', 'json', 'settings.json', '{\n  "env": {\n    "A": "b",\n  }\n}\n', /settings\.json: not valid JSON at line \d/],
  ] as const)('leaves a %s file it cannot parse untouched and names the file and line', async (app, kind, name, body, message) => {
    const file = place({ app, kind, name, title: '', body });
    const result = await merge(kind, file, app);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(readFileSync(file, 'utf8')).toBe(body);
    expect(readdirSync(join(file, '..'))).toEqual([name]);
  });

  it('leaves a read-only file alone and says so', async () => {
    const body = 'model = "mine"\n';
    const file = place({ app: 'codex', kind: 'toml', name: 'config.toml', title: '', body });
    chmodSync(file, 0o444);
    const result = await merge('toml', file, 'codex');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}: read-only; left alone`);
    expect(readFileSync(file, 'utf8')).toBe(body);
  });

  it('writes through a symlink, keeping the link and the file mode', async () => {
    const real = place({ app: 'gemini-settings', kind: 'json', name: 'real-settings.json', title: '', body: '{ "theme": "Dracula" }\n' });
    chmodSync(real, 0o640);
    const link = join(real, '..', 'settings.json');
    symlinkSync(real, link);
    const result = await merge('json', link, 'gemini-settings');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`(through the symlink to ${real})`);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(real);
    expect(JSON.parse(readFileSync(real, 'utf8'))).toMatchObject({ theme: 'Dracula', telemetry: { otlpProtocol: 'http' } });
    expect(lstatSync(real).mode & 0o777).toBe(0o640);
  });

  it('creates a missing file and its folder with mode 0600', async () => {
    const file = join(dir, 'fresh', 'nested', 'config.toml');
    const result = await merge('toml', file, 'codex');
    expect(result.stdout).toContain(`${file}: created`);
    expect(readFileSync(file, 'utf8')).toBe(incoming.codex);
    expect(lstatSync(file).mode & 0o777).toBe(0o600);
    expect((await merge('toml', file, 'codex')).stdout.trim()).toBe(`${file}: unchanged`);
  });

  it('removes keys the app owned before and no longer sets (a long-lived credential in Claude Code settings)', async () => {
    const body = JSON.stringify({ env: { OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer old.long.lived', MINE: '1' } }, null, 2);
    const file = place({ app: 'claude-code', kind: 'json', name: 'settings.json', title: '', body });
    const result = await merge('json', file, 'claude-code');
    expect(result.stdout).toContain('removed env.OTEL_EXPORTER_OTLP_HEADERS');
    const merged = JSON.parse(readFileSync(file, 'utf8'));
    expect(merged.env.MINE).toBe('1');
    expect(merged.env.OTEL_EXPORTER_OTLP_HEADERS).toBeUndefined();
    expect(typeof merged.otelHeadersHelper).toBe('string');
  });

  it('keeps a Gemini key the user pasted over the placeholder, run after run', async () => {
    const placeholder = await served('gemini-cli?file=env', { GATEWAY_TOKEN_HELPER: '' });
    expect(placeholder).toContain('GEMINI_API_KEY="REPLACE_WITH_YOUR_DATABRICKS_TOKEN"');
    const file = place({ app: 'gemini-env', kind: 'env', name: '.env', title: '', body: '' });
    await merge('env', file, 'gemini-env', placeholder);
    writeFileSync(file, readFileSync(file, 'utf8').replace('REPLACE_WITH_YOUR_DATABRICKS_TOKEN', 'dapi-pasted-by-me'));
    const again = await merge('env', file, 'gemini-env', placeholder);
    expect(again.stdout.trim()).toBe(`${file}: unchanged`);
    expect(parseDotenv(readFileSync(file, 'utf8')).GEMINI_API_KEY).toBe('dapi-pasted-by-me');
    expect(existsSync(file)).toBe(true);
  });
});
