import { stringify } from 'smol-toml';
import { gatewayUserAgent, type ConfigContext, type RenderedFile } from './config-context.js';

export const CODEX_PROVIDER_ID = 'databricks';

/**
 * ~/.codex/config.toml in the form Codex 0.169 accepts (top-level `model_provider` and `model`; the
 * seed doc's `profile = "default"` is rejected), written with a TOML library. Codex does not append
 * `/v1/<signal>`, so each exporter gets its full relay URL; without `metrics_exporter` Codex would
 * send metrics to OpenAI.
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
  const exporter = (signal: string) => ({
    'otlp-http': { endpoint: `${ctx.relayUrl}/api/otel/v1/${signal}`, protocol: 'binary', headers: { Authorization: `Bearer ${ctx.credential}` } },
  });
  const config = {
    model_provider: CODEX_PROVIDER_ID,
    model: ctx.settings.models.codex,
    model_providers: { [CODEX_PROVIDER_ID]: provider },
    otel: { log_user_prompt: false, exporter: exporter('logs'), trace_exporter: exporter('traces'), metrics_exporter: exporter('metrics') },
  };
  const header =
    ctx.token.kind === 'placeholder' ? `# Gateway token: export DATABRICKS_TOKEN before running codex. ${ctx.token.instructions}\n` : '';
  return { filename: 'config.toml', path: '~/.codex/config.toml', contentType: 'application/toml', body: `${header}${stringify(config)}\n` };
}
