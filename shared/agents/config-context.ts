import type { SignedInUser } from '../identity/user-sign-in.js';
import type { AgentConfigSettings } from '../settings.js';
import { UnsafeValueError } from './unsafe-value.js';

/** Where the agent's gateway token comes from, best first. */
export type GatewayToken =
  | { kind: 'secret'; value: string }
  | { kind: 'helper'; command: string }
  | { kind: 'placeholder'; instructions: string };

/** What a config holds where the user has to paste their own gateway token; install.sh never writes it over a pasted one. */
export const TOKEN_PLACEHOLDER = 'REPLACE_WITH_YOUR_DATABRICKS_TOKEN';

/** Everything a renderer needs to write one user's config. Values are validated before they get here. */
export interface ConfigContext {
  user: SignedInUser;
  /** The long-lived relay credential for this user and agent; unset for agents that fetch short-lived ones. */
  credential: string | undefined;
  relayUrl: string;
  gatewayUrl: string;
  /** The Entra ID resource (application ID URI) a helper asks the Azure CLI for a token to; unset: no sign-in token needed (local). */
  audience: string | undefined;
  /** Minutes a credential from POST /api/credential lives. */
  shortCredentialMinutes: number;
  settings: AgentConfigSettings;
  token: GatewayToken;
}

/** One file as the agent reads it. */
export interface RenderedFile {
  filename: string;
  /** Where the agent reads it, for humans and the install script. */
  path: string;
  contentType: string;
  body: string;
}

/**
 * The User-Agent the issued configs make each CLI send to the AI Gateway, which records it in
 * system.ai_gateway.usage.user_agent: the usage roll-up classifies by it (infra/sql/usage_daily_rollup.sql).
 * It replaces the CLI's own, so the gateway table loses the CLI's version.
 */
export function gatewayUserAgent(agent: 'claude-code' | 'codex' | 'gemini-cli'): string {
  return `coding-agent-relay (${agent})`;
}

/** The long-lived relay credential, for agents that have no header helper. */
export function longLivedCredential(ctx: ConfigContext): string {
  if (ctx.credential === undefined) throw new UnsafeValueError('no relay credential was issued for this config');
  return ctx.credential;
}

/** The header value agents send with every export (OTEL_EXPORTER_OTLP_HEADERS form: `name=value`). */
export function otlpAuthorizationHeader(ctx: ConfigContext): string {
  return `Authorization=Bearer ${longLivedCredential(ctx)}`;
}
