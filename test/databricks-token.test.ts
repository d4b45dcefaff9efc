import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { oauthM2MTokenProvider } from '../shared/databricks-token.js';
import { environmentSource, SecretCache } from '../shared/secrets.js';
import { fakeServer, type FakeServer } from './fakes/http-server.js';

let workspace: FakeServer;
let minted = 0;
let answer: { status: number; expiresIn: number } = { status: 200, expiresIn: 3600 };

beforeEach(async () => {
  minted = 0;
  answer = { status: 200, expiresIn: 3600 };
  workspace = await fakeServer((req, res) => {
    if (req.url !== '/oidc/v1/token' || req.method !== 'POST') return void res.writeHead(404).end();
    if (answer.status !== 200) return void res.writeHead(answer.status, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: `minted-${++minted}`, token_type: 'Bearer', expires_in: answer.expiresIn }));
  });
});
afterEach(() => workspace.close());

function provider(now: () => number = Date.now) {
  const secrets = new SecretCache(environmentSource({ DATABRICKS_CLIENT_ID: 'sp-id', DATABRICKS_CLIENT_SECRET: 'sp-secret' }), { ttlMs: 60_000, maxStaleMs: 0, timeoutMs: 1000 });
  return oauthM2MTokenProvider(secrets, { host: workspace.url, clientIdSecret: 'databricks-client-id', clientSecretSecret: 'databricks-client-secret', now });
}

describe('oauthM2MTokenProvider', () => {
  it('mints with client credentials and the all-apis scope', async () => {
    expect(await provider().token()).toBe('minted-1');
    const [request] = workspace.requests;
    expect(request!.headers.authorization).toBe(`Basic ${Buffer.from('sp-id:sp-secret').toString('base64')}`);
    expect(request!.body.toString()).toBe('grant_type=client_credentials&scope=all-apis');
  });

  it('caches until shortly before expiry, then mints again', async () => {
    let now = 0;
    const tokens = provider(() => now);
    expect(await tokens.token()).toBe('minted-1');
    now = (3600 - 5 * 60) * 1000 - 1;
    expect(await tokens.token()).toBe('minted-1');
    now += 1;
    expect(await tokens.token()).toBe('minted-2');
  });

  it('shares one mint among concurrent callers', async () => {
    const tokens = provider();
    expect(new Set(await Promise.all(Array.from({ length: 20 }, () => tokens.token())))).toEqual(new Set(['minted-1']));
    expect(workspace.requests).toHaveLength(1);
  });

  it('mints again after invalidate', async () => {
    const tokens = provider();
    await tokens.token();
    tokens.invalidate();
    expect(await tokens.token()).toBe('minted-2');
  });

  it('reports a refused mint without the client secret', async () => {
    answer = { status: 401, expiresIn: 0 };
    const error = await provider().token().catch((e: Error) => e);
    expect((error as Error).message).toBe('Databricks token endpoint answered 401');
    expect((error as Error).message).not.toContain('sp-secret');
  });
});
