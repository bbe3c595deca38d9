# KEDA from its Helm chart, only when the AKS add-on is not used.
resource "helm_release" "keda" {
  count            = var.use_keda_addon ? 0 : 1
  name             = "keda"
  repository       = "https://kedacore.github.io/charts"
  chart            = "keda"
  version          = var.keda_chart_version
  namespace        = "keda"
  create_namespace = true
}

resource "kubernetes_namespace" "faas" {
  metadata {
    name = var.kubernetes_namespace
  }
}

# The service accounts carry the workload identity client ids; the rest of infra/k8s is applied with
#   kubectl apply -k infra/k8s/overlays/azure
resource "kubernetes_service_account" "workload" {
  for_each = local.workloads
  metadata {
    name      = each.value
    namespace = kubernetes_namespace.faas.metadata[0].name
    annotations = {
      "azure.workload.identity/client-id" = azurerm_user_assigned_identity.workload[each.key].client_id
    }
  }
}

resource "kubernetes_config_map" "storage" {
  metadata {
    name      = "faas-storage"
    namespace = kubernetes_namespace.faas.metadata[0].name
  }
  data = {
    FAAS_STORAGE = azurerm_storage_account.log.primary_blob_endpoint
  }
}
