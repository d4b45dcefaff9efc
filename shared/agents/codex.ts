import { stringify } from 'smol-toml';
import type { ConfigContext, RenderedFile } from './config-context.js';
import { gatewayUserAgent, longLivedCredential } from './config-context.js';
import { commentLines } from './unsafe-value.js';

export const CODEX_PROVIDER_ID = 'databricks';

/** The keys of ~/.codex/config.toml this app owns (dotted paths; a table is owned whole). */
export const CODEX_OWNED_KEYS = [
  'model_provider',
  'model',
  `model_providers.${CODEX_PROVIDER_ID}`,
  'otel.log_user_prompt',
  'otel.exporter',
  'otel.trace_exporter',
  'otel.metrics_exporter',
];

/**
 * ~/.codex/config.toml in the form Codex 0.169 accepts (top-level `model_provider` and `model`; the
 * seed doc's `profile = "default"` is rejected), written with a TOML library. Codex does not append
 * `/v1/<signal>`, so each exporter gets its full relay URL; without `metrics_exporter` Codex would
 * send metrics to OpenAI. Codex has no header helper: the relay credential is a long-lived one.
 */
export function codexConfig(ctx: ConfigContext): RenderedFile {
  const provider: Record<string, unknown> = {
    name: 'Databricks AI Gateway',
    base_url: `${ctx.gatewayUrl}${ctx.settings.paths.openai}`,
    wire_api: 'responses',
    http_headers: { 'User-Agent': gatewayUserAgent('codex') },
  };
  if (ctx.token.kind === 'secret') provider.experimental_bearer_token = ctx.token.value;
  else if (ctx.token.kind === 'helper') provider.auth = { command: 'sh', args: ['-c', ctx.token.command], timeout_ms: 30_000, refresh_interval_ms: 300_000 };
  else provider.env_key = 'DATABRICKS_TOKEN';
  const credential = longLivedCredential(ctx);
  const exporter = (signal: string) => ({
    'otlp-http': { endpoint: `${ctx.relayUrl}/api/otel/v1/${signal}`, protocol: 'binary', headers: { Authorization: `Bearer ${credential}` } },
  });
  const config = {
    model_provider: CODEX_PROVIDER_ID,
    model: ctx.settings.models.codex,
    model_providers: { [CODEX_PROVIDER_ID]: provider },
    otel: { log_user_prompt: false, exporter: exporter('logs'), trace_exporter: exporter('traces'), metrics_exporter: exporter('metrics') },
  };
  const header = ctx.token.kind === 'placeholder' ? `${commentLines(`Gateway token: export DATABRICKS_TOKEN before running codex. ${ctx.token.instructions}`)}\n` : '';
  return { filename: 'config.toml', path: '~/.codex/config.toml', contentType: 'application/toml', body: `${header}${stringify(config)}\n` };
}
