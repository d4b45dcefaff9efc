import { fakeServer, type FakeServer } from './http-server.js';

export interface FakeKeyVault extends FakeServer {
  secrets: Map<string, string>;
  /** Reads of secret values (challenge round trips not counted). */
  reads(): number;
  /** While set, secret reads answer this HTTP status. */
  failWith: number | undefined;
  /** While true, secret reads are accepted and never answered (a hanging vault). */
  hang: boolean;
}

/**
 * Enough of the Key Vault REST API for the real SecretClient: the bearer challenge, then
 * `GET /secrets/<name>/?api-version=...`, with Key Vault's error body shape.
 */
export async function fakeKeyVault(initial: Record<string, string> = {}): Promise<FakeKeyVault> {
  const secrets = new Map(Object.entries(initial));
  // The handler reads `vault`, assigned below, only once requests arrive.
  // eslint-disable-next-line prefer-const
  let vault: FakeKeyVault;
  const server = await fakeServer((req, res) => {
    const url = new URL(req.url, 'http://vault');
    if (!req.headers.authorization) {
      res.writeHead(401, {
        'www-authenticate': 'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net"',
        'content-type': 'application/json',
      });
      res.end(JSON.stringify({ error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer token.' } }));
      return;
    }
    const match = /^\/secrets\/([^/]+)\/?$/.exec(url.pathname);
    if (!match) return void res.writeHead(404).end();
    if (vault.hang) return; // the connection stays open, unanswered
    if (vault.failWith) {
      res.writeHead(vault.failWith, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'ServiceUnavailable', message: 'try later' } }));
      return;
    }
    const name = decodeURIComponent(match[1]!);
    const value = secrets.get(name);
    if (value === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'SecretNotFound', message: `A secret with (name/id) ${name} was not found in this key vault.` } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ value, id: `${server.url}/secrets/${name}/0123456789abcdef`, attributes: { enabled: true, created: 1, updated: 1 } }));
  });
  const reads = () => server.requests.filter((r) => r.headers.authorization && r.url.startsWith('/secrets/')).length;
  vault = Object.assign(server, { secrets, reads, failWith: undefined as number | undefined, hang: false });
  return vault;
}

/** A TokenCredential as the SDK expects one; Entra ID itself cannot run here. */
export const staticCredential = {
  getToken: async () => ({ token: 'fake-entra-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};
