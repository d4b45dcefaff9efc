import { configHandler, type ConfigHandler } from './agents/handle-config.js';
import { databricksTokenProvider } from './databricks-token.js';
import { jsonResponse, type Handler, type PlainRequest, type PlainResponse } from './http.js';
import { credentialSecrets } from './identity/credential-secrets.js';
import { exportGuard } from './identity/export-guard.js';
import { CredentialVerifier } from './identity/relay-credentials.js';
import { easyAuthSignIn, entraSignIn, localSignIn, type UserSignIn } from './identity/user-sign-in.js';
import { withLocalSecrets } from './local/local-secrets.js';
import { serve, type Served } from './local/serve.js';
import type { TelemetryDb } from './local/telemetry-db.js';
import { codecFor, jsonCodec } from './otlp/codec.js';
import type { Signal } from './otlp/signals.js';
import { httpUpstream } from './relay/forward-http.js';
import { exportHandler, type ExportHandler } from './relay/handle-export.js';
import { errorResponse } from './relay/respond.js';
import { admission } from './relay/admission.js';
import { withTokenRefresh } from './relay/with-token-refresh.js';
import { secretCacheFor, SecretUnavailableError } from './secrets.js';
import { spoolFor, type ReplayReport, type SpoolStats } from './spool/index.js';
import { loadSettings, tableNames, type Env, type Settings, type UserSignInSettings } from './settings.js';
import { tableName } from './sql/ddl.js';
import { usageHandler } from './usage/handle-usage.js';
import { recentDays, rollupUsage, type UsageRange } from './usage/rollup-usage.js';
import { USAGE_NOT_CONFIGURED, usageStoreFor } from './usage/usage-store-for.js';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface App {
  settings: Settings;
  exportSignal: ExportHandler;
  /** GET /api/config/{agent} and /api/config/install.sh. */
  config: ConfigHandler;
  /** POST /api/usage/rollup (admin). */
  usage: Handler;
  /** Recomputes the usage of a range of days (the timer uses the recent window). */
  runUsage(range?: UsageRange): Promise<{ range: UsageRange; rows: number }>;
  health: Handler;
  /** Routes any request; used by the local runner and tests (the Functions host routes itself). */
  handle: Handler;
  /** Drains the durable spool (the timer and the local runner call it); undefined when RELAY_SPOOL is off. */
  replaySpool(budgetMs?: number): Promise<ReplayReport | undefined>;
  /** The spool's numbers for health, metrics and logs; undefined when RELAY_SPOOL is off. */
  spoolStats(): SpoolStats | undefined;
  /** Set in local mode when the embedded ingest serves; its DuckDB holds the rows. */
  telemetryDb: TelemetryDb | undefined;
  close(): Promise<void>;
}

const EXPORT_ROUTE = /^\/api\/otel\/v1\/([^/?]+)\/?(?:\?.*)?$/;
const HEALTH_ROUTE = /^\/api\/health\/?(?:\?.*)?$/;
const USAGE_ROUTE = /^\/api\/usage\/rollup\/?(?:\?.*)?$/;
const CONFIG_ROUTE = /^\/api\/config\/([^/?]+)\/?(?:\?.*)?$/;

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

/** Builds the whole app from the environment: settings, secrets, upstream and, in local mode, the embedded ingest. */
export async function createApp(env: Env, log: Logger): Promise<App> {
  const settings = loadSettings(env);
  const secrets = secretCacheFor(settings, withLocalSecrets(settings, env), (m) => log.warn(m));
  const tokens = databricksTokenProvider(settings, secrets);

  let ingestUrl = settings.otelIngestUrl;
  let telemetryDb: TelemetryDb | undefined;
  let ingest: Served | undefined;
  const names = tableNames(settings);
  if (!ingestUrl) {
    // Loaded only here: DuckDB's native module has no business in a Databricks-mode process.
    const [{ TelemetryDb }, { embeddedIngest, INGEST_BASE_PATH }] = await Promise.all([import('./local/telemetry-db.js'), import('./local/embedded-ingest.js')]);
    telemetryDb = await TelemetryDb.open(settings.localDuckdbPath, names);
    const handler = embeddedIngest({ db: telemetryDb, token: await tokens.token(), tableHeader: settings.ucTableHeader, maxBodyBytes: settings.maxBodyBytes });
    ingest = await serve(handler, { host: '127.0.0.1', port: 0 });
    ingestUrl = `${ingest.url}${INGEST_BASE_PATH}`;
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
  const withToken = withTokenRefresh(upstream, tokens, (m) => log.warn(m));
  const spool = spoolFor(settings, { forward: withToken, tableFor, log });
  // Exports in flight are capped before the body is read (admission in exportHandler), not here.
  const forward = spool?.writer ?? withToken;
  const credentialKeys = credentialSecrets(secrets, settings.credentialSecretNames);
  const guard = exportGuard({
    verifier: settings.relayAuth === 'credential' ? new CredentialVerifier(credentialKeys) : undefined,
    deniedResourceAttributes: settings.privacy.resourceAttributes,
    deniedLogAttributes: settings.privacy.logAttributes,
  });
  const exportOf = exportHandler({
    maxBodyBytes: settings.maxBodyBytes,
    maxEntries: settings.maxEntries,
    admission: admission(settings.maxInflight, settings.maxBufferedBytes),
    guard,
    forward,
  });
  const exportSignal: ExportHandler = (signal, request) => answerSafely(() => exportOf(signal, request), request, log, `export ${signal}`);
  const userSignIn = userSignInFor(settings.userSignIn);
  const configOf = configHandler({ settings, secrets, userSignIn, signingKeys: () => credentialKeys.keys(), warn: (m) => log.warn(m) });
  const config: ConfigHandler = (target, request) => answerSafely(() => configOf(target, request), request, log, `config ${target}`);

  const usageStore = usageStoreFor(settings, { telemetryDb, tokens, warn: (m) => log.warn(m) });
  const usageOf = usageHandler({ store: usageStore, names, windowDays: settings.usage.windowDays });
  const usage: Handler = (request) => answerSafely(() => usageOf(request), request, log, 'usage roll-up');

  const health: Handler = async () =>
    jsonResponse(200, {
      status: 'ok',
      mode: settings.mode,
      ingest: telemetryDb ? `embedded, rows in DuckDB file ${settings.localDuckdbPath}` : ingestUrl,
      tables: `${tableName(names, '_otel_metrics')} | _otel_logs | _otel_spans | _usage_daily`,
      usageRollup: usageStore ? `${usageStore.dialect}, schedule "${settings.usage.schedule}" (UTC), last ${settings.usage.windowDays} days` : 'not configured',
      secrets: secrets.source.kind,
      databricksAuth: settings.databricksAuth,
      relayAuth: settings.relayAuth === 'credential' ? 'relay credential required' : 'NONE: exports are not authenticated (local mode)',
      userSignIn: describeSignIn(settings.userSignIn),
      spool: spool ? spoolHealth(spool.stats()) : 'off',
    });

  const handle: Handler = async (request) => {
    const exportMatch = EXPORT_ROUTE.exec(request.url);
    if (exportMatch) {
      const signal = decodedSegment(exportMatch[1]!);
      if (signal === undefined) return errorResponse(codecFor(request.headers['content-type']) ?? jsonCodec, 400, MALFORMED_PATH);
      return exportSignal(signal, request);
    }
    if (HEALTH_ROUTE.test(request.url)) return health(request);
    if (USAGE_ROUTE.test(request.url)) return usage(request);
    const configMatch = CONFIG_ROUTE.exec(request.url);
    if (configMatch) {
      const target = decodedSegment(configMatch[1]!);
      return target === undefined ? jsonResponse(400, { error: MALFORMED_PATH }) : config(target, request);
    }
    return jsonResponse(404, { error: `no route for ${request.method} ${request.url.split('?')[0]}` });
  };

  return {
    settings,
    exportSignal,
    config,
    usage,
    async runUsage(range = recentDays(new Date(), settings.usage.windowDays)) {
      if (!usageStore) throw new Error(USAGE_NOT_CONFIGURED);
      return rollupUsage(usageStore, names, range);
    },
    health,
    handle,
    replaySpool: async (budgetMs) => spool?.replay(budgetMs),
    spoolStats: () => spool?.stats(),
    telemetryDb,
    async close() {
      await upstream.close();
      await usageStore?.close();
      await ingest?.close();
      telemetryDb?.close();
    },
  };
}

function spoolHealth(stats: SpoolStats) {
  return { exports: stats.blobs, bytes: stats.bytes, oldestAgeSeconds: stats.oldestAgeSeconds, measuredAt: stats.measuredAt };
}

const MALFORMED_PATH = 'malformed percent-encoding in the path';

/** A path segment percent-decoded, or undefined when its encoding is malformed (a 400, not a crash). */
function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Runs a handler so that anything unexpected is logged and answered with a generic 500 (internals
 * never reach a client), and a secret that cannot be read right now with a 503 the client may retry.
 */
async function answerSafely(run: () => Promise<PlainResponse>, request: PlainRequest, log: Logger, what: string): Promise<PlainResponse> {
  try {
    return await run();
  } catch (err) {
    const codec = codecFor(request.headers['content-type']) ?? jsonCodec;
    if (err instanceof SecretUnavailableError) {
      log.warn(`${what}: ${err.message}`);
      return errorResponse(codec, 503, 'a secret the relay needs is unavailable right now', { 'retry-after': '5' });
    }
    log.error(`${what} failed: ${(err as Error).stack ?? String(err)}`);
    return errorResponse(codec, 500, 'internal error');
  }
}

let processApp: Promise<App> | undefined;

/** The app of this process, created on first use (the Functions host loads bindings before any request). */
export function getApp(): Promise<App> {
  return (processApp ??= createApp(process.env, console));
}
