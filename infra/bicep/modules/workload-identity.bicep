// A user-assigned identity federated with one Kubernetes service account (AKS workload identity).

@description('Identity name.')
param name string

@description('Azure region.')
param location string

@description('The cluster\'s OIDC issuer URL.')
param oidcIssuerUrl string

@description('system:serviceaccount:<namespace>:<name>')
param serviceAccountSubject string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
}

resource federation 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: identity
  name: 'kubernetes'
  properties: {
    issuer: oidcIssuerUrl
    subject: serviceAccountSubject
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}

@description('Resource id.')
output id string = identity.id

@description('Client id (for the service account annotation).')
output clientId string = identity.properties.clientId

@description('Principal id (for role assignments).')
output principalId string = identity.properties.principalId
