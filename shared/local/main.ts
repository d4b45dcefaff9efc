import { setTimeout as sleep } from 'node:timers/promises';
import { createApp } from '../app.js';
import { consoleSink, jsonLog } from '../log.js';
import { cliArgs, runCli } from '../cli/cli-context.js';
import { loadSettings, type Env } from '../settings.js';
import { localEnvironment } from './local-settings.js';
import { serve } from './serve.js';
import { startAzurite, type Azurite } from './start-azurite.js';

/*
 * `npm start`: the same route table and handlers the Functions host serves, on http://127.0.0.1:7071,
 * without Azure Functions Core Tools. Without DATABRICKS_HOST the relay forwards to the embedded
 * ingest (DuckDB). Unlike the host, a failed start ends the process with the reason: a developer is watching.
 * With the spool on and development storage (UseDevelopmentStorage=true, or nothing set), it starts
 * Azurite itself with its data in .local/azurite, and replays the spool on an interval (the
 * Functions host uses the spoolReplay timer instead).
 */
const HELP = `
npm start [-- --help]

Serves the app on http://127.0.0.1:7071 (LOCAL_PORT) with the settings from the environment and
local.settings.json "Values" (a variable set in the shell wins). Without DATABRICKS_HOST (local mode)
exports go to the embedded ingest, which writes rows into LOCAL_DUCKDB_PATH (.local/telemetry.duckdb);
read them with npm run sql. Ctrl-C stops it. Settings are listed in docs/settings.md.
`;

async function main(): Promise<void> {
  cliArgs(HELP, { options: {} });
  let env: Env = localEnvironment(process.env);
  let azurite: Azurite | undefined;
  const { spool } = loadSettings(env);
  if (spool.mode === 'on-failure' && spool.storage?.kind === 'development') {
    azurite = await startAzurite({ location: '.local/azurite' });
    env = { ...env, AzureWebJobsStorage: azurite.connectionString };
  }
  const app = await createApp(env, jsonLog(consoleSink));
  const { settings } = app;
  const served = await serve(app.handle, { host: '127.0.0.1', port: settings.localPort });
  console.info(`coding-agent-relay (${settings.mode} mode) on ${served.url}`);
  console.info(`  OTLP endpoint base: ${served.url}/api/otel   health: ${served.url}/api/health`);
  console.info(`  usage dashboard: ${served.url}/api/dashboard   usage API: ${served.url}/api/usage`);
  if (app.telemetryDb) console.info(`  embedded ingest writes to DuckDB file ${settings.localDuckdbPath}`);
  if (azurite) console.info(`  spool in Azurite at ${azurite.blobEndpoint} (data in .local/azurite)`);
  let stopped = false;
  void (async () => {
    while (!stopped && settings.spool.mode === 'on-failure') {
      await app.replaySpool(settings.spool.localReplayIntervalMs).catch((err: unknown) => console.warn(`spool replay failed: ${(err as Error).message}`));
      await sleep(settings.spool.localReplayIntervalMs);
    }
  })();
  const stop = async () => {
    stopped = true;
    await served.close();
    await app.close();
    await azurite?.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

runCli(main);
