output "acr_login_server" {
  description = "Push images here: docker push <acr_login_server>/faasevents-server:<tag>."
  value       = azurerm_container_registry.acr.login_server
}

output "storage_blob_endpoint" {
  description = "FAAS_STORAGE for the workloads (managed identity)."
  value       = azurerm_storage_account.log.primary_blob_endpoint
}

output "aks_name" {
  description = "az aks get-credentials -g <resource group> -n <aks_name>"
  value       = azurerm_kubernetes_cluster.aks.name
}

output "workload_identity_client_ids" {
  description = "Client ids of the server and function app identities."
  value       = { for k, v in azurerm_user_assigned_identity.workload : k => v.client_id }
}
