// Storage for the Functions host (AzureWebJobsStorage: timer leases), the deployment package and the
// relay's spool (exports the ingest could not take yet, and dead letters: shared/spool/), reached
// with the app's identity only: shared keys and public blob access are off.
param name string
param location string
param tags object
param deploymentContainerName string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    publicNetworkAccess: 'Enabled'
  }

  resource blobServices 'blobServices' = {
    name: 'default'
    resource container 'containers' = {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }
    resource spool 'containers' = {
      name: 'relay-spool'
      properties: {
        publicAccess: 'None'
      }
    }
    resource spoolDeadLetters 'containers' = {
      name: 'relay-spool-dead-letter'
      properties: {
        publicAccess: 'None'
      }
    }
  }
}

output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
