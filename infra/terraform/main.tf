locals {
  suffix         = substr(sha1(azurerm_resource_group.rg.id), 0, 8)
  blob_data_role = "Storage Blob Data Contributor"
  workloads = {
    server = "faas-server"
    app    = "faas-samples"
  }

  # Single writer (ABAC): writes are Put Blob / Append Block; reads and deletes are not restricted here.
  blob_path        = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]"
  write_actions    = "!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'}) AND !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'})"
  external_owners  = { for o in var.stream_owners : o.principal_id => o.streams if o.principal_id != "app" }
  foreign_streams  = flatten(values(local.external_owners))
  app_write_filter = length(local.foreign_streams) == 0 ? null : "((${local.write_actions}) OR (${join(" AND ", [for s in local.foreign_streams : "${local.blob_path} StringNotStartsWith 'streams/${s}/'"])}))"
}

resource "azurerm_resource_group" "rg" {
  name     = var.resource_group_name
  location = var.location
}

resource "azurerm_container_registry" "acr" {
  name                = "${var.name_prefix}acr${local.suffix}"
  resource_group_name = azurerm_resource_group.rg.name
  location            = azurerm_resource_group.rg.location
  sku                 = "Basic"
  admin_enabled       = false
}

resource "azurerm_storage_account" "log" {
  name                            = substr("${var.name_prefix}st${local.suffix}", 0, 24)
  resource_group_name             = azurerm_resource_group.rg.name
  location                        = azurerm_resource_group.rg.location
  account_kind                    = "StorageV2"
  account_tier                    = "Standard"
  account_replication_type        = "ZRS"
  shared_access_key_enabled       = false
  allow_nested_items_to_be_public = false
  min_tls_version                 = "TLS1_2"
  https_traffic_only_enabled      = true
  default_to_oauth_authentication = true
}

resource "azurerm_storage_container" "log" {
  name                  = var.container_name
  storage_account_id    = azurerm_storage_account.log.id
  container_access_type = "private"
}

resource "azurerm_kubernetes_cluster" "aks" {
  name                      = "${var.name_prefix}-aks-${local.suffix}"
  resource_group_name       = azurerm_resource_group.rg.name
  location                  = azurerm_resource_group.rg.location
  dns_prefix                = "${var.name_prefix}-${local.suffix}"
  oidc_issuer_enabled       = true
  workload_identity_enabled = true

  default_node_pool {
    name       = "system"
    node_count = var.node_count
    vm_size    = var.node_vm_size
  }

  identity {
    type = "SystemAssigned"
  }

  workload_autoscaler_profile {
    keda_enabled = var.use_keda_addon
  }
}

resource "azurerm_role_assignment" "kubelet_acr_pull" {
  scope                = azurerm_container_registry.acr.id
  role_definition_name = "AcrPull"
  principal_id         = azurerm_kubernetes_cluster.aks.kubelet_identity[0].object_id
}

# One identity per workload, federated with its Kubernetes service account, allowed to read and write blobs.
resource "azurerm_user_assigned_identity" "workload" {
  for_each            = local.workloads
  name                = "${var.name_prefix}-${each.key}-${local.suffix}"
  resource_group_name = azurerm_resource_group.rg.name
  location            = azurerm_resource_group.rg.location
}

resource "azurerm_federated_identity_credential" "workload" {
  for_each            = local.workloads
  name                = "kubernetes"
  resource_group_name = azurerm_resource_group.rg.name
  parent_id           = azurerm_user_assigned_identity.workload[each.key].id
  issuer              = azurerm_kubernetes_cluster.aks.oidc_issuer_url
  subject             = "system:serviceaccount:${var.kubernetes_namespace}:${each.value}"
  audience            = ["api://AzureADTokenExchange"]
}

resource "azurerm_role_assignment" "blob_data" {
  for_each             = local.workloads
  scope                = azurerm_storage_account.log.id
  role_definition_name = local.blob_data_role
  principal_id         = azurerm_user_assigned_identity.workload[each.key].principal_id
  # The function apps may not write streams owned by other identities; the server enforces the rule for ingress callers.
  condition         = each.key == "app" ? local.app_write_filter : null
  condition_version = each.key == "app" && local.app_write_filter != null ? "2.0" : null
}

# Each external owner writes its own streams' segments and nothing else.
resource "azurerm_role_assignment" "stream_owner" {
  for_each             = local.external_owners
  scope                = azurerm_storage_account.log.id
  role_definition_name = local.blob_data_role
  principal_id         = each.key
  description          = "Single writer of ${join(", ", each.value)} (FaasEvents)"
  condition_version    = "2.0"
  condition            = "((${local.write_actions}) OR (${join(" OR ", [for s in each.value : "${local.blob_path} StringStartsWith 'streams/${s}/'"])}))"
}
