import { createApp } from '../app.js';
import { SettingsError } from '../settings.js';
import { localEnvironment } from './local-settings.js';
import { serve } from './serve.js';

/*
 * `npm start`: the same handlers the Functions host serves, on http://127.0.0.1:7071, without Azure
 * Functions Core Tools. Without DATABRICKS_HOST the relay forwards to the embedded ingest (DuckDB).
 */
async function main(): Promise<void> {
  const app = await createApp(localEnvironment(process.env), console);
  const { settings } = app;
  const served = await serve(app.handle, { host: '127.0.0.1', port: settings.localPort });
  console.info(`coding-agent-relay (${settings.mode} mode) on ${served.url}`);
  console.info(`  OTLP endpoint base: ${served.url}/api/otel   health: ${served.url}/api/health`);
  if (app.telemetryDb) console.info(`  embedded ingest writes to DuckDB file ${settings.localDuckdbPath}`);
  const stop = async () => {
    await served.close();
    await app.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof SettingsError ? err.message : err);
  process.exit(1);
});
