import type { ConfigContext, RenderedFile } from './config-context.js';
import { jsonFile, oneLine } from './unsafe-value.js';

/**
 * Cursor reads its gateway settings from its UI only, and exports no telemetry from the client, so its
 * "config" is the values to paste and the steps, as text or JSON.
 */
export function cursorValues(ctx: ConfigContext) {
  return {
    openAiBaseUrl: `${ctx.gatewayUrl}${ctx.settings.paths.cursor}`,
    apiKey: ctx.token.kind === 'secret' ? ctx.token.value : undefined,
    getApiKey: ctx.token.kind === 'helper' ? ctx.token.command : ctx.token.kind === 'placeholder' ? ctx.token.instructions : undefined,
    models: ctx.settings.models.cursor,
    steps: [
      'Open Cursor > Settings > Cursor Settings > Models > API Keys.',
      'Turn on "Override OpenAI Base URL" and enter the OpenAI base URL.',
      'Paste the API key into "OpenAI API Key".',
      'Under Models, "+ Add custom model" for each model name, and switch it on.',
      'Open Ask mode (Cmd+L / Ctrl+L), pick one of the models and send a message.',
    ],
  };
}

export function cursorInstructions(ctx: ConfigContext, format: 'text' | 'json'): RenderedFile {
  const values = cursorValues(ctx);
  if (format === 'json') return { filename: 'cursor.json', path: '(Cursor settings UI)', contentType: 'application/json', body: jsonFile(values) };
  const key = oneLine('the API key line', values.apiKey ?? `(get one with: ${values.getApiKey})`);
  const body = [
    `Cursor through the Databricks AI Gateway, for ${oneLine('the email', ctx.user.email)}`,
    '',
    `OpenAI base URL: ${values.openAiBaseUrl}`,
    `OpenAI API key:  ${key}`,
    `Models:          ${values.models.join(', ')}`,
    '',
    ...values.steps.map((step, i) => `${i + 1}. ${step}`),
    '',
  ].join('\n');
  return { filename: 'cursor.txt', path: '(Cursor settings UI)', contentType: 'text/plain; charset=utf-8', body };
}
