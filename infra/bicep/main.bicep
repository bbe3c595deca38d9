// FaasEvents on Azure: AKS with the KEDA add-on and workload identity, a storage account for the event log
// (no shared-key access: apps use managed identities), a container registry, and the identities and role
// assignments that tie them together. Then apply the Kubernetes manifests (docs/deployment.md):
//   kubectl apply -k infra/k8s/overlays/azure

targetScope = 'resourceGroup'

@description('Azure region. Defaults to the resource group\'s.')
param location string = resourceGroup().location

@description('Prefix for resource names (3-11 lower-case letters and digits).')
@minLength(3)
@maxLength(11)
param namePrefix string = 'faas'

@description('VM size of the AKS system node pool.')
param nodeVmSize string = 'Standard_D4ds_v5'

@description('Nodes in the AKS system node pool.')
@minValue(1)
@maxValue(20)
param nodeCount int = 2

@description('Blob container that holds streams and consumer groups.')
param containerName string = 'faas'

@description('Kubernetes namespace of the FaasEvents workloads (must match infra/k8s).')
param kubernetesNamespace string = 'faas'

@description('Also deploy the experimental Azure Container Apps variant (see docs/deployment.md).')
param deployContainerApps bool = false

@description('Server image for the Container Apps variant, e.g. myregistry.azurecr.io/faasevents-server:1.0.0.')
param serverImage string = ''

@description('Function app image for the Container Apps variant.')
param appImage string = ''

@description('Single writer in Azure (docs/contracts.md): who owns which streams, as [{ principalId: \'<object id of a managed identity>\' or \'app\' (this template\'s function-app identity), streams: [\'orders\'] }], one entry per identity. Each external owner gets a blob role that writes only under streams/{stream}/ of its streams; the function apps\' role is conditioned to refuse writes to streams owned by others. The rule then holds even for a client that skips the check; the server keeps unconditioned access (it enforces the rule for ingress callers itself).')
param streamOwners array = []

var suffix = uniqueString(resourceGroup().id)
var storageBlobDataContributor = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'ba92f5b4-2d11-453d-a403-e96b0029c9fe')
var acrPull = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '7f951dda-4ed3-4680-a7ca-43fe172d538d')

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: '${namePrefix}acr${suffix}'
  location: location
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: false
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: take('${namePrefix}st${suffix}', 24)
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_ZRS'
  }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
  }
}

resource aks 'Microsoft.ContainerService/managedClusters@2024-05-01' = {
  name: '${namePrefix}-aks-${suffix}'
  location: location
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    dnsPrefix: '${namePrefix}-${suffix}'
    agentPoolProfiles: [
      {
        name: 'system'
        mode: 'System'
        count: nodeCount
        vmSize: nodeVmSize
        osType: 'Linux'
      }
    ]
    oidcIssuerProfile: {
      enabled: true
    }
    securityProfile: {
      workloadIdentity: {
        enabled: true
      }
    }
    workloadAutoScalerProfile: {
      keda: {
        enabled: true
      }
    }
  }
}

// One identity per workload, federated with its Kubernetes service account (workload identity).
module serverIdentity 'modules/workload-identity.bicep' = {
  name: 'server-identity'
  params: {
    name: '${namePrefix}-server-${suffix}'
    location: location
    oidcIssuerUrl: aks.properties.oidcIssuerProfile.issuerURL
    serviceAccountSubject: 'system:serviceaccount:${kubernetesNamespace}:faas-server'
  }
}

module appIdentity 'modules/workload-identity.bicep' = {
  name: 'app-identity'
  params: {
    name: '${namePrefix}-app-${suffix}'
    location: location
    oidcIssuerUrl: aks.properties.oidcIssuerProfile.issuerURL
    serviceAccountSubject: 'system:serviceaccount:${kubernetesNamespace}:faas-samples'
  }
}

resource serverBlobRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, '${namePrefix}-server', storageBlobDataContributor)
  properties: {
    roleDefinitionId: storageBlobDataContributor
    principalId: serverIdentity.outputs.principalId
    principalType: 'ServicePrincipal'
  }
}

// Streams owned by someone else than the apps' identity: the apps may read them, not write them (create, append).
var blobPath = '@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]'
var writeActions = '!(ActionMatches{\'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write\'}) AND !(ActionMatches{\'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action\'})'
var foreignStreams = flatten(map(filter(streamOwners, o => o.principalId != 'app'), o => o.streams))
var notOwnedPaths = join(map(foreignStreams, stream => '${blobPath} StringNotStartsWith \'streams/${stream}/\''), ' AND ')
var appWriteCondition = '((${writeActions}) OR (${notOwnedPaths}))'

// Each external owner writes its own streams' segments and nothing else.
resource ownerBlobRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for owner in filter(streamOwners, o => o.principalId != 'app'): {
  scope: storage
  name: guid(storage.id, owner.principalId, storageBlobDataContributor, 'stream-owner')
  properties: {
    roleDefinitionId: storageBlobDataContributor
    principalId: owner.principalId
    principalType: 'ServicePrincipal'
    description: 'Single writer of ${join(owner.streams, ', ')} (FaasEvents)'
    conditionVersion: '2.0'
    condition: '((${writeActions}) OR (${join(map(owner.streams, stream => '${blobPath} StringStartsWith \'streams/${stream}/\''), ' OR ')}))'
  }
}]

resource appBlobRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, '${namePrefix}-app', storageBlobDataContributor)
  properties: {
    roleDefinitionId: storageBlobDataContributor
    principalId: appIdentity.outputs.principalId
    principalType: 'ServicePrincipal'
    condition: empty(foreignStreams) ? null : appWriteCondition
    conditionVersion: empty(foreignStreams) ? null : '2.0'
  }
}

resource kubeletAcrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: registry
  name: guid(registry.id, aks.id, acrPull)
  properties: {
    roleDefinitionId: acrPull
    principalId: aks.properties.identityProfile.kubeletidentity.objectId
    principalType: 'ServicePrincipal'
  }
}

module containerApps 'modules/container-apps.bicep' = if (deployContainerApps) {
  name: 'container-apps'
  params: {
    location: location
    namePrefix: namePrefix
    storageBlobEndpoint: storage.properties.primaryEndpoints.blob
    containerName: containerName
    serverImage: serverImage
    appImage: appImage
    serverIdentityId: serverIdentity.outputs.id
    serverIdentityClientId: serverIdentity.outputs.clientId
    appIdentityId: appIdentity.outputs.id
    appIdentityClientId: appIdentity.outputs.clientId
  }
}

@description('Push images here: docker push <acrLoginServer>/faasevents-server:<tag>.')
output acrLoginServer string = registry.properties.loginServer

@description('FAAS_STORAGE for the workloads (authenticated by managed identity).')
output storageBlobEndpoint string = storage.properties.primaryEndpoints.blob

@description('AKS cluster name: az aks get-credentials -g <rg> -n <aksName>.')
output aksName string = aks.name

@description('Client id for the faas-server service account annotation.')
output serverIdentityClientId string = serverIdentity.outputs.clientId

@description('Client id for the function app service account annotation.')
output appIdentityClientId string = appIdentity.outputs.clientId
