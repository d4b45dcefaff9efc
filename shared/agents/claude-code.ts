import type { ConfigContext, RenderedFile } from './config-context.js';
import { gatewayUserAgent, TOKEN_PLACEHOLDER } from './config-context.js';
import { otelHeadersHelperCommand } from './otel-headers-helper.js';
import { jsonFile } from './unsafe-value.js';

/** Where Claude Code reads managed settings, per OS (Claude Code docs, "Settings files"). */
export const MANAGED_SETTINGS_PATHS = {
  linux: '/etc/claude-code/managed-settings.json',
  macos: '/Library/Application Support/ClaudeCode/managed-settings.json',
  windows: 'C:\\Program Files\\ClaudeCode\\managed-settings.json',
};

/** The keys of ~/.claude/settings.json this app owns (install.sh replaces them, and removes those a config no longer sets). */
export const CLAUDE_CODE_OWNED_KEYS = [
  'apiKeyHelper',
  'otelHeadersHelper',
  ...[
    'ANTHROPIC_BASE_URL',
    'ANTHROPIC_AUTH_TOKEN',
    'ANTHROPIC_MODEL',
    'ANTHROPIC_CUSTOM_HEADERS',
    'CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS',
    'CLAUDE_CODE_ENABLE_TELEMETRY',
    'CLAUDE_CODE_OTEL_HEADERS_HELPER_DEBOUNCE_MS',
    'OTEL_METRICS_EXPORTER',
    'OTEL_LOGS_EXPORTER',
    'OTEL_EXPORTER_OTLP_PROTOCOL',
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OTEL_EXPORTER_OTLP_HEADERS',
    'OTEL_LOG_USER_PROMPTS',
  ].map((name) => `env.${name}`),
];

/**
 * The settings object: model traffic to the AI Gateway's Anthropic endpoint, telemetry (metrics and
 * logs) to the relay over http/protobuf, prompts not logged. The relay credential is not in the file:
 * `otelHeadersHelper` fetches a short-lived one from POST /api/credential, re-run every quarter of its
 * life so a failed refresh is retried well before the credential in use expires.
 * `managed`: for every user of a machine (MDM), so nothing of one user goes in: no stored token.
 */
function settingsObject(ctx: ConfigContext, managed: boolean): Record<string, unknown> {
  const env: Record<string, string> = {
    ANTHROPIC_BASE_URL: `${ctx.gatewayUrl}${ctx.settings.paths.anthropic}`,
    ANTHROPIC_MODEL: ctx.settings.models.claudeCode,
    // Newline-separated; a User-Agent here replaces the SDK's (checked with Claude Code 2.1.197).
    ANTHROPIC_CUSTOM_HEADERS: `x-databricks-use-coding-agent-mode: true\nUser-Agent: ${gatewayUserAgent('claude-code')}`,
    CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS: '1',
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    CLAUDE_CODE_OTEL_HEADERS_HELPER_DEBOUNCE_MS: String(Math.floor((ctx.shortCredentialMinutes * 60_000) / 4)),
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_EXPORTER_OTLP_ENDPOINT: `${ctx.relayUrl}/api/otel`,
    OTEL_LOG_USER_PROMPTS: '0',
  };
  const settings: Record<string, unknown> = {};
  if (ctx.token.kind === 'helper') settings.apiKeyHelper = ctx.token.command;
  // A machine-wide file holds nobody's token: without a helper each developer sets ANTHROPIC_AUTH_TOKEN in their own settings.
  else if (!managed) env.ANTHROPIC_AUTH_TOKEN = ctx.token.kind === 'secret' ? ctx.token.value : TOKEN_PLACEHOLDER;
  settings.otelHeadersHelper = otelHeadersHelperCommand({ relayUrl: ctx.relayUrl, agent: 'claude-code', audience: ctx.audience });
  settings.env = env;
  return settings;
}

/** ~/.claude/settings.json for the signed-in user. */
export function claudeCodeSettings(ctx: ConfigContext): RenderedFile {
  return { filename: 'settings.json', path: '~/.claude/settings.json', contentType: 'application/json', body: jsonFile(settingsObject(ctx, false)) };
}

/**
 * managed-settings.json for MDM: the same gateway, telemetry endpoint and headers helper for every user
 * of a machine. From Claude Code 2.1.217 an OTLP endpoint and headers set here cannot be changed by the
 * developer (exporter selectors lock from 2.1.223).
 */
export function claudeCodeManagedSettings(ctx: ConfigContext): RenderedFile {
  const body = jsonFile(settingsObject(ctx, true));
  return { filename: 'managed-settings.json', path: MANAGED_SETTINGS_PATHS.linux, contentType: 'application/json', body };
}
