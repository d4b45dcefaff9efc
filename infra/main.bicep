// coding-agent-relay on Azure: a Linux Flex Consumption function app with a user-assigned managed
// identity, identity-only storage, Application Insights with Entra auth, and a Key Vault (RBAC) that
// holds the secrets. Deploy into a resource group:
//   az deployment group create -g <resource-group> -f infra/main.bicep -p infra/main.parameters.json -p <name>=<value> ...
// Secret VALUES never appear here: the app reads them from the vault by the names passed as settings.

targetScope = 'resourceGroup'

@description('Short base name for the resources (letters, digits, dashes).')
@minLength(3)
@maxLength(20)
param appName string

param location string = resourceGroup().location
param tags object = {}

@description('Flex Consumption instance memory in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Upper bound on instances (Flex Consumption).')
param maximumInstanceCount int = 40

@description('Object id of whoever puts the secrets into the vault (granted Key Vault Secrets Officer); empty: nobody.')
param secretsOfficerPrincipalId string = ''

// Settings parameters have no defaults here: a parameter left out is left out of the app settings and
// the code's default applies (shared/settings.ts, listed in docs/settings.md); a parameter given as '' is passed
// through as '' (for the privacy lists and GATEWAY_TOKEN_HELPER, '' switches the feature off).

// ---- Databricks and Unity Catalog ----
@description('Workspace URL, e.g. https://adb-1234567890123456.7.azuredatabricks.net')
param databricksHost string
@description('OTel ingest base; unset: <databricksHost>/api/2.0/otel')
param otelIngestUrl string?
param ucTableHeader string?
param ucCatalog string
param ucSchema string
param ucTablePrefix string
@description('pat or oauth-m2m')
param databricksAuth string?
param databricksTokenSecretName string?
param databricksClientIdSecretName string?
param databricksClientSecretSecretName string?
@description('SQL warehouse HTTP path for the usage roll-up, /sql/1.0/warehouses/<id>; unset: no roll-up.')
param databricksWarehouseHttpPath string?

// ---- relay ----
param secretCacheTtlSeconds string?
param secretMaxStaleSeconds string?
param keyVaultTimeoutMs string?
param otlpMaxBodyBytes string?
param otlpMaxEntries string?
param relayMaxBufferedBytes string?
param upstreamGzip string?
param upstreamTimeoutMs string?
param upstreamMaxSockets string?
param relayMaxInflight string?
@description('credential (the only value accepted with DATABRICKS_HOST)')
param relayAuth string?
param relaySigningKeySecretName string?
param relaySigningKeyPreviousSecretName string?
param relayRevokedSecretName string?
param relayCredentialTtlDays string?
@description('Resource attributes removed before forwarding; empty string: none removed.')
param privacyDeniedResourceAttributes string?
@description('Log-record attributes removed before forwarding; empty string: none removed.')
param privacyDeniedLogAttributes string?
param logAcceptedExports string?
param readinessCacheSeconds string?
@description('Life of the credentials POST /api/credential issues to Claude Code\'s headers helper, in minutes.')
param relayShortCredentialMinutes string?
@description('on-failure: exports the ingest cannot take now are kept in the storage account and replayed; off: none kept.')
param relaySpool string?
@description('Spool size cap in MB; when full, exports are answered 503 with Retry-After.')
param relaySpoolMaxMb string?
@description('NCRONTAB (UTC) of the spool replay timer.')
param relaySpoolReplaySchedule string?

// ---- user sign-in (agent configs) ----
param entraTenantId string = subscription().tenantId
@description('Audience of user access tokens: the relay API app registration (client id and/or api:// URI, comma-separated).')
param entraAudience string
param entraIssuer string?
param entraJwksUrl string?
param trustEasyAuth string?

// ---- agent configs ----
@description('AI Gateway base URL, https://<ai-gateway-host>')
param aiGatewayUrl string
@description('Public base URL of the relay; unset: https://<default host name>.')
param relayPublicUrl string?
param aiGatewayPathAnthropic string?
param aiGatewayPathOpenai string?
param aiGatewayPathGemini string?
param aiGatewayPathCursor string?
param modelClaudeCode string?
param modelCodex string?
param modelGeminiCli string?
param modelsCursor string?
param configAgents string?
param gatewayTokenSecretPattern string?
@description('Helper command written into Claude Code and Codex configs; unset: the Azure CLI command; empty string: no helper.')
param gatewayTokenHelper string?
@description('off: Gemini CLI configs turn Gemini\'s folder trust off so ~/.gemini/.env is read in every folder; on: keep it (untrusted folders stop).')
param geminiFolderTrust string?

// ---- usage roll-up ----
param usageSchedule string?
param usageWindowDays string?
param usageMaxAttempts string?
param usageStatementTimeoutSeconds string?
@description('App role (Entra roles claim) whose holders read the usage of every user through GET /api/usage and the dashboard.')
param usageAdminRole string?
param usageMaxDays string?
@description('The AI Gateway usage table the roll-up reads beside telemetry (needs the SELECT grant uc:init prints); empty: not read.')
param aiGatewayUsageTable string?

var suffix = uniqueString(resourceGroup().id, appName)
var functionAppName = '${appName}-${take(suffix, 6)}'
var deploymentContainerName = 'app-package'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${appName}-id'
  location: location
  tags: tags
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  params: {
    name: 'st${suffix}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    name: '${appName}-${take(suffix, 6)}'
    location: location
    tags: tags
  }
}

module vault 'app/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: 'kv${suffix}'
    location: location
    tags: tags
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: vault.outputs.name
    appPrincipalId: identity.properties.principalId
    secretsOfficerPrincipalId: secretsOfficerPrincipalId
  }
}

// Every setting the code reads (shared/settings.ts). Parameters left out (null) are dropped so the code's
// defaults apply; empty strings pass through.
var relaySettings = {
  DATABRICKS_HOST: databricksHost
  OTEL_INGEST_URL: otelIngestUrl
  UC_TABLE_HEADER: ucTableHeader
  UC_CATALOG: ucCatalog
  UC_SCHEMA: ucSchema
  UC_TABLE_PREFIX: ucTablePrefix
  KEY_VAULT_URL: vault.outputs.uri
  AZURE_CLIENT_ID: identity.properties.clientId
  DATABRICKS_AUTH: databricksAuth
  DATABRICKS_TOKEN_SECRET_NAME: databricksTokenSecretName
  DATABRICKS_CLIENT_ID_SECRET_NAME: databricksClientIdSecretName
  DATABRICKS_CLIENT_SECRET_SECRET_NAME: databricksClientSecretSecretName
  DATABRICKS_WAREHOUSE_HTTP_PATH: databricksWarehouseHttpPath
  SECRET_CACHE_TTL_SECONDS: secretCacheTtlSeconds
  SECRET_MAX_STALE_SECONDS: secretMaxStaleSeconds
  KEY_VAULT_TIMEOUT_MS: keyVaultTimeoutMs
  OTLP_MAX_BODY_BYTES: otlpMaxBodyBytes
  OTLP_MAX_ENTRIES: otlpMaxEntries
  UPSTREAM_GZIP: upstreamGzip
  UPSTREAM_TIMEOUT_MS: upstreamTimeoutMs
  UPSTREAM_MAX_SOCKETS: upstreamMaxSockets
  RELAY_MAX_INFLIGHT: relayMaxInflight
  RELAY_MAX_BUFFERED_BYTES: relayMaxBufferedBytes
  RELAY_AUTH: relayAuth
  RELAY_SIGNING_KEY_SECRET_NAME: relaySigningKeySecretName
  RELAY_SIGNING_KEY_PREVIOUS_SECRET_NAME: relaySigningKeyPreviousSecretName
  RELAY_REVOKED_SECRET_NAME: relayRevokedSecretName
  RELAY_CREDENTIAL_TTL_DAYS: relayCredentialTtlDays
  RELAY_SHORT_CREDENTIAL_MINUTES: relayShortCredentialMinutes
  RELAY_SPOOL: relaySpool
  RELAY_SPOOL_MAX_MB: relaySpoolMaxMb
  RELAY_SPOOL_REPLAY_SCHEDULE: relaySpoolReplaySchedule
  PRIVACY_DENIED_RESOURCE_ATTRIBUTES: privacyDeniedResourceAttributes
  PRIVACY_DENIED_LOG_ATTRIBUTES: privacyDeniedLogAttributes
  ENTRA_TENANT_ID: entraTenantId
  ENTRA_AUDIENCE: entraAudience
  ENTRA_ISSUER: entraIssuer
  ENTRA_JWKS_URL: entraJwksUrl
  TRUST_EASY_AUTH: trustEasyAuth
  AI_GATEWAY_URL: aiGatewayUrl
  RELAY_PUBLIC_URL: relayPublicUrl
  AI_GATEWAY_PATH_ANTHROPIC: aiGatewayPathAnthropic
  AI_GATEWAY_PATH_OPENAI: aiGatewayPathOpenai
  AI_GATEWAY_PATH_GEMINI: aiGatewayPathGemini
  AI_GATEWAY_PATH_CURSOR: aiGatewayPathCursor
  MODEL_CLAUDE_CODE: modelClaudeCode
  MODEL_CODEX: modelCodex
  MODEL_GEMINI_CLI: modelGeminiCli
  MODELS_CURSOR: modelsCursor
  CONFIG_AGENTS: configAgents
  GATEWAY_TOKEN_SECRET_PATTERN: gatewayTokenSecretPattern
  GATEWAY_TOKEN_HELPER: gatewayTokenHelper
  GEMINI_FOLDER_TRUST: geminiFolderTrust
  USAGE_SCHEDULE: usageSchedule
  USAGE_WINDOW_DAYS: usageWindowDays
  USAGE_MAX_ATTEMPTS: usageMaxAttempts
  USAGE_STATEMENT_TIMEOUT_SECONDS: usageStatementTimeoutSeconds
  LOG_ACCEPTED_EXPORTS: logAcceptedExports
  READINESS_CACHE_SECONDS: readinessCacheSeconds
  USAGE_ADMIN_ROLE: usageAdminRole
  USAGE_MAX_DAYS: usageMaxDays
  AI_GATEWAY_USAGE_TABLE: aiGatewayUsageTable
}

module api 'app/api.bicep' = {
  name: 'api'
  params: {
    name: functionAppName
    location: location
    tags: tags
    nodeVersion: loadJsonContent('../package.json').azureFunctions.nodeVersion
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    identityId: identity.id
    identityClientId: identity.properties.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    appSettings: toObject(filter(items(relaySettings), setting => setting.value != null), setting => setting.key, setting => setting.value)
  }
  dependsOn: [rbac]
}

output functionAppName string = api.outputs.name
output relayBaseUrl string = api.outputs.baseUrl
output keyVaultName string = vault.outputs.name
output managedIdentityClientId string = identity.properties.clientId
output managedIdentityPrincipalId string = identity.properties.principalId
