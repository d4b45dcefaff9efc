import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { configHandler } from '../../shared/agents/handle-config.js';
import { envFile, UnsafeValueError } from '../../shared/agents/env-file.js';
import { CredentialVerifier, parseRevocations, signingKey } from '../../shared/identity/relay-credentials.js';
import { entraSignIn, type SignedInUser, type UserSignIn } from '../../shared/identity/user-sign-in.js';
import { bufferedBody, type PlainRequest } from '../../shared/http.js';
import { environmentSource, SecretCache } from '../../shared/secrets.js';
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
  return configHandler({ settings, secrets, userSignIn: signIn ?? undefined, signingKeys: async () => KEYS, warn: (m) => warnings.push(m) });
}

function get(url: string, headers: Record<string, string> = {}): PlainRequest {
  return { method: 'GET', url, headers, body: bufferedBody(new Uint8Array()) };
}

const text = (body: Uint8Array) => Buffer.from(body).toString('utf8');

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

  it("embeds a relay credential naming the signed-in user and the agent", async () => {
    const settings = JSON.parse(text((await handler()('claude-code', get('/api/config/claude-code'))).body));
    const header = settings.env.OTEL_EXPORTER_OTLP_HEADERS as string;
    expect(header.startsWith('Authorization=Bearer ')).toBe(true);
    const verifier = new CredentialVerifier({ keys: async () => KEYS, revocations: async () => parseRevocations('') });
    expect(await verifier.verify(header.slice('Authorization='.length))).toMatchObject({ userId: BOB.id, email: BOB.email, agent: 'claude-code' });
  });

  it("uses each user's own stored gateway token, never another's, and a helper when there is none", async () => {
    const env = { GATEWAY_TOKEN_BOB_0001: 'bob-token-123456' };
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
    const body = text((await handler({ GATEWAY_TOKEN_BOB_0001: 'abc"\nINJECTED=1' }, headerSignIn, warnings)('gemini-cli', get('/api/config/gemini-cli'))).body);
    expect(body).not.toContain('INJECTED');
    expect(warnings).toEqual(['secret "gateway-token-bob-0001" does not look like a token; not written into configs']);
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
    expect(script).toContain(`RELAY_URL='https://relay.example.net'`);
  });
});

describe('envFile', () => {
  it('quotes values so = and spaces are safe', () => {
    expect(envFile([{ name: 'OTEL_EXPORTER_OTLP_HEADERS', value: 'Authorization=Bearer a.b.c' }])).toBe('OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer a.b.c"\n');
  });

  it.each(['a"b', 'a\nB=1', 'a\\b', '$(x)', 'a`b`'])('refuses %j', (value) => {
    expect(() => envFile([{ name: 'X', value }])).toThrow(UnsafeValueError);
  });
});
