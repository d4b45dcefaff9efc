import { fakeServer, type FakeServer } from './http-server.js';

/**
 * The App Service / Functions managed identity endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER), which
 * Azure itself serves over http on localhost. Pointing the real @azure/identity at it exercises the
 * credential the relay uses in Azure.
 */
export async function fakeManagedIdentity(): Promise<FakeServer & { env: Record<string, string> }> {
  const header = 'fake-identity-header';
  const server = await fakeServer((req, res) => {
    if (req.headers['x-identity-header'] !== header) return void res.writeHead(401).end();
    const resource = new URL(req.url, 'http://x').searchParams.get('resource') ?? '';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        access_token: 'fake-managed-identity-token',
        expires_on: String(Math.floor(Date.now() / 1000) + 3600),
        resource,
        token_type: 'Bearer',
      }),
    );
  });
  return Object.assign(server, { env: { IDENTITY_ENDPOINT: `${server.url}/msi/token`, IDENTITY_HEADER: header } });
}
