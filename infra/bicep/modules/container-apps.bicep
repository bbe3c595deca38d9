// EXPERIMENTAL: FaasEvents on Azure Container Apps. The function app scales with a KEDA `external` custom rule
// pointing at the server. Reports say Container Apps may not call external scalers reliably; AKS is the default.

@description('Azure region.')
param location string

@description('Name prefix.')
param namePrefix string

@description('Blob endpoint of the storage account (FAAS_STORAGE).')
param storageBlobEndpoint string

@description('Blob container.')
param containerName string

@description('Server image.')
param serverImage string

@description('Function app image.')
param appImage string

@description('Server identity resource id.')
param serverIdentityId string

@description('Server identity client id (selects the identity for DefaultAzureCredential).')
param serverIdentityClientId string

@description('Function app identity resource id.')
param appIdentityId string

@description('Function app identity client id.')
param appIdentityClientId string

@description('Target lag per function app replica.')
param lagThreshold int = 1000

@description('Most function app replicas (the trigger stream\'s partition count).')
param maxReplicas int = 8

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${namePrefix}-env'
  location: location
  properties: {}
}

resource server 'Microsoft.App/containerApps@2024-03-01' = {
  name: '${namePrefix}-server'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${serverIdentityId}': {}
    }
  }
  properties: {
    managedEnvironmentId: environment.id
    configuration: {
      ingress: {
        external: false
        targetPort: 6000
        transport: 'http2'
        additionalPortMappings: [
          {
            external: true
            targetPort: 8080
          }
        ]
      }
    }
    template: {
      containers: [
        {
          name: 'server'
          image: serverImage
          env: [
            {
              name: 'FAAS_STORAGE'
              value: storageBlobEndpoint
            }
            {
              name: 'FAAS_CONTAINER'
              value: containerName
            }
            {
              name: 'AZURE_CLIENT_ID'
              value: serverIdentityClientId
            }
          ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 2
      }
    }
  }
}

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: '${namePrefix}-functions'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${appIdentityId}': {}
    }
  }
  properties: {
    managedEnvironmentId: environment.id
    template: {
      containers: [
        {
          name: 'app'
          image: appImage
          env: [
            {
              name: 'FAAS_STORAGE'
              value: storageBlobEndpoint
            }
            {
              name: 'FAAS_CONTAINER'
              value: containerName
            }
            {
              // append notices: idle partitions wake at once, direct appends wake the scaler
              name: 'FAAS_SERVER_URL'
              value: 'http://${server.name}:8080'
            }
            {
              name: 'AZURE_CLIENT_ID'
              value: appIdentityClientId
            }
          ]
        }
      ]
      scale: {
        minReplicas: 0
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'orders-lag'
            custom: {
              type: 'external'
              metadata: {
                scalerAddress: '${server.properties.configuration.ingress.fqdn}:80'
                stream: 'orders'
                consumerGroup: 'order-audit'
                lagThreshold: string(lagThreshold)
              }
            }
          }
        ]
      }
    }
  }
}

@description('Public ingress URL of the server (HTTP port).')
output serverFqdn string = server.properties.configuration.ingress.fqdn
