import { answering } from '../answering.js';
import { describe, expect, it } from 'vitest';
import type { PlainRequest } from '../../shared/http.js';
import { credentialHandler } from '../../shared/identity/handle-credential.js';
import { CredentialError, CredentialVerifier, parseRevocations, signingKey } from '../../shared/identity/relay-credentials.js';
import { entraSignIn, type UserSignIn } from '../../shared/identity/user-sign-in.js';
import { loadSettings, type Env } from '../../shared/settings.js';
import { TEST_SIGNING_KEY } from '../credentials.js';

const KEYS = { current: signingKey(TEST_SIGNING_KEY) };
const BOB = { id: 'bob-0001', email: 'bob@contoso.example', roles: [], source: 'entra' as const };
const bob: UserSignIn = async () => BOB;

/** `userSignIn` null: sign-in not configured. */
function handler(env: Env = {}, userSignIn: UserSignIn | null = bob) {
  return answering(credentialHandler({ settings: loadSettings(env), userSignIn: userSignIn ?? undefined, signingKeys: async () => KEYS }));
}
const post = (url: string, headers: Record<string, string> = {}): PlainRequest => ({ method: 'POST', url, headers, body: new Uint8Array() });
const json = (body: Uint8Array) => JSON.parse(Buffer.from(body).toString('utf8'));

describe('credentialHandler', () => {
  it('answers the headers object Claude Code expects, with a credential for the signed-in user valid RELAY_SHORT_CREDENTIAL_MINUTES', async () => {
    const before = Math.floor(Date.now() / 1000);
    const response = await handler({ RELAY_SHORT_CREDENTIAL_MINUTES: '15' })(post('/api/credential?agent=claude-code'));
    expect(response.status).toBe(200);
    expect(response.headers).toMatchObject({ 'content-type': 'application/json', 'cache-control': 'no-store' });
    const body = Buffer.from(response.body).toString('utf8');
    expect(body.trimEnd().split('\n')).toHaveLength(1);
    const headers = json(response.body);
    expect(Object.keys(headers)).toEqual(['Authorization']);
    const caller = await new CredentialVerifier({ keys: async () => KEYS, revocations: async () => parseRevocations('') }).verify(headers.Authorization);
    expect(caller).toMatchObject({ userId: BOB.id, email: BOB.email, agent: 'claude-code' });
    expect(caller.expiresAt - before).toBeGreaterThanOrEqual(15 * 60);
    expect(caller.expiresAt - before).toBeLessThanOrEqual(15 * 60 + 2);
  });

  it('issues a new credential on every call (each refresh is its own credential)', async () => {
    const a = json((await handler()(post('/api/credential?agent=claude-code'))).body).Authorization;
    const b = json((await handler()(post('/api/credential?agent=claude-code'))).body).Authorization;
    expect(a).not.toBe(b);
  });

  it('issues credentials the verifier refuses once they expire', async () => {
    const response = await handler({ RELAY_SHORT_CREDENTIAL_MINUTES: '1' })(post('/api/credential?agent=claude-code'));
    const authorization = json(response.body).Authorization;
    const at = (ms: number) => new CredentialVerifier({ keys: async () => KEYS, revocations: async () => parseRevocations(''), now: () => Date.now() + ms });
    await expect(at(30_000).verify(authorization)).resolves.toMatchObject({ agent: 'claude-code' });
    // One minute of life plus the verifier's one minute of clock tolerance.
    await expect(at(125_000).verify(authorization)).rejects.toThrow(CredentialError);
  });

  it.each([
    ['/api/credential', 'query parameter agent is required: use ?agent=claude-code'],
    ['/api/credential?agent=codex', 'agent "codex" cannot fetch short-lived credentials (its config carries a long-lived one): use ?agent=claude-code'],
    ['/api/credential?agent=vim', 'agent "vim" cannot fetch short-lived credentials (its config carries a long-lived one): use ?agent=claude-code'],
  ])('answers 400 for %s', async (url, error) => {
    const response = await handler()(post(url));
    expect(response.status).toBe(400);
    expect(json(response.body).error).toBe(error);
  });

  it('answers 400 when Claude Code is not offered', async () => {
    expect((await handler({ CONFIG_AGENTS: 'codex' })(post('/api/credential?agent=claude-code'))).status).toBe(400);
  });

  it('answers other methods with 405', async () => {
    const response = await handler()({ ...post('/api/credential?agent=claude-code'), method: 'GET' });
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('POST');
  });

  it('refuses like the config endpoint: 401 with a challenge without a valid Entra token, 503 without sign-in', async () => {
    const entra = entraSignIn({ audience: ['api://relay'], issuers: ['https://login.microsoftonline.com/t/v2.0'], jwksUrl: 'http://127.0.0.1:9/keys' });
    for (const headers of [{}, { authorization: 'Basic x' }] as Record<string, string>[]) {
      const response = await handler({}, entra)(post('/api/credential?agent=claude-code', headers));
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="coding-agent-relay"');
    }
    const none = await handler({}, null)(post('/api/credential?agent=claude-code'));
    expect(none.status).toBe(503);
    expect(json(none.body).error).toMatch(/ENTRA_TENANT_ID/);
  });
});
