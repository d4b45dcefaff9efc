/*
 * Every setting the app reads, parsed and validated once at start. Errors name the setting and the
 * expected form; values of secrets never appear in them (secrets are not settings: see secrets.ts).
 */

import type { TableNames } from './sql/ddl.js';

export type Env = Record<string, string | undefined>;

export class SettingsError extends Error {}

export type DatabricksAuth = 'pat' | 'oauth-m2m';

/** How endpoints that act for a person learn who it is (see identity/user-sign-in.ts). */
export type UserSignInSettings =
  | { kind: 'entra'; audience: string[]; issuers: string[]; jwksUrl: string }
  | { kind: 'easy-auth' }
  | { kind: 'local'; id: string; email: string }
  | { kind: 'none' };

export type AgentName = 'claude-code' | 'codex' | 'gemini-cli' | 'cursor';
export const AGENT_NAMES: readonly AgentName[] = ['claude-code', 'codex', 'gemini-cli', 'cursor'];

/** What the config endpoint writes into agent configs. */
export interface AgentConfigSettings {
  /** AI Gateway base URL; unset: the config endpoint answers 503. */
  gatewayUrl: string | undefined;
  /** This app's public base URL; unset outside local mode and Azure: the config endpoint answers 503. */
  relayPublicUrl: string | undefined;
  paths: { anthropic: string; openai: string; gemini: string; cursor: string };
  models: { claudeCode: string; codex: string; geminiCli: string; cursor: string[] };
  offered: readonly AgentName[];
  /** Key Vault secret name holding a user's gateway token; `{user}` is the user's id. */
  gatewayTokenSecretPattern: string;
  /** Shell command printing a gateway token, for agents that run one; undefined: none. */
  gatewayTokenHelper: string | undefined;
  /** `off`: Gemini CLI configs turn Gemini's folder trust off, so ~/.gemini/.env is read in every folder. */
  geminiFolderTrust: 'on' | 'off';
}

export interface UsageSettings {
  /** SQL warehouse HTTP path (/sql/1.0/warehouses/<id>); required for the roll-up in Databricks mode. */
  warehouseHttpPath: string | undefined;
  /** Days recomputed by each scheduled run, ending today (UTC). */
  windowDays: number;
  /** 6-field NCRONTAB, UTC. */
  schedule: string;
  maxAttempts: number;
  statementTimeoutSeconds: number;
  /** App role (Entra `roles` claim) whose holders read everyone's usage; others read their own. */
  adminRole: string;
  /** Longest range, in days, GET /api/usage serves. */
  maxDays: number;
  /** The AI Gateway's usage table read beside telemetry (three-part name); undefined: not read. */
  gatewayUsageTable: string | undefined;
}

/** Where the spool's blobs live: the Functions app's own storage account (AzureWebJobsStorage). */
export type SpoolStorage =
  | { kind: 'connection-string'; connectionString: string }
  /** Identity-based, as the Functions host itself connects in Azure. */
  | { kind: 'identity'; blobServiceUri: string; clientId: string | undefined }
  /** `UseDevelopmentStorage=true` (or nothing, in local mode): Azurite; `npm start` runs it. */
  | { kind: 'development' };

export interface SpoolSettings {
  /** `on-failure`: an export the upstream cannot take now is kept in blob storage and answered 200. */
  mode: 'on-failure' | 'off';
  storage: SpoolStorage | undefined;
  maxBytes: number;
  /** 6-field NCRONTAB of the replay timer (Functions host). */
  replaySchedule: string;
  /** How often the local runner replays. */
  localReplayIntervalMs: number;
}

export interface Settings {
  /** `local` when DATABRICKS_HOST is unset: embedded ingest + DuckDB, no Azure needed. */
  mode: 'local' | 'databricks';
  databricksHost: string | undefined;
  /** Where the relay posts `/v1/<signal>`; undefined in local mode means the embedded ingest. */
  otelIngestUrl: string | undefined;
  ucTableHeader: string;
  ucCatalog: string;
  ucSchema: string;
  ucTablePrefix: string;
  keyVaultUrl: string | undefined;
  azureClientId: string | undefined;
  databricksAuth: DatabricksAuth;
  secretNames: { databricksToken: string; databricksClientId: string; databricksClientSecret: string };
  secretCacheTtlMs: number;
  secretMaxStaleMs: number;
  maxBodyBytes: number;
  upstreamGzip: boolean;
  upstreamTimeoutMs: number;
  upstreamMaxSockets: number;
  maxInflight: number;
  /** `credential`: every export needs a relay credential; `none` (local mode only): no check, no stamping. */
  relayAuth: 'credential' | 'none';
  credentialSecretNames: { signingKey: string; previousSigningKey: string; revoked: string };
  credentialTtlSeconds: number;
  /** Life of the credentials POST /api/credential issues (Claude Code's headers helper). */
  shortCredentialTtlSeconds: number;
  privacy: { resourceAttributes: ReadonlySet<string>; logAttributes: ReadonlySet<string> };
  userSignIn: UserSignInSettings;
  agents: AgentConfigSettings;
  usage: UsageSettings;
  spool: SpoolSettings;
  localPort: number;
  localDuckdbPath: string;
  /** The relay's own metrics and logs. */
  observability: {
    /** Application Insights connection string (set by infra/): metrics are exported there too. */
    appInsightsConnectionString: string | undefined;
    /** Log every accepted export as well (refused and failed ones are always logged). */
    logAcceptedExports: boolean;
    /** How long a readiness answer (GET /api/health?ready=1) is reused. */
    readinessCacheMs: number;
  };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const SECRET_NAME = /^[0-9A-Za-z-]{1,127}$/;

export function isLoopbackUrl(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

function invalid(name: string, expected: string): never {
  throw new SettingsError(`setting ${name}: expected ${expected}`);
}

function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

/** An https URL, or http on a loopback host (emulators, tests). Trailing slashes dropped. */
function url(env: Env, name: string): string | undefined {
  const value = text(env, name);
  if (value === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return invalid(name, 'an absolute URL such as https://host/path');
  }
  const ok = parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopbackUrl(parsed));
  if (!ok) invalid(name, 'an https:// URL (http:// is accepted only for 127.0.0.1, localhost or [::1])');
  if (parsed.search || parsed.hash || parsed.username || parsed.password) invalid(name, 'a URL without query, fragment or credentials');
  return parsed.href.replace(/\/+$/, '');
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = text(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) invalid(name, `an integer from ${min} to ${max}`);
  return n;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const value = text(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return invalid(name, 'true or false');
}

function matching(env: Env, name: string, pattern: RegExp, expected: string, fallback?: string): string {
  const value = text(env, name) ?? fallback;
  if (value === undefined) return invalid(name, `${expected} (required when DATABRICKS_HOST is set)`);
  return pattern.test(value) ? value : invalid(name, expected);
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const value = text(env, name) ?? fallback;
  return (values as readonly string[]).includes(value) ? (value as T) : invalid(name, `one of ${values.join(', ')}`);
}

/** DuckDB reserves these database names, so local mode cannot attach its file under them. */
const DUCKDB_RESERVED = new Set(['main', 'memory', 'system', 'temp']);

function catalog(env: Env, local: boolean, identifier: string): string {
  const value = matching(env, 'UC_CATALOG', IDENTIFIER, identifier, local ? 'dev' : undefined);
  if (local && DUCKDB_RESERVED.has(value.toLowerCase())) {
    invalid('UC_CATALOG', `a catalog name other than ${[...DUCKDB_RESERVED].join(', ')} in local mode (DuckDB reserves them)`);
  }
  return value;
}

function databricksAuth(env: Env, local: boolean): DatabricksAuth {
  const value = oneOf(env, 'DATABRICKS_AUTH', ['pat', 'oauth-m2m'] as const, 'pat');
  if (value === 'oauth-m2m' && local) invalid('DATABRICKS_AUTH', 'pat when DATABRICKS_HOST is unset (oauth-m2m mints tokens at the workspace)');
  return value;
}

function list(env: Env, name: string, fallback: string): ReadonlySet<string> {
  const value = env[name] ?? fallback;
  return new Set(value.split(',').map((item) => item.trim()).filter((item) => item !== ''));
}

export const DEFAULT_DENIED_RESOURCE_ATTRIBUTES = 'process.command_args,process.command_line';
export const DEFAULT_DENIED_LOG_ATTRIBUTES =
  'prompt,response,response_text,gen_ai.prompt,gen_ai.completion,gen_ai.input.messages,gen_ai.output.messages,gen_ai.system_instructions';

function relayAuth(env: Env, local: boolean): 'credential' | 'none' {
  const value = oneOf(env, 'RELAY_AUTH', ['credential', 'none'] as const, 'credential');
  if (value === 'none' && !local) invalid('RELAY_AUTH', 'credential when DATABRICKS_HOST is set (none is for local mode only)');
  return value;
}

function userSignIn(env: Env, local: boolean): UserSignInSettings {
  if (boolean(env, 'TRUST_EASY_AUTH', false)) return { kind: 'easy-auth' };
  const tenant = text(env, 'ENTRA_TENANT_ID');
  if (tenant !== undefined && !/^[A-Za-z0-9.-]{1,100}$/.test(tenant)) invalid('ENTRA_TENANT_ID', 'a tenant id (GUID) or domain');
  const issuer = url(env, 'ENTRA_ISSUER');
  const jwksUrl = url(env, 'ENTRA_JWKS_URL');
  if (tenant !== undefined || issuer !== undefined) {
    const audience = [...list(env, 'ENTRA_AUDIENCE', '')];
    if (audience.length === 0) invalid('ENTRA_AUDIENCE', 'the application ID URI or client id tokens are issued for (required with ENTRA_TENANT_ID or ENTRA_ISSUER)');
    if (tenant === undefined && jwksUrl === undefined) invalid('ENTRA_JWKS_URL', 'a JWKS URL (required with ENTRA_ISSUER when ENTRA_TENANT_ID is unset)');
    return {
      kind: 'entra',
      audience,
      // Entra issues v2.0 or v1 tokens depending on the app registration: accept both for the tenant.
      issuers: issuer !== undefined ? [issuer] : [`https://login.microsoftonline.com/${tenant}/v2.0`, `https://sts.windows.net/${tenant}/`],
      jwksUrl: jwksUrl ?? `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`,
    };
  }
  if (local) return { kind: 'local', id: text(env, 'LOCAL_USER_ID') ?? 'local-developer', email: text(env, 'LOCAL_USER_EMAIL') ?? 'developer@localhost' };
  return { kind: 'none' };
}

/** Entra ID token for Azure Databricks (its application id), printed by the Azure CLI. */
export const DEFAULT_GATEWAY_TOKEN_HELPER = 'az account get-access-token --resource 2ff814a6-3304-4ab8-85cb-cd0e6f879c1d --query accessToken -o tsv';
const MODEL = /^[A-Za-z0-9._:-]{1,100}$/;
const PATH = /^\/[A-Za-z0-9._~/-]{0,200}$/;

function agentSettings(env: Env, local: boolean, localPort: number): AgentConfigSettings {
  const model = (name: string, fallback: string) => matching(env, name, MODEL, 'a model name (letters, digits, . _ : -)', fallback);
  const path = (name: string, fallback: string) => matching(env, name, PATH, 'a URL path starting with /', fallback).replace(/\/$/, '');
  const cursorModels = [...list(env, 'MODELS_CURSOR', 'databricks-claude-opus-4-6,databricks-gpt-5-2')];
  for (const m of cursorModels) if (!MODEL.test(m)) invalid('MODELS_CURSOR', 'comma-separated model names');
  const offered = [...list(env, 'CONFIG_AGENTS', AGENT_NAMES.join(','))];
  for (const a of offered) if (!(AGENT_NAMES as readonly string[]).includes(a)) invalid('CONFIG_AGENTS', `a comma-separated subset of ${AGENT_NAMES.join(', ')}`);
  const pattern = text(env, 'GATEWAY_TOKEN_SECRET_PATTERN') ?? 'gateway-token-{user}';
  // {user} becomes 64 hex digits (agents/gateway-token.ts): the name must still fit Key Vault's 127.
  if (!pattern.includes('{user}') || !SECRET_NAME.test(pattern.replace('{user}', '0'.repeat(64)))) {
    invalid('GATEWAY_TOKEN_SECRET_PATTERN', 'a Key Vault secret name containing {user}, at most 63 characters besides {user}');
  }
  const helper = env.GATEWAY_TOKEN_HELPER === undefined ? DEFAULT_GATEWAY_TOKEN_HELPER : env.GATEWAY_TOKEN_HELPER.trim();
  // Control characters and Unicode line breaks too: the command is also written into a .env comment.
  if (/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/.test(helper)) invalid('GATEWAY_TOKEN_HELPER', 'a one-line shell command (empty: no helper)');
  const host = text(env, 'WEBSITE_HOSTNAME'); // set by App Service / Functions in Azure
  return {
    gatewayUrl: url(env, 'AI_GATEWAY_URL'),
    relayPublicUrl: url(env, 'RELAY_PUBLIC_URL') ?? (local ? `http://127.0.0.1:${localPort}` : host ? `https://${host}` : undefined),
    paths: {
      anthropic: path('AI_GATEWAY_PATH_ANTHROPIC', '/anthropic'),
      openai: path('AI_GATEWAY_PATH_OPENAI', '/openai/v1'),
      gemini: path('AI_GATEWAY_PATH_GEMINI', '/gemini'),
      cursor: path('AI_GATEWAY_PATH_CURSOR', '/cursor/v1'),
    },
    models: {
      claudeCode: model('MODEL_CLAUDE_CODE', 'databricks-claude-opus-4-6'),
      codex: model('MODEL_CODEX', 'databricks-gpt-5-2'),
      geminiCli: model('MODEL_GEMINI_CLI', 'databricks-gemini-2-5-flash'),
      cursor: cursorModels,
    },
    offered: offered as AgentName[],
    gatewayTokenSecretPattern: pattern,
    gatewayTokenHelper: helper === '' ? undefined : helper,
    geminiFolderTrust: oneOf(env, 'GEMINI_FOLDER_TRUST', ['on', 'off'] as const, 'off'),
  };
}

/** Azure Functions timers take 6-field NCRONTAB expressions (seconds first). */
const NCRONTAB = /^\S+ \S+ \S+ \S+ \S+ \S+$/;

/** The gateway's usage system table in Databricks; locally the embedded stand-in (DuckDB reserves `system`). */
export const DATABRICKS_GATEWAY_USAGE_TABLE = 'system.ai_gateway.usage';
export const localGatewayUsageTable = (catalog: string) => `${catalog}.ai_gateway.usage`;

/** Unset: the default for the mode; empty: off. Locally only the embedded stand-in exists. */
function gatewayUsageTable(env: Env, local: boolean, catalog: string): string | undefined {
  const raw = env.AI_GATEWAY_USAGE_TABLE;
  if (raw !== undefined && raw.trim() === '') return undefined;
  const fallback = local ? localGatewayUsageTable(catalog) : DATABRICKS_GATEWAY_USAGE_TABLE;
  const value = raw === undefined ? fallback : raw.trim();
  const part = IDENTIFIER.source.slice(1, -1);
  if (!new RegExp(`^${part}\\.${part}\\.${part}$`).test(value)) invalid('AI_GATEWAY_USAGE_TABLE', 'a table name catalog.schema.table, or empty to turn it off');
  if (local && value !== fallback) invalid('AI_GATEWAY_USAGE_TABLE', `${fallback} (the embedded stand-in) or empty in local mode`);
  return value;
}

function usageSettings(env: Env, local: boolean, catalog: string): UsageSettings {
  const schedule = text(env, 'USAGE_SCHEDULE') ?? '0 15 0 * * *';
  if (!NCRONTAB.test(schedule) || !/^[0-9*/,\- A-Za-z]+$/.test(schedule)) invalid('USAGE_SCHEDULE', 'a 6-field NCRONTAB expression such as "0 15 0 * * *"');
  return {
    warehouseHttpPath: text(env, 'DATABRICKS_WAREHOUSE_HTTP_PATH') === undefined ? undefined : matching(env, 'DATABRICKS_WAREHOUSE_HTTP_PATH', /^\/sql\/[0-9.]+\/warehouses\/[A-Za-z0-9]+$/, 'an HTTP path such as /sql/1.0/warehouses/<id>'),
    windowDays: integer(env, 'USAGE_WINDOW_DAYS', 3, 1, 31),
    schedule,
    maxAttempts: integer(env, 'USAGE_MAX_ATTEMPTS', 5, 1, 10),
    statementTimeoutSeconds: integer(env, 'USAGE_STATEMENT_TIMEOUT_SECONDS', 900, 10, 172_800),
    adminRole: matching(env, 'USAGE_ADMIN_ROLE', /^[A-Za-z0-9._:-]{1,120}$/, 'an app role value (letters, digits, . _ : -)', 'Usage.Admin'),
    maxDays: integer(env, 'USAGE_MAX_DAYS', 366, 1, 3660),
    gatewayUsageTable: gatewayUsageTable(env, local, catalog),
  };
}

const DEVELOPMENT_STORAGE = /^UseDevelopmentStorage=true$/i;

function spoolStorage(env: Env, local: boolean, spoolWanted: boolean): SpoolStorage | undefined {
  const connectionString = text(env, 'AzureWebJobsStorage');
  const blobServiceUri = url(env, 'AzureWebJobsStorage__blobServiceUri');
  const clientId = text(env, 'AzureWebJobsStorage__clientId');
  if (connectionString !== undefined) {
    if (DEVELOPMENT_STORAGE.test(connectionString)) return { kind: 'development' };
    // The value holds an account key: never echoed.
    if (!/(^|;)\s*(BlobEndpoint|AccountName)\s*=/i.test(connectionString)) invalid('AzureWebJobsStorage', 'a storage connection string (AccountName=...;AccountKey=... or BlobEndpoint=...) or UseDevelopmentStorage=true');
    return { kind: 'connection-string', connectionString };
  }
  if (blobServiceUri !== undefined) return { kind: 'identity', blobServiceUri, clientId };
  return local && spoolWanted ? { kind: 'development' } : undefined;
}

function spoolSettings(env: Env, local: boolean): SpoolSettings {
  const asked = text(env, 'RELAY_SPOOL');
  const storage = spoolStorage(env, local, asked === 'on-failure');
  const mode = oneOf(env, 'RELAY_SPOOL', ['on-failure', 'off'] as const, storage ? 'on-failure' : 'off');
  if (mode === 'on-failure' && !storage) invalid('RELAY_SPOOL', 'off when no storage account is configured (set AzureWebJobsStorage or AzureWebJobsStorage__blobServiceUri)');
  const replaySchedule = text(env, 'RELAY_SPOOL_REPLAY_SCHEDULE') ?? '0 * * * * *';
  if (!NCRONTAB.test(replaySchedule) || !/^[0-9*/,\- A-Za-z]+$/.test(replaySchedule)) invalid('RELAY_SPOOL_REPLAY_SCHEDULE', 'a 6-field NCRONTAB expression such as "0 * * * * *"');
  return {
    mode,
    storage,
    maxBytes: integer(env, 'RELAY_SPOOL_MAX_MB', 1024, 1, 1_000_000) * 1024 * 1024,
    replaySchedule,
    localReplayIntervalMs: integer(env, 'RELAY_SPOOL_REPLAY_INTERVAL_SECONDS', 10, 1, 3600) * 1000,
  };
}

export function tableNames(settings: Settings): TableNames {
  return { catalog: settings.ucCatalog, schema: settings.ucSchema, prefix: settings.ucTablePrefix };
}

export function loadSettings(env: Env): Settings {
  const databricksHost = url(env, 'DATABRICKS_HOST');
  const local = databricksHost === undefined;
  const identifier = 'a SQL identifier (letters, digits, underscore; not starting with a digit)';
  const ucCatalog = catalog(env, local, identifier);
  const secretName = 'a Key Vault secret name (letters, digits, dashes)';
  return {
    mode: local ? 'local' : 'databricks',
    databricksHost,
    otelIngestUrl: url(env, 'OTEL_INGEST_URL') ?? (local ? undefined : `${databricksHost}/api/2.0/otel`),
    ucTableHeader: matching(env, 'UC_TABLE_HEADER', HEADER_NAME, 'an HTTP header name', 'X-Databricks-UC-Table-Name'),
    ucCatalog,
    ucSchema: matching(env, 'UC_SCHEMA', IDENTIFIER, identifier, local ? 'coding_agents' : undefined),
    ucTablePrefix: matching(env, 'UC_TABLE_PREFIX', IDENTIFIER, identifier, local ? 'agents' : undefined),
    keyVaultUrl: url(env, 'KEY_VAULT_URL'),
    azureClientId: text(env, 'AZURE_CLIENT_ID'),
    databricksAuth: databricksAuth(env, local),
    secretNames: {
      databricksToken: matching(env, 'DATABRICKS_TOKEN_SECRET_NAME', SECRET_NAME, secretName, 'databricks-token'),
      databricksClientId: matching(env, 'DATABRICKS_CLIENT_ID_SECRET_NAME', SECRET_NAME, secretName, 'databricks-client-id'),
      databricksClientSecret: matching(env, 'DATABRICKS_CLIENT_SECRET_SECRET_NAME', SECRET_NAME, secretName, 'databricks-client-secret'),
    },
    secretCacheTtlMs: integer(env, 'SECRET_CACHE_TTL_SECONDS', 300, 1, 86_400) * 1000,
    secretMaxStaleMs: integer(env, 'SECRET_MAX_STALE_SECONDS', 3600, 0, 604_800) * 1000,
    maxBodyBytes: integer(env, 'OTLP_MAX_BODY_BYTES', 20 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    upstreamGzip: boolean(env, 'UPSTREAM_GZIP', false),
    upstreamTimeoutMs: integer(env, 'UPSTREAM_TIMEOUT_MS', 5000, 100, 60_000),
    upstreamMaxSockets: integer(env, 'UPSTREAM_MAX_SOCKETS', 64, 1, 1024),
    maxInflight: integer(env, 'RELAY_MAX_INFLIGHT', 256, 1, 10_000),
    relayAuth: relayAuth(env, local),
    credentialSecretNames: {
      signingKey: matching(env, 'RELAY_SIGNING_KEY_SECRET_NAME', SECRET_NAME, secretName, 'relay-signing-key'),
      previousSigningKey: matching(env, 'RELAY_SIGNING_KEY_PREVIOUS_SECRET_NAME', SECRET_NAME, secretName, 'relay-signing-key-previous'),
      revoked: matching(env, 'RELAY_REVOKED_SECRET_NAME', SECRET_NAME, secretName, 'relay-revoked'),
    },
    credentialTtlSeconds: integer(env, 'RELAY_CREDENTIAL_TTL_DAYS', 90, 1, 3650) * 86_400,
    shortCredentialTtlSeconds: integer(env, 'RELAY_SHORT_CREDENTIAL_MINUTES', 60, 1, 1440) * 60,
    privacy: {
      resourceAttributes: list(env, 'PRIVACY_DENIED_RESOURCE_ATTRIBUTES', DEFAULT_DENIED_RESOURCE_ATTRIBUTES),
      logAttributes: list(env, 'PRIVACY_DENIED_LOG_ATTRIBUTES', DEFAULT_DENIED_LOG_ATTRIBUTES),
    },
    userSignIn: userSignIn(env, local),
    agents: agentSettings(env, local, integer(env, 'LOCAL_PORT', 7071, 0, 65_535)),
    usage: usageSettings(env, local, ucCatalog),
    spool: spoolSettings(env, local),
    localPort: integer(env, 'LOCAL_PORT', 7071, 0, 65_535),
    localDuckdbPath: text(env, 'LOCAL_DUCKDB_PATH') ?? '.local/telemetry.duckdb',
    observability: {
      appInsightsConnectionString: text(env, 'APPLICATIONINSIGHTS_CONNECTION_STRING'),
      logAcceptedExports: boolean(env, 'LOG_ACCEPTED_EXPORTS', false),
      readinessCacheMs: integer(env, 'READINESS_CACHE_SECONDS', 10, 0, 3600) * 1000,
    },
  };
}
