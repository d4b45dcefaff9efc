import { describe, expect, it } from 'vitest';
import { loadSettings } from '../shared/settings.js';

const databricks = { DATABRICKS_HOST: 'https://adb-1.azuredatabricks.net', UC_CATALOG: 'main', UC_SCHEMA: 'agents', UC_TABLE_PREFIX: 'relay' };

describe('loadSettings', () => {
  it('defaults to local mode with the embedded ingest', () => {
    const settings = loadSettings({});
    expect(settings).toMatchObject({ mode: 'local', otelIngestUrl: undefined, ucCatalog: 'dev', ucTableHeader: 'X-Databricks-UC-Table-Name', maxBodyBytes: 20 * 1024 * 1024 });
  });

  it('derives the ingest URL from the workspace in Databricks mode', () => {
    expect(loadSettings(databricks)).toMatchObject({ mode: 'databricks', otelIngestUrl: 'https://adb-1.azuredatabricks.net/api/2.0/otel' });
    expect(loadSettings({ ...databricks, OTEL_INGEST_URL: 'https://1.zerobus.example.net/' }).otelIngestUrl).toBe('https://1.zerobus.example.net');
  });

  it.each([
    [{ KEY_VAULT_URL: 'http://vault.example.net' }, 'setting KEY_VAULT_URL: expected an https:// URL (http:// is accepted only for 127.0.0.1, localhost or [::1])'],
    [{ KEY_VAULT_URL: 'not a url' }, 'setting KEY_VAULT_URL: expected an absolute URL such as https://host/path'],
    [{ ...databricks, UC_CATALOG: undefined }, 'setting UC_CATALOG: expected a SQL identifier (letters, digits, underscore; not starting with a digit) (required when DATABRICKS_HOST is set)'],
    [{ UC_SCHEMA: 'x; DROP TABLE y' }, 'setting UC_SCHEMA: expected a SQL identifier (letters, digits, underscore; not starting with a digit)'],
    [{ UC_CATALOG: 'main' }, 'setting UC_CATALOG: expected a catalog name other than main, memory, system, temp in local mode (DuckDB reserves them)'],
    [{ UC_TABLE_HEADER: 'X Bad: header' }, 'setting UC_TABLE_HEADER: expected an HTTP header name'],
    [{ OTLP_MAX_BODY_BYTES: '20MB' }, 'setting OTLP_MAX_BODY_BYTES: expected an integer from 1024 to 104857600'],
    [{ UPSTREAM_GZIP: 'yes' }, 'setting UPSTREAM_GZIP: expected true or false'],
    [{ DATABRICKS_AUTH: 'oauth-m2m' }, 'setting DATABRICKS_AUTH: expected pat when DATABRICKS_HOST is unset (oauth-m2m mints tokens at the workspace)'],
    [{ DATABRICKS_AUTH: 'password' }, 'setting DATABRICKS_AUTH: expected one of pat, oauth-m2m'],
    [{ DATABRICKS_TOKEN_SECRET_NAME: 'bad_name' }, 'setting DATABRICKS_TOKEN_SECRET_NAME: expected a Key Vault secret name (letters, digits, dashes)'],
    [{ ...databricks, RELAY_AUTH: 'none' }, 'setting RELAY_AUTH: expected credential when DATABRICKS_HOST is set (none is for local mode only)'],
    [{ ENTRA_TENANT_ID: 'contoso.onmicrosoft.com' }, 'setting ENTRA_AUDIENCE: expected the application ID URI or client id tokens are issued for (required with ENTRA_TENANT_ID or ENTRA_ISSUER)'],
    [{ ENTRA_ISSUER: 'https://idp.example/', ENTRA_AUDIENCE: 'x' }, 'setting ENTRA_JWKS_URL: expected a JWKS URL (required with ENTRA_ISSUER when ENTRA_TENANT_ID is unset)'],
    [{ ENTRA_TENANT_ID: 'a/b', ENTRA_AUDIENCE: 'x' }, 'setting ENTRA_TENANT_ID: expected a tenant id (GUID) or domain'],
    [{ RELAY_CREDENTIAL_TTL_DAYS: '0' }, 'setting RELAY_CREDENTIAL_TTL_DAYS: expected an integer from 1 to 3650'],
    [{ MODEL_CODEX: 'gpt"5' }, 'setting MODEL_CODEX: expected a model name (letters, digits, . _ : -)'],
    [{ AI_GATEWAY_PATH_OPENAI: 'openai/v1' }, 'setting AI_GATEWAY_PATH_OPENAI: expected a URL path starting with /'],
    [{ MODELS_CURSOR: 'a,b c' }, 'setting MODELS_CURSOR: expected comma-separated model names'],
    [{ CONFIG_AGENTS: 'codex,vim' }, 'setting CONFIG_AGENTS: expected a comma-separated subset of claude-code, codex, gemini-cli, cursor'],
    [{ GATEWAY_TOKEN_SECRET_PATTERN: 'gateway-token' }, 'setting GATEWAY_TOKEN_SECRET_PATTERN: expected a Key Vault secret name containing {user}, at most 63 characters besides {user}'],
    [{ GATEWAY_TOKEN_HELPER: 'a\nb' }, 'setting GATEWAY_TOKEN_HELPER: expected a one-line shell command (empty: no helper)'],
    [{ ...databricks, RELAY_SPOOL: 'on-failure' }, 'setting RELAY_SPOOL: expected off when no storage account is configured (set AzureWebJobsStorage or AzureWebJobsStorage__blobServiceUri)'],
    [{ RELAY_SPOOL: 'always' }, 'setting RELAY_SPOOL: expected one of on-failure, off'],
    [{ RELAY_SPOOL_MAX_MB: '0' }, 'setting RELAY_SPOOL_MAX_MB: expected an integer from 1 to 1000000'],
    [{ RELAY_SPOOL_REPLAY_SCHEDULE: '*/5 * * * *' }, 'setting RELAY_SPOOL_REPLAY_SCHEDULE: expected a 6-field NCRONTAB expression such as "0 * * * * *"'],
    [{ AzureWebJobsStorage: 'secret-looking-value' }, 'setting AzureWebJobsStorage: expected a storage connection string (AccountName=...;AccountKey=... or BlobEndpoint=...) or UseDevelopmentStorage=true'],
  ])('refuses %j', (env, message) => {
    expect(() => loadSettings(env)).toThrow(message);
  });

  it('reads identity and privacy settings', () => {
    const settings = loadSettings({ ...databricks, ENTRA_TENANT_ID: 'contoso.onmicrosoft.com', ENTRA_AUDIENCE: 'api://relay', PRIVACY_DENIED_LOG_ATTRIBUTES: ' prompt , ,secret ' });
    expect(settings.userSignIn).toEqual({
      kind: 'entra',
      audience: ['api://relay'],
      issuers: ['https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0', 'https://sts.windows.net/contoso.onmicrosoft.com/'],
      jwksUrl: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/discovery/v2.0/keys',
    });
    expect([...settings.privacy.logAttributes]).toEqual(['prompt', 'secret']);
    expect([...settings.privacy.resourceAttributes]).toEqual(['process.command_args', 'process.command_line']);
    expect(settings.credentialTtlSeconds).toBe(90 * 86_400);
    expect(loadSettings({}).userSignIn).toEqual({ kind: 'local', id: 'local-developer', email: 'developer@localhost' });
    expect(loadSettings({ ...databricks }).userSignIn).toEqual({ kind: 'none' });
    expect(loadSettings({ TRUST_EASY_AUTH: 'true' }).userSignIn).toEqual({ kind: 'easy-auth' });
  });

  it('derives the public URL: local port, or the App Service host name in Azure', () => {
    expect(loadSettings({ LOCAL_PORT: '7080' }).agents.relayPublicUrl).toBe('http://127.0.0.1:7080');
    expect(loadSettings({ ...databricks, WEBSITE_HOSTNAME: 'relay.azurewebsites.net' }).agents.relayPublicUrl).toBe('https://relay.azurewebsites.net');
    expect(loadSettings({ ...databricks, RELAY_PUBLIC_URL: 'https://relay.contoso.example/' }).agents.relayPublicUrl).toBe('https://relay.contoso.example');
    expect(loadSettings(databricks).agents.relayPublicUrl).toBeUndefined();
  });

  it.each([
    [{}, 'dev.ai_gateway.usage'],
    [{ AI_GATEWAY_USAGE_TABLE: '' }, undefined],
    [databricks, 'system.ai_gateway.usage'],
    [{ ...databricks, AI_GATEWAY_USAGE_TABLE: ' ' }, undefined],
    [{ ...databricks, AI_GATEWAY_USAGE_TABLE: 'ops.gateway.usage_copy' }, 'ops.gateway.usage_copy'],
  ])('reads the AI Gateway usage table from %j', (env, table) => {
    expect(loadSettings(env).usage.gatewayUsageTable).toBe(table);
  });

  it.each([
    [{ ...databricks, AI_GATEWAY_USAGE_TABLE: 'ai_gateway.usage' }, 'setting AI_GATEWAY_USAGE_TABLE: expected a table name catalog.schema.table, or empty to turn it off'],
    [{ ...databricks, AI_GATEWAY_USAGE_TABLE: 'system.ai_gateway.usage; DROP TABLE x' }, 'setting AI_GATEWAY_USAGE_TABLE: expected a table name catalog.schema.table, or empty to turn it off'],
    [{ AI_GATEWAY_USAGE_TABLE: 'system.ai_gateway.usage' }, 'setting AI_GATEWAY_USAGE_TABLE: expected dev.ai_gateway.usage (the embedded stand-in) or empty in local mode'],
  ])('refuses AI_GATEWAY_USAGE_TABLE in %j', (env, message) => {
    expect(() => loadSettings(env)).toThrow(message);
  });

  it('accepts a loopback http vault (emulators and tests)', () => {
    expect(loadSettings({ KEY_VAULT_URL: 'http://127.0.0.1:8443/' }).keyVaultUrl).toBe('http://127.0.0.1:8443');
  });

  it.each([
    ['no storage account', {}, { mode: 'off', storage: undefined }],
    ['development storage', { AzureWebJobsStorage: 'UseDevelopmentStorage=true' }, { mode: 'on-failure', storage: { kind: 'development' } }],
    ['the spool asked for in local mode (npm start runs Azurite)', { RELAY_SPOOL: 'on-failure' }, { mode: 'on-failure', storage: { kind: 'development' } }],
    ['a connection string', { AzureWebJobsStorage: 'AccountName=a;AccountKey=k' }, { mode: 'on-failure', storage: { kind: 'connection-string', connectionString: 'AccountName=a;AccountKey=k' } }],
    [
      "the app's identity (Azure)",
      { ...databricks, AzureWebJobsStorage__blobServiceUri: 'https://st1.blob.core.windows.net/', AzureWebJobsStorage__clientId: 'c1' },
      { mode: 'on-failure', storage: { kind: 'identity', blobServiceUri: 'https://st1.blob.core.windows.net', clientId: 'c1' } },
    ],
    ['the spool turned off', { AzureWebJobsStorage: 'UseDevelopmentStorage=true', RELAY_SPOOL: 'off' }, { mode: 'off', storage: { kind: 'development' } }],
  ])('spools by default only with a storage account: %s', (_case, env, expected) => {
    expect(loadSettings(env).spool).toMatchObject({ ...expected, maxBytes: 1024 * 1024 * 1024, replaySchedule: '0 * * * * *', localReplayIntervalMs: 10_000 });
  });

  it('never puts the storage connection string in an error', () => {
    expect(() => loadSettings({ AzureWebJobsStorage: 'AccountKey=c2VjcmV0' })).toThrow(/^(?!.*c2VjcmV0).*$/);
  });
});
