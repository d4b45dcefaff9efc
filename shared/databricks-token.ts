import type { SecretCache } from './secrets.js';
import type { Settings } from './settings.js';

/** The bearer token the relay presents to Databricks. */
export interface TokenProvider {
  token(): Promise<string>;
  /** Forget the current token (the upstream refused it) so the next call fetches a fresh one. */
  invalidate(): void;
}

export class TokenMintError extends Error {}

/** A personal access token (or any long-lived token) stored as one secret. */
export function secretTokenProvider(secrets: SecretCache, secretName: string): TokenProvider {
  return {
    token: () => secrets.get(secretName),
    invalidate: () => secrets.invalidate(secretName),
  };
}

export interface OAuthM2MOptions {
  host: string;
  clientIdSecret: string;
  clientSecretSecret: string;
  now?: () => number;
  timeoutMs?: number;
}

/** Refresh this long before the token expires, so a request never carries an expiring token. */
const EXPIRY_MARGIN_MS = 5 * 60 * 1000;

/**
 * Databricks OAuth machine-to-machine: a service principal's client id/secret (held as secrets) are
 * exchanged at `<host>/oidc/v1/token` for an access token (about an hour), cached until shortly
 * before it expires. One mint at a time; concurrent callers share it.
 */
export function oauthM2MTokenProvider(secrets: SecretCache, options: OAuthM2MOptions): TokenProvider {
  const now = options.now ?? Date.now;
  let current: { token: string; refreshAt: number } | undefined;
  let inflight: Promise<string> | undefined;

  async function mint(): Promise<string> {
    const [clientId, clientSecret] = await Promise.all([
      secrets.get(options.clientIdSecret),
      secrets.get(options.clientSecretSecret),
    ]);
    let response: Response;
    try {
      response = await fetch(`${options.host}/oidc/v1/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials&scope=all-apis',
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new TokenMintError(`Databricks token endpoint unreachable: ${(err as Error).name}`);
    }
    if (!response.ok) {
      if (response.status === 400 || response.status === 401) {
        // A rotated client secret: read it again next time.
        secrets.invalidate(options.clientIdSecret);
        secrets.invalidate(options.clientSecretSecret);
      }
      throw new TokenMintError(`Databricks token endpoint answered ${response.status}`);
    }
    const body = (await response.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown };
    if (typeof body.access_token !== 'string' || body.access_token === '') {
      throw new TokenMintError('Databricks token endpoint returned no access_token');
    }
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 3600) * 1000;
    current = { token: body.access_token, refreshAt: now() + lifetimeMs - Math.min(EXPIRY_MARGIN_MS, lifetimeMs / 2) };
    return body.access_token;
  }

  return {
    token() {
      if (current && now() < current.refreshAt) return Promise.resolve(current.token);
      return (inflight ??= mint().finally(() => (inflight = undefined)));
    },
    invalidate() {
      current = undefined;
    },
  };
}

export function databricksTokenProvider(settings: Settings, secrets: SecretCache): TokenProvider {
  if (settings.databricksAuth === 'pat') return secretTokenProvider(secrets, settings.secretNames.databricksToken);
  return oauthM2MTokenProvider(secrets, {
    host: settings.databricksHost!, // loadSettings refuses oauth-m2m without DATABRICKS_HOST
    clientIdSecret: settings.secretNames.databricksClientId,
    clientSecretSecret: settings.secretNames.databricksClientSecret,
  });
}
