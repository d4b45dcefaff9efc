import { answering } from '../answering.js';
import { createHash } from 'node:crypto';
import { parse as parseDotenv } from 'dotenv';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { configHandler } from '../../shared/agents/handle-config.js';
import { envFile } from '../../shared/agents/env-file.js';
import { jsonFile, oneLine, UnsafeValueError } from '../../shared/agents/unsafe-value.js';
import { CredentialVerifier, parseRevocations, signingKey } from '../../shared/identity/relay-credentials.js';
import { easyAuthSignIn, entraSignIn, type SignedInUser, type UserSignIn } from '../../shared/identity/user-sign-in.js';
import { bufferedBody, type PlainRequest } from '../../shared/http.js';
import { environmentSource, environmentVariableFor, SecretCache } from '../../shared/secrets.js';
import { gatewayTokenSecretName } from '../../shared/agents/gateway-token.js';
import { loadSettings, type Env } from '../../shared/settings.js';
import { TEST_SIGNING_KEY } from '../credentials.js';

const KEYS = { current: signingKey(TEST_SIGNING_KEY) };
const BOB: SignedInUser = { id: 'bob-0001', email: 'bob@contoso.example', roles: [], source: 'entra' };
const CAROL: SignedInUser = { id: 'carol-0002', email: 'carol@contoso.example', roles: [], source: 'entra' };

/** A sign-in that trusts an `x-test-user` header: the handler's own logic is what is under test. */
const headerSignIn: UserSignIn = async (headers) => (headers['x-test-user'] === 'carol' ? CAROL : BOB);

/** `signIn` null: sign-in not configured. */
function handler(env: Env = {}, signIn: UserSignIn | null = headerSignIn, warnings: string[] = []) {
  const settings = loadSettings({ AI_GATEWAY_URL: 'https://gw.example.net', RELAY_PUBLIC_URL: 'https://relay.example.net', ...env });
  const secrets = new SecretCache(environmentSource(env), { ttlMs: 60_000, maxStaleMs: 0, timeoutMs: 1000 });
  return answering(configHandler({ settings, secrets, userSignIn: signIn ?? undefined, signingKeys: async () => KEYS, warn: (m) => warnings.push(m) }));
}

function get(url: string, headers: Record<string, string> = {}): PlainRequest {
  return { method: 'GET', url, headers, body: bufferedBody(new Uint8Array()) };
}

const text = (body: Uint8Array) => Buffer.from(body).toString('utf8');
/** The environment variable standing in for a user's Key Vault secret in these tests. */
const gatewayVariable = (userId: string) => environmentVariableFor(gatewayTokenSecretName('gateway-token-{user}', userId));

describe('configHandler', () => {
  it('answers an unknown agent with 404 listing the supported ones', async () => {
    const response = await handler()('vim', get('/api/config/vim'));
    expect(response.status).toBe(404);
    expect(JSON.parse(text(response.body))).toMatchObject({ error: 'unknown agent "vim"', supported: ['claude-code', 'codex', 'gemini-cli', 'cursor'] });
  });

  it('offers only the agents in CONFIG_AGENTS', async () => {
    expect((await handler({ CONFIG_AGENTS: 'codex' })('cursor', get('/api/config/cursor'))).status).toBe(404);
  });

  it('answers other methods with 405', async () => {
    expect((await handler()('codex', { ...get('/api/config/codex'), method: 'POST' })).status).toBe(405);
  });

  it('answers 401 without a valid user token', async () => {
    const entra = entraSignIn({ audience: ['api://relay'], issuers: ['https://login.microsoftonline.com/t/v2.0'], jwksUrl: 'http://127.0.0.1:9/keys' });
    const response = await handler({}, entra)('codex', get('/api/config/codex'));
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="coding-agent-relay"');
    expect((await handler({}, entra)('codex', get('/api/config/codex', { authorization: 'Basic x' }))).status).toBe(401);
  });

  it('answers 503 naming the missing setting', async () => {
    expect(JSON.parse(text((await handler({}, null)('codex', get('/api/config/codex'))).body)).error).toMatch(/ENTRA_TENANT_ID/);
    expect(JSON.parse(text((await handler({ AI_GATEWAY_URL: '' })('codex', get('/api/config/codex'))).body)).error).toMatch(/AI_GATEWAY_URL/);
  });

  it('serves the file with its name, type and no caching', async () => {
    const response = await handler()('claude-code', get('/api/config/claude-code'));
    expect(response.status).toBe(200);
    expect(response.headers).toMatchObject({
      'content-type': 'application/json',
      'content-disposition': 'attachment; filename="settings.json"',
      'cache-control': 'no-store',
      'x-config-path': '~/.claude/settings.json',
    });
  });

  it('embeds a long-lived relay credential naming the signed-in user and the agent for agents without a header helper', async () => {
    const env = text((await handler()('gemini-cli', get('/api/config/gemini-cli'))).body);
    const header = /^OTEL_EXPORTER_OTLP_HEADERS="Authorization=(Bearer [^"]+)"$/m.exec(env)![1]!;
    const verifier = new CredentialVerifier({ keys: async () => KEYS, revocations: async () => parseRevocations('') });
    const caller = await verifier.verify(header);
    expect(caller).toMatchObject({ userId: BOB.id, email: BOB.email, agent: 'gemini-cli' });
    expect(caller.expiresAt * 1000 - Date.now()).toBeGreaterThan(89 * 86_400_000);
  });

  it('gives Claude Code no credential but a headers helper refreshed every quarter of the short credential life', async () => {
    const settings = JSON.parse(text((await handler({ ENTRA_TENANT_ID: 'contoso.onmicrosoft.com', ENTRA_AUDIENCE: 'api://relay' })('claude-code', get('/api/config/claude-code'))).body));
    expect(settings.env.OTEL_EXPORTER_OTLP_HEADERS).toBeUndefined();
    expect(JSON.stringify(settings)).not.toMatch(/eyJ/);
    expect(settings.env.CLAUDE_CODE_OTEL_HEADERS_HELPER_DEBOUNCE_MS).toBe('900000');
    expect(settings.otelHeadersHelper).toContain(`az account get-access-token --resource 'api://relay'`);
    expect(settings.otelHeadersHelper).toContain(`'https://relay.example.net/api/credential?agent=claude-code'`);
  });

  it('renders managed-settings.json for MDM with the gateway, the telemetry endpoint and the helper, and nobody\'s token', async () => {
    const env = { GATEWAY_TOKEN_HELPER: '', [gatewayVariable(BOB.id)]: 'bob-token-123456' };
    const response = await handler(env)('claude-code', get('/api/config/claude-code?format=managed'));
    expect(response.headers).toMatchObject({ 'content-disposition': 'attachment; filename="managed-settings.json"', 'x-config-path': '/etc/claude-code/managed-settings.json' });
    const managed = JSON.parse(text(response.body));
    expect(managed.env).toMatchObject({ ANTHROPIC_BASE_URL: 'https://gw.example.net/anthropic', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://relay.example.net/api/otel' });
    expect(managed.otelHeadersHelper).toContain('/api/credential?agent=claude-code');
    expect(text(response.body)).not.toContain('bob-token');
    expect(managed.env.ANTHROPIC_AUTH_TOKEN).toBeUndefined();
  });

  it("uses each user's own stored gateway token, never another's, and a helper when there is none", async () => {
    const env = { [gatewayVariable(BOB.id)]: 'bob-token-123456' };
    const bob = JSON.parse(text((await handler(env)('claude-code', get('/api/config/claude-code'))).body));
    const carol = JSON.parse(text((await handler(env)('claude-code', get('/api/config/claude-code', { 'x-test-user': 'carol' }))).body));
    expect(bob.env.ANTHROPIC_AUTH_TOKEN).toBe('bob-token-123456');
    expect(bob.apiKeyHelper).toBeUndefined();
    expect(carol.env.ANTHROPIC_AUTH_TOKEN).toBeUndefined();
    expect(carol.apiKeyHelper).toBe('az account get-access-token --resource 2ff814a6-3304-4ab8-85cb-cd0e6f879c1d --query accessToken -o tsv');
    expect(JSON.stringify(carol)).not.toContain('bob-token');
  });

  it('writes a placeholder and instructions when there is neither a stored token nor a helper', async () => {
    const response = await handler({ GATEWAY_TOKEN_HELPER: '' })('gemini-cli', get('/api/config/gemini-cli'));
    expect(response.status).toBe(200);
    expect(text(response.body)).toMatch(/^# Gateway token: replace the value below\. Create a Databricks personal access token/m);
    expect(text(response.body)).toMatch(/^GEMINI_API_KEY="REPLACE_WITH_YOUR_DATABRICKS_TOKEN"$/m);
  });

  it('does not write a stored token that could break the file, and says so', async () => {
    const warnings: string[] = [];
    const body = text((await handler({ [gatewayVariable(BOB.id)]: 'abc"\nINJECTED=1' }, headerSignIn, warnings)('gemini-cli', get('/api/config/gemini-cli'))).body);
    expect(body).not.toContain('INJECTED');
    expect(warnings).toEqual([`secret "${gatewayTokenSecretName('gateway-token-{user}', BOB.id)}" does not look like a token; not written into configs`]);
  });

  it('escapes TOML special characters through the TOML library', async () => {
    const helper = 'printf \'%s\' "$(cat ~/tok\\en)" # [otel] = "x"';
    const body = text((await handler({ GATEWAY_TOKEN_HELPER: helper })('codex', get('/api/config/codex'))).body);
    const config = parseToml(body) as any;
    expect(config.model_providers.databricks.auth.args).toEqual(['-c', helper]);
    expect(config.otel.metrics_exporter['otlp-http'].endpoint).toBe('https://relay.example.net/api/otel/v1/metrics');
    expect(config).toMatchObject({ model_provider: 'databricks', model: 'databricks-gpt-5-2', otel: { log_user_prompt: false } });
  });

  it.each([
    ['gemini-cli', '/api/config/gemini-cli?file=secrets', 'unknown file "secrets" for gemini-cli: use ?file=env (~/.gemini/.env) or ?file=settings (~/.gemini/settings.json)'],
    ['cursor', '/api/config/cursor?format=xml', 'unknown format "xml" for cursor: use ?format=text or ?format=json'],
    ['install.sh', '/api/config/install.sh?agents=codex,vim', 'unknown agent(s): vim'],
  ])('answers 400 for %s with a bad choice', async (target, url, error) => {
    const response = await handler()(target, get(url));
    expect(response.status).toBe(400);
    expect(JSON.parse(text(response.body)).error).toBe(error);
  });

  it('gives Cursor users the values to paste as text or JSON', async () => {
    const json = JSON.parse(text((await handler()('cursor', get('/api/config/cursor?format=json'))).body));
    expect(json).toMatchObject({ openAiBaseUrl: 'https://gw.example.net/cursor/v1', models: ['databricks-claude-opus-4-6', 'databricks-gpt-5-2'] });
    expect(text((await handler()('cursor', get('/api/config/cursor'))).body)).toContain('OpenAI base URL: https://gw.example.net/cursor/v1');
  });

  it('names the Entra audience in install.sh so it can get a token with the Azure CLI', async () => {
    const script = text((await handler({ ENTRA_TENANT_ID: 'contoso.onmicrosoft.com', ENTRA_AUDIENCE: "api://relay'x" })('install.sh', get('/api/config/install.sh?agents=codex'))).body);
    expect(script).toContain(`AUDIENCE='api://relay'"'"'x'`);
    expect(script).toContain('Copyright (c) Squirrel Chat et al.');
    expect(script).toContain(`RELAY_URL='https://relay.example.net'`);
  });
});

describe('gatewayTokenSecretName', () => {
  it('maps ids that differ only in case or punctuation to different secrets (Key Vault names are case-insensitive)', () => {
    const a = gatewayTokenSecretName('gateway-token-{user}', '11111111_AAAA');
    const b = gatewayTokenSecretName('gateway-token-{user}', '11111111-aaaa');
    expect(a).not.toBe(b);
    expect(a.toLowerCase()).not.toBe(b.toLowerCase());
    expect(a).toMatch(/^gateway-token-[0-9a-f]{64}$/);
    // What docs/deploying.md tells operators to run: printf %s '<user id>' | sha256sum
    expect(b).toBe('gateway-token-' + createHash('sha256').update('11111111-aaaa').digest('hex'));
  });

  it("never hands one user the token of a user whose id differs only in case or punctuation", async () => {
    const env = { [gatewayVariable('11111111-aaaa')]: 'token-of-the-dash-user' };
    const signInAs = (id: string): UserSignIn => async () => ({ id, email: `${id}@contoso.example`, roles: [], source: 'entra' });
    const forUnderscore = text((await handler(env, signInAs('11111111_AAAA'))('codex', get('/api/config/codex'))).body);
    const forDash = text((await handler(env, signInAs('11111111-aaaa'))('codex', get('/api/config/codex'))).body);
    expect(forDash).toContain('token-of-the-dash-user');
    expect(forUnderscore).not.toContain('token-of-the-dash-user');
  });
});

describe('envFile', () => {
  it('quotes values so =, spaces and # are safe, as dotenv reads them back', () => {
    const body = envFile([{ name: 'OTEL_EXPORTER_OTLP_HEADERS', value: 'Authorization=Bearer a.b.c' }, { name: 'X', value: 'a # not a comment' }]);
    expect(body).toBe('OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer a.b.c"\nX="a # not a comment"\n');
    expect(parseDotenv(body)).toEqual({ OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer a.b.c', X: 'a # not a comment' });
  });

  it.each(['a"b', "a'b", 'a\nB=1', 'a\rNODE_OPTIONS=--require=/tmp/x', 'a\u2028NODE_OPTIONS=x', 'a\u2029NODE_OPTIONS=x', 'a\u0085b', 'a\\b', '$(x)', '${HOME}', 'a`b`', 'a\u0000b'])('refuses the value %j', (value) => {
    expect(() => envFile([{ name: 'X', value }])).toThrow(UnsafeValueError);
  });

  it.each(['for a\rNODE_OPTIONS=x', 'for a\u2028NODE_OPTIONS=x', 'for a\u2029NODE_OPTIONS=x', 'for a\u000bb'])('refuses the comment %j', (comment) => {
    expect(() => envFile([{ comment }])).toThrow(UnsafeValueError);
  });

  it('keeps # and $ in comments inert', () => {
    expect(parseDotenv(envFile([{ comment: 'x # $(id) NODE_OPTIONS=1' }, { name: 'A', value: 'b' }]))).toEqual({ A: 'b' });
  });
});

describe('config files never carry an injected line', () => {
  // A claim crafted to end a line in one format or another; sign-in refuses it before anything is rendered.
  const crafted = ['eve@x\rNODE_OPTIONS=--require=/tmp/x', 'eve@x\u2028NODE_OPTIONS=x', 'eve@x\u2029NODE_OPTIONS=x', 'eve@x\nNODE_OPTIONS=x'];

  it.each(crafted)('refuses a user whose email claim is %j with 401, for every file', async (email) => {
    const principal = Buffer.from(JSON.stringify({ claims: [{ typ: 'oid', val: 'eve-1' }, { typ: 'preferred_username', val: email }] })).toString('base64');
    for (const url of ['/api/config/gemini-cli', '/api/config/cursor', '/api/config/claude-code', '/api/config/codex']) {
      const response = await handler({ TRUST_EASY_AUTH: 'true' }, easyAuthSignIn())(url.split('/')[3]!, get(url, { 'x-ms-client-principal': principal }));
      expect(response.status, url).toBe(401);
      expect(text(response.body)).not.toContain('NODE_OPTIONS');
    }
  });

  it('reads back every value of a normal Gemini .env exactly with the dotenv parser Gemini CLI uses', async () => {
    const body = text((await handler()('gemini-cli', get('/api/config/gemini-cli'))).body);
    const parsed = parseDotenv(body);
    expect(Object.keys(parsed)).toEqual(['GEMINI_MODEL', 'GOOGLE_GEMINI_BASE_URL', 'GEMINI_API_KEY_AUTH_MECHANISM', 'GEMINI_CLI_CUSTOM_HEADERS', 'GEMINI_API_KEY', 'OTEL_EXPORTER_OTLP_HEADERS']);
    expect(parsed.GOOGLE_GEMINI_BASE_URL).toBe('https://gw.example.net/gemini');
  });

  it('escapes U+2028 and U+2029 in JSON files and refuses them in text instructions', () => {
    expect(jsonFile({ a: 'x\u2028y\u2029' })).toBe('{\n  "a": "x\\u2028y\\u2029"\n}\n');
    expect(JSON.parse(jsonFile({ a: 'x\u2028y' })).a).toBe('x\u2028y');
    expect(() => oneLine('x', 'a\u2028b')).toThrow(UnsafeValueError);
  });

  it('refuses at start a helper command holding a Unicode line break (it is also written into a .env comment)', () => {
    const helper = `printf '%s' "$(cat ~/t)" # [otel]\u2028x`;
    expect(() => loadSettings({ GATEWAY_TOKEN_HELPER: helper })).toThrow('setting GATEWAY_TOKEN_HELPER');
  });
});
