import type { ConfigContext, RenderedFile } from './config-context.js';
import { gatewayUserAgent, otlpAuthorizationHeader, TOKEN_PLACEHOLDER } from './config-context.js';
import { envFile } from './env-file.js';
import { jsonFile } from './unsafe-value.js';

/** The variables of ~/.gemini/.env this app owns. */
export const GEMINI_ENV_OWNED_KEYS = ['GEMINI_MODEL', 'GOOGLE_GEMINI_BASE_URL', 'GEMINI_API_KEY_AUTH_MECHANISM', 'GEMINI_CLI_CUSTOM_HEADERS', 'GEMINI_API_KEY', 'OTEL_EXPORTER_OTLP_HEADERS'];

/** The keys of ~/.gemini/settings.json this app owns. */
export const GEMINI_SETTINGS_OWNED_KEYS = [
  'security.auth.selectedType',
  'security.folderTrust.enabled',
  'advanced.ignoreLocalEnv',
  ...['enabled', 'target', 'otlpEndpoint', 'otlpProtocol', 'logPrompts'].map((key) => `telemetry.${key}`),
];

/**
 * ~/.gemini/.env: the seed doc's variables plus the relay credential for the OTLP exporter (Gemini
 * CLI reads OTEL_EXPORTER_OTLP_HEADERS from this file). Gemini has no header helper, so the relay
 * credential is a long-lived one; without a stored user token the file says how to get one.
 */
export function geminiEnv(ctx: ConfigContext): RenderedFile {
  const token =
    ctx.token.kind === 'secret'
      ? [{ name: 'GEMINI_API_KEY', value: ctx.token.value }]
      : [
          { comment: `Gateway token: replace the value below. ${ctx.token.kind === 'helper' ? `Get one with: ${ctx.token.command}` : ctx.token.instructions}` },
          { name: 'GEMINI_API_KEY', value: TOKEN_PLACEHOLDER },
        ];
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
 * prompts off (Gemini logs them by default), API-key auth (needed for headless runs), and what keeps
 * Gemini reading ~/.gemini/.env, where the gateway URL and the relay credential are:
 * - `advanced.ignoreLocalEnv`: Gemini CLI reads only the first .env it finds walking up from the
 *   working folder, so a project's own .env would hide ~/.gemini/.env (model calls straight to Google
 *   with a project key, telemetry refused for want of the credential); with it, project .env files are
 *   skipped;
 * - `security.folderTrust.enabled: false` (GEMINI_FOLDER_TRUST=off, the default): in a folder it does
 *   not trust, Gemini CLI ignores ~/.gemini/.env and a headless run stops asking for GEMINI_API_KEY,
 *   the wrong remedy (set by hand, it sends model calls to Google and telemetry without a credential).
 *   With GEMINI_FOLDER_TRUST=on Gemini's folder trust stays, and such runs stop (exit 41) until the
 *   user trusts the folder.
 */
export function geminiSettings(ctx: ConfigContext): RenderedFile {
  const security: Record<string, unknown> = { auth: { selectedType: 'gemini-api-key' } };
  if (ctx.settings.geminiFolderTrust === 'off') security.folderTrust = { enabled: false };
  const settings = {
    security,
    advanced: { ignoreLocalEnv: true },
    telemetry: { enabled: true, target: 'local', otlpEndpoint: `${ctx.relayUrl}/api/otel`, otlpProtocol: 'http', logPrompts: false },
  };
  return { filename: 'settings.json', path: '~/.gemini/settings.json', contentType: 'application/json', body: jsonFile(settings) };
}
