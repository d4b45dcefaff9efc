import { parseArgs } from 'node:util';
import { databricksTokenProvider } from '../databricks-token.js';
import { localEnvironment } from '../local/local-settings.js';
import { withLocalSecrets } from '../local/local-secrets.js';
import { TelemetryDb } from '../local/telemetry-db.js';
import { secretCacheFor } from '../secrets.js';
import { loadSettings, tableNames } from '../settings.js';
import { usageStoreFor } from '../usage/usage-store-for.js';
import { describeError } from './describe-error.js';

/**
 * What the command-line tools share with the app: the same settings (environment and
 * local.settings.json), secrets and, for SQL, the same store: the SQL warehouse in Databricks mode,
 * the DuckDB file in local mode (which `npm start` must not hold open at the same time).
 */
export async function cliContext() {
  const env = localEnvironment(process.env);
  const settings = loadSettings(env);
  const secrets = secretCacheFor(settings, withLocalSecrets(settings, env), (m) => console.error(m));
  const names = tableNames(settings);
  const openStore = async () => {
    let telemetryDb: TelemetryDb | undefined;
    if (settings.mode === 'local') {
      try {
        telemetryDb = await TelemetryDb.open(settings.localDuckdbPath, names);
      } catch (err) {
        throw new Error(`cannot open ${settings.localDuckdbPath} (${(err as Error).message.split('\n')[0]}); if npm start is running, stop it or use POST /api/usage/rollup`);
      }
    }
    const store = usageStoreFor(settings, { telemetryDb, tokens: databricksTokenProvider(settings, secrets), warn: (m) => console.error(m) });
    if (!store) throw new Error('no SQL engine: set DATABRICKS_WAREHOUSE_HTTP_PATH');
    return { store, close: async () => { await store.close(); telemetryDb?.close(); } };
  };
  return { settings, secrets, names, openStore };
}

type ArgsConfig = NonNullable<Parameters<typeof parseArgs>[0]>;

/**
 * The command line, parsed strictly: `--help` (or `-h`) prints `help` and exits; an unknown or
 * malformed option is a one-line error pointing at --help.
 */
export function cliArgs<T extends ArgsConfig>(help: string, config: T, args = process.argv.slice(2)): ReturnType<typeof parseArgs<T>> {
  let parsed;
  try {
    parsed = parseArgs({ ...config, args, strict: true, options: { ...config.options, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    // Node's messages run on with advice about positionals; the first sentence says what is wrong.
    throw new Error(`${(err as Error).message.split(/\.\s/)[0]} (see --help)`);
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(help.trim());
    process.exit(0);
  }
  return parsed as unknown as ReturnType<typeof parseArgs<T>>;
}

/** Runs a tool's main function; a failure prints one line (see describeError) and exits 1. */
export function runCli(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(describeError(err));
    process.exit(1);
  });
}
