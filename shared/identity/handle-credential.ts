import { jsonResponse, type Handler } from '../http.js';
import type { AgentName, Settings } from '../settings.js';
import { issueShortCredential, type SigningKeys } from './relay-credentials.js';
import { signedInUser, type UserSignIn } from './user-sign-in.js';

export interface CredentialDeps {
  settings: Settings;
  userSignIn: UserSignIn | undefined;
  signingKeys: () => Promise<SigningKeys>;
}

/** Agents that can fetch their export headers from a command (Claude Code's otelHeadersHelper). */
export const SHORT_CREDENTIAL_AGENTS: readonly AgentName[] = ['claude-code'];

/**
 * POST /api/credential?agent=claude-code: trades the user's sign-in (the same as the config endpoint's,
 * with the same refusals) for a relay credential valid RELAY_SHORT_CREDENTIAL_MINUTES, answered as the
 * headers object Claude Code's otelHeadersHelper must print.
 */
export function credentialHandler(deps: CredentialDeps): Handler {
  const { settings } = deps;
  return async (request) => {
    if (request.method !== 'POST') return jsonResponse(405, { error: `method ${request.method} not allowed: use POST` }, { allow: 'POST' });
    const agent = new URL(request.url, 'http://relay').searchParams.get('agent');
    const offered = SHORT_CREDENTIAL_AGENTS.filter((a) => settings.agents.offered.includes(a));
    if (!offered.includes(agent as AgentName)) {
      const why = agent === null ? 'query parameter agent is required' : `agent "${agent}" cannot fetch short-lived credentials (its config carries a long-lived one)`;
      return jsonResponse(400, { error: `${why}: use ?agent=${offered.join(' or ?agent=') || '(none offered)'}` });
    }
    const user = await signedInUser(deps.userSignIn, request.headers);
    const { credential } = await issueShortCredential(await deps.signingKeys(), {
      userId: user.id,
      email: user.email,
      agent: agent as AgentName,
      ttlSeconds: settings.shortCredentialTtlSeconds,
    });
    // One line, exactly the headers object: the helper prints it as it is.
    return {
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: Buffer.from(`${JSON.stringify({ Authorization: `Bearer ${credential}` })}\n`),
    };
  };
}
