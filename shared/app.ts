import { DefaultAzureCredential } from '@azure/identity';
import { configHandler, type ConfigHandler } from './agents/handle-config.js';
import { databricksTokenProvider } from './databricks-token.js';
import { healthHandler, type ReadinessCheck } from './health.js';
import { Refusal, type Handler } from './http.js';
import { credentialSecrets } from './identity/credential-secrets.js';
import { exportGuard } from './identity/export-guard.js';
import { credentialHandler } from './identity/handle-credential.js';
import { CredentialVerifier } from './identity/relay-credentials.js';
import { easyAuthSignIn, entraSignIn, localSignIn, type UserSignIn } from './identity/user-sign-in.js';
import { redact, type Log } from './log.js';
import { withLocalSecrets } from './local/local-secrets.js';
import type { TelemetryDb } from './local/telemetry-db.js';
import { observeExports, type ObservedExportHandler } from './observe/observe-exports.js';
import { observeSecrets, type ObservedSecretSource } from './observe/observe-secrets.js';
import { relayMetricsPipeline } from './observe/relay-metrics.js';
import { signalNamed, type Signal } from './otlp/signals.js';
import { httpUpstream } from './relay/forward-http.js';
import { exportHandler } from './relay/handle-export.js';
import { admission } from './relay/admission.js';
import { withTokenRefresh } from './relay/with-token-refresh.js';
import { appRouter } from './route-request.js';
import { secretCacheFor } from './secrets.js';
import { spoolFor, type ReplayReport, type SpoolStats } from './spool/index.js';
import { loadSettings, tableNames, type Env, type Settings, type UserSignInSettings } from './settings.js';
import { tableName } from './sql/ddl.js';
import type { RollupResult, UsageRange } from './usage/rollup-usage.js';

/*
 * The composition root: builds every part once per process from the settings and wires them. Routing
 * (routes.ts, route-request.ts), error answers (respond-route.ts), health (health.ts) and the relay's
 * own metrics and logs (observe/) live apart; this file only connects them.
 */

export interface App {
  settings: Settings;
  /** POST /api/otel/v1/{signal}: the relay, observed (metrics, logs). */
  exportSignal: ObservedExportHandler;
  /** GET /api/config/{agent} and /api/config/install.sh. */
  config: ConfigHandler;
  /** POST /api/credential?agent=claude-code: a short-lived relay credential for the signed-in user. */
  credential: Handler;
  /** POST /api/usage/rollup (admin). */
  usage: Handler;
  /** GET /api/usage: usage as JSON or CSV (own rows, or everyone's with the admin role). */
  usageRead: Handler;
  /** GET /api/dashboard: the usage dashboard page. */
  dashboard: Handler;
  /** Recomputes the usage of a range of days (the timer uses the recent window). */
  runUsage(range?: UsageRange): Promise<RollupResult>;
  /** GET /api/health (liveness) and ?ready=1 (readiness). */
  health: Handler;
  /** GET /api/metrics: the relay's own metrics in Prometheus text. */
  metrics: Handler;
  /** POST /api/local/sql: a read-only query on the embedded ingest's DuckDB (local mode; `npm run sql`). */
  localSql: Handler;
  /** Every route, as the local runner and tests call them (the Functions host routes itself). */
  handle: Handler;
  /** Drains the durable spool (the timer and the local runner call it); undefined when RELAY_SPOOL is off. */
  replaySpool(budgetMs?: number): Promise<ReplayReport | undefined>;
  /** The spool's numbers for health, metrics and logs; undefined when RELAY_SPOOL is off. */
  spoolStats(): SpoolStats | undefined;
  /** Set in local mode when the embedded ingest serves; its DuckDB holds the rows. */
  telemetryDb: TelemetryDb | undefined;
  close(): Promise<void>;
}

const SIGNALS = (['metrics', 'logs', 'traces'] as const).map((name) => signalNamed(name)!);

function userSignInFor(settings: UserSignInSettings): UserSignIn | undefined {
  switch (settings.kind) {
    case 'entra':
      return entraSignIn(settings);
    case 'easy-auth':
      return easyAuthSignIn();
    case 'local':
      return localSignIn(settings);
    case 'none':
      return undefined;
  }
}

function describeSignIn(settings: UserSignInSettings): string {
  switch (settings.kind) {
    case 'entra':
      return `Entra ID access tokens for ${settings.audience.join(' or ')}`;
    case 'easy-auth':
      return 'App Service Authentication principal header';
    case 'local':
      return `LOCAL IDENTITY ${settings.email} (${settings.id}): everyone is this user; local mode only`;
    case 'none':
      return 'not configured';
  }
}

/** The secrets the relay cannot work without, by the settings that name them. */
function requiredSecrets(settings: Settings): string[] {
  const names = settings.databricksAuth === 'pat' ? [settings.secretNames.databricksToken] : [settings.secretNames.databricksClientId, settings.secretNames.databricksClientSecret];
  if (settings.relayAuth === 'credential') names.push(settings.credentialSecretNames.signingKey);
  return names;
}

/**
 * Builds the whole app from the environment: settings, secrets, upstream and, in local mode, the
 * embedded ingest; then reads the secrets it needs, so a missing or unreadable one fails the start
 * (the host answers 503 naming it and tries again) instead of the first export. What was opened is
 * closed again when the start fails.
 */
export async function createApp(env: Env, log: Log): Promise<App> {
  const settings = loadSettings(env);
  const closers: (() => unknown)[] = [];
  try {
    return await build(settings, env, log, closers);
  } catch (err) {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => undefined);
    throw err;
  }
}

async function build(settings: Settings, env: Env, log: Log, closers: (() => unknown)[]): Promise<App> {
  let observedSource: ObservedSecretSource | undefined;
  const secrets = secretCacheFor(
    settings,
    withLocalSecrets(settings, env),
    (reason) => log.warn('secret.stale', { reason }),
    (source) => (observedSource = observeSecrets(source, log)),
  );
  const tokens = databricksTokenProvider(settings, secrets);
  const names = tableNames(settings);

  let ingestUrl = settings.otelIngestUrl;
  let telemetryDb: TelemetryDb | undefined;
  if (!ingestUrl) {
    // Loaded only here: DuckDB's native module has no business in a Databricks-mode process.
    const [{ TelemetryDb }, { embeddedIngest, INGEST_BASE_PATH }, { serve }] = await Promise.all([
      import('./local/telemetry-db.js'),
      import('./local/embedded-ingest.js'),
      import('./local/serve.js'),
    ]);
    const db = await TelemetryDb.open(settings.localDuckdbPath, names);
    closers.push(() => db.close());
    const handler = embeddedIngest({ db, token: await tokens.token(), tableHeader: settings.ucTableHeader, maxBodyBytes: settings.maxBodyBytes });
    const ingest = await serve(handler, { host: '127.0.0.1', port: 0 });
    closers.push(() => ingest.close());
    ingestUrl = `${ingest.url}${INGEST_BASE_PATH}`;
    telemetryDb = db;
  }

  const tableFor = (signal: Signal) => tableName(names, signal.tableSuffix);
  const upstream = httpUpstream({
    ingestUrl,
    tableHeader: settings.ucTableHeader,
    tableFor,
    gzip: settings.upstreamGzip,
    timeoutMs: settings.upstreamTimeoutMs,
    maxSockets: settings.upstreamMaxSockets,
  });
  closers.push(() => upstream.close());
  const withToken = withTokenRefresh(upstream, tokens, (reason) => log.warn('token.refused', { reason }));
  const spool = await spoolFor(settings, {
    forward: withToken,
    tableFor,
    log: { info: (message) => log.info('spool.replay', { reason: message }), warn: (message) => log.warn('spool.event', { reason: message }) },
  });
  // Exports in flight are capped before the body is read (admission in exportHandler), not here.
  const forward = spool?.writer ?? withToken;
  const credentialKeys = credentialSecrets(secrets, settings.credentialSecretNames);
  const verifier = settings.relayAuth === 'credential' ? new CredentialVerifier(credentialKeys) : undefined;
  const guard = exportGuard({
    verifier,
    deniedResourceAttributes: settings.privacy.resourceAttributes,
    deniedLogAttributes: settings.privacy.logAttributes,
  });

  const { appInsightsConnectionString } = settings.observability;
  const telemetry = await relayMetricsPipeline({
    azureMonitor: appInsightsConnectionString
      ? { connectionString: appInsightsConnectionString, credential: new DefaultAzureCredential({ managedIdentityClientId: settings.azureClientId }) }
      : undefined,
    sources: {
      secretReads: () => observedSource?.reads() ?? [],
      credentialCache: () => verifier?.cache ?? { hits: 0, misses: 0 },
      spool: () => spool?.stats(),
    },
  });
  closers.push(() => telemetry.close());
  const exportOf = exportHandler({
    maxBodyBytes: settings.maxBodyBytes,
    maxEntries: settings.maxEntries,
    admission: admission(settings.maxInflight, settings.maxBufferedBytes),
    guard,
    forward,
  });
  const exportSignal = observeExports(exportOf, telemetry.metrics, { logAccepted: settings.observability.logAcceptedExports });

  // The route answers 404 without the embedded ingest; DuckDB is loaded only when it is there.
  const localSql: Handler = telemetryDb
    ? async (request) => (await import('./local/handle-local-sql.js')).localSqlHandler(telemetryDb)(request)
    : async () => {
        throw new Refusal(404, 'POST /api/local/sql reads the embedded ingest’s DuckDB file: there is none (it runs in local mode without OTEL_INGEST_URL)');
      };

  const userSignIn = userSignInFor(settings.userSignIn);
  const config = configHandler({ settings, secrets, userSignIn, signingKeys: () => credentialKeys.keys(), warn: (reason) => log.warn('config.refused', { reason }) });
  const credential = credentialHandler({ settings, userSignIn, signingKeys: () => credentialKeys.keys() });

  // The usage modules (and with them @databricks/sql) load on first use: the relay never needs them.
  let usageParts: ReturnType<typeof loadUsage> | undefined;
  async function loadUsage() {
    const [{ usageStoreFor, USAGE_NOT_CONFIGURED }, { usageTablesFor }, { usageHandler }, { usageReadHandler }, rollup] = await Promise.all([
      import('./usage/usage-store-for.js'),
      import('./usage/usage-tables.js'),
      import('./usage/handle-usage.js'),
      import('./usage/handle-usage-read.js'),
      import('./usage/rollup-usage.js'),
    ]);
    const warn = (reason: string) => log.warn('usage.retry', { reason });
    const tables = usageTablesFor(settings);
    const store = usageStoreFor(settings, { telemetryDb, tokens, warn });
    if (store) closers.push(() => store.close());
    const readStore = usageStoreFor(settings, { telemetryDb, tokens, warn }, 'read');
    if (readStore) closers.push(() => readStore.close());
    return {
      store,
      rollup,
      tables,
      notConfigured: USAGE_NOT_CONFIGURED,
      handle: usageHandler({ store, tables, windowDays: settings.usage.windowDays, warn: (reason) => log.warn('usage.rollup', { reason }) }),
      read: usageReadHandler({ store: readStore, names, userSignIn, adminRole: settings.usage.adminRole, maxDays: settings.usage.maxDays }),
    };
  }
  const usage = () => (usageParts ??= loadUsage());
  let dashboardPage: Promise<Handler> | undefined;
  const dashboard = () =>
    (dashboardPage ??= import('./dashboard/handle-dashboard.js').then(({ dashboardHandler }) => dashboardHandler({ userSignIn, signInKind: settings.userSignIn.kind })));

  const ingestChecks: ReadinessCheck[] = SIGNALS.map((signal) => ({
    name: `ingest ${signal.name}`,
    async run() {
      const outcome = await upstream(signal, [new Uint8Array()], await tokens.token());
      if (outcome.kind === 'accepted') return;
      const reason = outcome.kind === 'unauthorized' ? `token refused (HTTP ${outcome.upstreamStatus})` : redact(outcome.reason);
      throw new Error(`ingest refused an empty ${signal.name} export for ${tableFor(signal)}: ${reason}`);
    },
  }));
  const health = healthHandler({
    cacheMs: settings.observability.readinessCacheMs,
    checks: [
      { name: 'settings', run: async () => undefined }, // the app was built, so they parsed
      {
        name: 'secrets',
        async run() {
          for (const name of requiredSecrets(settings)) await secrets.source.read(name); // in order: the first failure is named
        },
      },
      { name: 'databricks token', run: async () => void (await tokens.token()) },
      ...ingestChecks,
    ],
    describe: () => ({
      mode: settings.mode,
      ingest: telemetryDb ? `embedded, rows in DuckDB file ${settings.localDuckdbPath}` : ingestUrl,
      tables: `${tableName(names, '_otel_metrics')} | _otel_logs | _otel_spans | _usage_daily`,
      usageRollup: settings.mode === 'databricks' ? (settings.usage.warehouseHttpPath ? 'databricks' : 'not configured') : telemetryDb ? 'duckdb' : 'not configured',
      usageSchedule: `"${settings.usage.schedule}" (UTC), last ${settings.usage.windowDays} days`,
      secrets: secrets.source.kind,
      databricksAuth: settings.databricksAuth,
      relayAuth: settings.relayAuth === 'credential' ? 'relay credential required' : 'NONE: exports are not authenticated (local mode)',
      userSignIn: describeSignIn(settings.userSignIn),
      spool: spool ? spoolHealth(spool.stats()) : 'off',
    }),
  });

  // Start-up reads what every export needs: a missing or unreadable secret fails here, by name (in
  // order, so the same outage always names the same secret).
  await tokens.token();
  if (verifier) await credentialKeys.keys();

  const app: App = {
    settings,
    exportSignal,
    config,
    credential,
    usage: async (request) => (await usage()).handle(request),
    usageRead: async (request) => (await usage()).read(request),
    dashboard: async (request) => (await dashboard())(request),
    async runUsage(range) {
      const { store, rollup, tables, notConfigured } = await usage();
      if (!store) throw new Error(notConfigured);
      return rollup.rollupUsage(store, tables, range ?? rollup.recentDays(new Date(), settings.usage.windowDays), new Date(), (reason) => log.warn('usage.rollup', { reason }));
    },
    health,
    metrics: async () => ({
      status: 200,
      headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' },
      body: Buffer.from(await telemetry.prometheusText()),
    }),
    localSql,
    handle: (request) => router(request),
    replaySpool: async (budgetMs) => spool?.replay(budgetMs),
    spoolStats: () => spool?.stats(),
    telemetryDb,
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
  const router = appRouter(app, log);
  return app;
}

function spoolHealth(stats: SpoolStats) {
  return { exports: stats.blobs, bytes: stats.bytes, oldestAgeSeconds: stats.oldestAgeSeconds, measuredAt: stats.measuredAt };
}
