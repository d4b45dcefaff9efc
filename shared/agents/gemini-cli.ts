import type { ConfigContext, RenderedFile } from './config-context.js';
import { gatewayUserAgent, otlpAuthorizationHeader } from './config-context.js';
import { envFile } from './env-file.js';

/**
 * ~/.gemini/.env: the seed doc's variables plus the relay credential for the OTLP exporter (Gemini
 * CLI reads OTEL_EXPORTER_OTLP_HEADERS from this file). Gemini has no token helper: without a stored
 * user token the file says how to get one.
 */
export function geminiEnv(ctx: ConfigContext): RenderedFile {
  const token =
    ctx.token.kind === 'secret'
      ? [{ name: 'GEMINI_API_KEY', value: ctx.token.value }]
      : [{ comment: `Gateway token: replace the value below. ${ctx.token.kind === 'helper' ? `Get one with: ${ctx.token.command}` : ctx.token.instructions}` }, { name: 'GEMINI_API_KEY', value: 'REPLACE_WITH_YOUR_DATABRICKS_TOKEN' }];
  const body = envFile([
    { comment: `Gemini CLI through the Databricks AI Gateway, for ${ctx.user.email} (coding-agent-relay).` },
    { name: 'GEMINI_MODEL', value: ctx.settings.models.geminiCli },
    { name: 'GOOGLE_GEMINI_BASE_URL', value: `${ctx.gatewayUrl}${ctx.settings.paths.gemini}` },
    { name: 'GEMINI_API_KEY_AUTH_MECHANISM', value: 'bearer' },
    // Comma-separated Name:value pairs; a User-Agent here replaces the CLI's (checked with Gemini CLI 0.61.0).
    { name: 'GEMINI_CLI_CUSTOM_HEADERS', value: `User-Agent:${gatewayUserAgent('gemini-cli')}` },
    ...token,
    { name: 'OTEL_EXPORTER_OTLP_HEADERS', value: otlpAuthorizationHeader(ctx) },
  ]);
  return { filename: '.env', path: '~/.gemini/.env', contentType: 'text/plain; charset=utf-8', body };
}

/**
 * The parts of ~/.gemini/settings.json the relay owns: telemetry over OTLP/HTTP to the relay with
 * prompts off (Gemini logs them by default), and API-key auth (needed for headless runs).
 */
export function geminiSettings(ctx: ConfigContext): RenderedFile {
  const settings = {
    security: { auth: { selectedType: 'gemini-api-key' } },
    telemetry: { enabled: true, target: 'local', otlpEndpoint: `${ctx.relayUrl}/api/otel`, otlpProtocol: 'http', logPrompts: false },
  };
  return { filename: 'settings.json', path: '~/.gemini/settings.json', contentType: 'application/json', body: `${JSON.stringify(settings, null, 2)}\n` };
}
