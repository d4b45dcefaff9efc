import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dashboardHandler } from '../../shared/dashboard/handle-dashboard.js';
import { bufferedBody, type PlainRequest } from '../../shared/http.js';
import { SignInError, type UserSignIn } from '../../shared/identity/user-sign-in.js';

const dir = mkdtempSync(join(tmpdir(), 'dashboard-'));
const pagePath = join(dir, 'dashboard.html');
const SCRIPT = 'console.log("usage")';
writeFileSync(pagePath, `<!doctype html><title>t</title><script>${SCRIPT}</script>`);

const signedIn: UserSignIn = async () => ({ id: 'u', email: 'u@contoso.example', roles: [], source: 'easy-auth' });
const refused: UserSignIn = async () => {
  throw new SignInError('sign-in required (App Service Authentication principal missing)');
};
const get = (method = 'GET'): PlainRequest => ({ method, url: '/api/dashboard', headers: {}, body: bufferedBody(new Uint8Array()) });
const text = (body: Uint8Array) => Buffer.from(body).toString('utf8');

describe('dashboardHandler', () => {
  it('serves the built page to a signed-in user, allowing exactly its inline script', async () => {
    const response = await dashboardHandler({ userSignIn: signedIn, signInKind: 'easy-auth', pagePath })(get());
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    const hash = createHash('sha256').update(SCRIPT).digest('base64');
    expect(response.headers['content-security-policy']).toBe(
      `default-src 'none'; script-src 'sha256-${hash}'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    );
    expect(text(response.body)).toContain(SCRIPT);
  });

  it('asks for sign-in with a link to App Service Authentication when it is in front', async () => {
    const response = await dashboardHandler({ userSignIn: refused, signInKind: 'easy-auth', pagePath })(get());
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="coding-agent-relay"');
    expect(text(response.body)).toContain('href="/.auth/login/aad?post_login_redirect_uri=/api/dashboard"');
    expect(text(response.body)).toContain('sign-in required (App Service Authentication principal missing)');
  });

  it('explains that bearer-token sign-in needs App Service Authentication for a browser', async () => {
    const response = await dashboardHandler({ userSignIn: refused, signInKind: 'entra', pagePath })(get());
    expect(response.status).toBe(401);
    expect(text(response.body)).toContain('a browser needs App Service Authentication');
  });

  it('answers 503 without sign-in configured, and when the page is not built', async () => {
    expect((await dashboardHandler({ userSignIn: undefined, signInKind: 'none', pagePath })(get())).status).toBe(503);
    const unbuilt = await dashboardHandler({ userSignIn: signedIn, signInKind: 'easy-auth', pagePath: join(dir, 'missing.html') })(get());
    expect(unbuilt.status).toBe(503);
    expect(text(unbuilt.body)).toContain('npm run build');
  });

  it('answers other methods with 405', async () => {
    expect((await dashboardHandler({ userSignIn: signedIn, signInKind: 'easy-auth', pagePath })(get('POST'))).status).toBe(405);
  });
});
