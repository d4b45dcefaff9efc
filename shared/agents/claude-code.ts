import type { ConfigContext, RenderedFile } from './config-context.js';
import { gatewayUserAgent, otlpAuthorizationHeader } from './config-context.js';

/**
 * ~/.claude/settings.json: model traffic to the AI Gateway's Anthropic endpoint, telemetry (metrics
 * and logs) to the relay over http/protobuf with the user's relay credential, prompts not logged.
 * The gateway token is the user's own secret when there is one, else `apiKeyHelper` runs a command.
 */
export function claudeCodeSettings(ctx: ConfigContext): RenderedFile {
  const env: Record<string, string> = {
    ANTHROPIC_BASE_URL: `${ctx.gatewayUrl}${ctx.settings.paths.anthropic}`,
    ANTHROPIC_MODEL: ctx.settings.models.claudeCode,
    // Newline-separated; a User-Agent here replaces the SDK's (checked with Claude Code 2.1.197).
    ANTHROPIC_CUSTOM_HEADERS: `x-databricks-use-coding-agent-mode: true\nUser-Agent: ${gatewayUserAgent('claude-code')}`,
    CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS: '1',
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_EXPORTER_OTLP_ENDPOINT: `${ctx.relayUrl}/api/otel`,
    OTEL_EXPORTER_OTLP_HEADERS: otlpAuthorizationHeader(ctx),
    OTEL_LOG_USER_PROMPTS: '0',
  };
  const settings: Record<string, unknown> = {};
  if (ctx.token.kind === 'secret') env.ANTHROPIC_AUTH_TOKEN = ctx.token.value;
  else if (ctx.token.kind === 'helper') settings.apiKeyHelper = ctx.token.command;
  else env.ANTHROPIC_AUTH_TOKEN = 'REPLACE_WITH_YOUR_DATABRICKS_TOKEN';
  settings.env = env;
  return { filename: 'settings.json', path: '~/.claude/settings.json', contentType: 'application/json', body: `${JSON.stringify(settings, null, 2)}\n` };
}
