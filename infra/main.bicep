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

// ---- Databricks and Unity Catalog ----
@description('Workspace URL, e.g. https://adb-1234567890123456.7.azuredatabricks.net')
param databricksHost string
@description('OTel ingest base; empty: <databricksHost>/api/2.0/otel')
param otelIngestUrl string = ''
param ucTableHeader string = 'X-Databricks-UC-Table-Name'
param ucCatalog string
param ucSchema string
param ucTablePrefix string
@allowed(['pat', 'oauth-m2m'])
param databricksAuth string = 'pat'
param databricksTokenSecretName string = 'databricks-token'
param databricksClientIdSecretName string = 'databricks-client-id'
param databricksClientSecretSecretName string = 'databricks-client-secret'
@description('SQL warehouse HTTP path for the usage roll-up, /sql/1.0/warehouses/<id>; empty: no roll-up.')
param databricksWarehouseHttpPath string = ''

// ---- relay ----
param secretCacheTtlSeconds int = 300
param secretMaxStaleSeconds int = 3600
param keyVaultTimeoutMs int = 3000
param otlpMaxBodyBytes int = 20971520
param otlpMaxEntries int = 1000
param relayMaxBufferedBytes int = 268435456
param upstreamGzip bool = false
param upstreamTimeoutMs int = 5000
param upstreamMaxSockets int = 64
param relayMaxInflight int = 256
@allowed(['credential'])
param relayAuth string = 'credential'
param relaySigningKeySecretName string = 'relay-signing-key'
param relaySigningKeyPreviousSecretName string = 'relay-signing-key-previous'
param relayRevokedSecretName string = 'relay-revoked'
param relayCredentialTtlDays int = 90
param privacyDeniedResourceAttributes string = 'process.command_args,process.command_line'
@description('on-failure: exports the ingest cannot take now are kept in the storage account and replayed; off: none kept.')
@allowed(['on-failure', 'off'])
param relaySpool string = 'on-failure'
@description('Spool size cap in MB; when full, exports are answered 503 with Retry-After.')
param relaySpoolMaxMb int = 1024
@description('NCRONTAB (UTC) of the spool replay timer.')
param relaySpoolReplaySchedule string = '0 * * * * *'
param privacyDeniedLogAttributes string = 'prompt,response,response_text,gen_ai.prompt,gen_ai.completion,gen_ai.input.messages,gen_ai.output.messages,gen_ai.system_instructions'

// ---- user sign-in (agent configs) ----
param entraTenantId string = subscription().tenantId
@description('Audience of user access tokens: the relay API app registration (client id and/or api:// URI, comma-separated).')
param entraAudience string
param entraIssuer string = ''
param entraJwksUrl string = ''
param trustEasyAuth bool = false

// ---- agent configs ----
@description('AI Gateway base URL, https://<ai-gateway-host>')
param aiGatewayUrl string
@description('Public base URL of the relay; empty: https://<default host name>.')
param relayPublicUrl string = ''
param aiGatewayPathAnthropic string = '/anthropic'
param aiGatewayPathOpenai string = '/openai/v1'
param aiGatewayPathGemini string = '/gemini'
param aiGatewayPathCursor string = '/cursor/v1'
param modelClaudeCode string = 'databricks-claude-opus-4-6'
param modelCodex string = 'databricks-gpt-5-2'
param modelGeminiCli string = 'databricks-gemini-2-5-flash'
param modelsCursor string = 'databricks-claude-opus-4-6,databricks-gpt-5-2'
param configAgents string = 'claude-code,codex,gemini-cli,cursor'
param gatewayTokenSecretPattern string = 'gateway-token-{user}'
@description('Helper command written into Claude Code and Codex configs; empty: the default Azure CLI command.')
param gatewayTokenHelper string = ''

// ---- usage roll-up ----
param usageSchedule string = '0 15 0 * * *'
param usageWindowDays int = 3
param usageMaxAttempts int = 5
param usageStatementTimeoutSeconds int = 900

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

// Every setting the code reads (shared/settings.ts); empty values are left out so the code's defaults apply.
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
  SECRET_CACHE_TTL_SECONDS: string(secretCacheTtlSeconds)
  SECRET_MAX_STALE_SECONDS: string(secretMaxStaleSeconds)
  KEY_VAULT_TIMEOUT_MS: string(keyVaultTimeoutMs)
  OTLP_MAX_BODY_BYTES: string(otlpMaxBodyBytes)
  OTLP_MAX_ENTRIES: string(otlpMaxEntries)
  UPSTREAM_GZIP: string(upstreamGzip)
  UPSTREAM_TIMEOUT_MS: string(upstreamTimeoutMs)
  UPSTREAM_MAX_SOCKETS: string(upstreamMaxSockets)
  RELAY_MAX_INFLIGHT: string(relayMaxInflight)
  RELAY_MAX_BUFFERED_BYTES: string(relayMaxBufferedBytes)
  RELAY_AUTH: relayAuth
  RELAY_SIGNING_KEY_SECRET_NAME: relaySigningKeySecretName
  RELAY_SIGNING_KEY_PREVIOUS_SECRET_NAME: relaySigningKeyPreviousSecretName
  RELAY_REVOKED_SECRET_NAME: relayRevokedSecretName
  RELAY_CREDENTIAL_TTL_DAYS: string(relayCredentialTtlDays)
  RELAY_SPOOL: relaySpool
  RELAY_SPOOL_MAX_MB: string(relaySpoolMaxMb)
  RELAY_SPOOL_REPLAY_SCHEDULE: relaySpoolReplaySchedule
  PRIVACY_DENIED_RESOURCE_ATTRIBUTES: privacyDeniedResourceAttributes
  PRIVACY_DENIED_LOG_ATTRIBUTES: privacyDeniedLogAttributes
  ENTRA_TENANT_ID: entraTenantId
  ENTRA_AUDIENCE: entraAudience
  ENTRA_ISSUER: entraIssuer
  ENTRA_JWKS_URL: entraJwksUrl
  TRUST_EASY_AUTH: string(trustEasyAuth)
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
  USAGE_SCHEDULE: usageSchedule
  USAGE_WINDOW_DAYS: string(usageWindowDays)
  USAGE_MAX_ATTEMPTS: string(usageMaxAttempts)
  USAGE_STATEMENT_TIMEOUT_SECONDS: string(usageStatementTimeoutSeconds)
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
    appSettings: toObject(filter(items(relaySettings), setting => !empty(setting.value)), setting => setting.key, setting => setting.value)
  }
  dependsOn: [rbac]
}

output functionAppName string = api.outputs.name
output relayBaseUrl string = api.outputs.baseUrl
output keyVaultName string = vault.outputs.name
output managedIdentityClientId string = identity.properties.clientId
output managedIdentityPrincipalId string = identity.properties.principalId
