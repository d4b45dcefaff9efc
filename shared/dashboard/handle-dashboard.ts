import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PlainRequest, PlainResponse } from '../http.js';
import { SignInError, signedInUser, type UserSignIn } from '../identity/user-sign-in.js';
import { projectRoot } from '../sql/ddl.js';

/** Where `npm run build` writes the page (one HTML file, script and styles inline): the same path from dist/ and from sources. */
export function dashboardPagePath(): string {
  return join(projectRoot(), 'dist', 'dashboard', 'dashboard.html');
}

export interface DashboardDeps {
  userSignIn: UserSignIn | undefined;
  /** How people sign in, for the page that asks them to. */
  signInKind: 'entra' | 'easy-auth' | 'local' | 'none';
  pagePath?: string;
}

function html(status: number, body: string, headers: Record<string, string> = {}): PlainResponse {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers }, body: Buffer.from(body) };
}

function notice(title: string, text: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><main><h1>${title}</h1>${text}</main></body></html>\n`;
}

/** The page's only script is inline: allow exactly it (by hash), nothing from elsewhere, and data from this app only. */
function contentSecurityPolicy(page: string): string {
  const scripts = [...page.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`);
  return `default-src 'none'; script-src ${scripts.join(' ')}; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`;
}

/**
 * GET /api/dashboard: the usage dashboard page, for signed-in users only (the page reads
 * GET /api/usage with the same sign-in). Behind App Service Authentication a browser signs in with
 * the platform's session cookie; a 401 links to its login.
 */
export function dashboardHandler(deps: DashboardDeps) {
  let page: Promise<{ body: Buffer; csp: string } | undefined> | undefined;
  const load = () =>
    (page ??= readFile(deps.pagePath ?? dashboardPagePath()).then(
      (body) => ({ body, csp: contentSecurityPolicy(body.toString('utf8')) }),
      () => {
        page = undefined; // built later (npm run build): try again on the next request
        return undefined;
      },
    ));

  return async (request: PlainRequest): Promise<PlainResponse> => {
    if (request.method !== 'GET') return html(405, notice('Method not allowed', '<p>Use GET.</p>'), { allow: 'GET' });
    try {
      await signedInUser(deps.userSignIn, request.headers);
    } catch (err) {
      if (!(err instanceof SignInError)) throw err;
      const how =
        deps.signInKind === 'easy-auth'
          ? `<p><a href="/.auth/login/aad?post_login_redirect_uri=/api/dashboard">Sign in with your Microsoft account</a>.</p>`
          : '<p>This deployment signs people in with bearer tokens only; a browser needs App Service Authentication (see docs/usage.md in the project).</p>';
      return html(err.status, notice('Sign-in required', `<p>${escapeHtml(err.message)}</p>${how}`), err.headers);
    }
    const loaded = await load();
    if (!loaded) return html(503, notice('Dashboard not built', '<p>The dashboard page has not been built: run <code>npm run build</code>.</p>'));
    return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-security-policy': loaded.csp, 'x-content-type-options': 'nosniff' }, body: loaded.body };
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
