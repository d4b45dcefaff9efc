import type { SignedInUser } from '../identity/user-sign-in.js';
import type { AgentConfigSettings } from '../settings.js';

/** Where the agent's gateway token comes from, best first. */
export type GatewayToken =
  | { kind: 'secret'; value: string }
  | { kind: 'helper'; command: string }
  | { kind: 'placeholder'; instructions: string };

/** Everything a renderer needs to write one user's config. Values are validated before they get here. */
export interface ConfigContext {
  user: SignedInUser;
  /** The relay credential issued to this user for this agent. */
  credential: string;
  relayUrl: string;
  gatewayUrl: string;
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

/** The header value agents send with every export (OTEL_EXPORTER_OTLP_HEADERS form: `name=value`). */
export function otlpAuthorizationHeader(ctx: ConfigContext): string {
  return `Authorization=Bearer ${ctx.credential}`;
}
