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

# Everything else in the cluster (service accounts with the identity client ids from the outputs, the storage config
# map, deployments, ScaledObjects) has one owner, the Kustomize overlay:
#   kubectl apply -k infra/k8s/overlays/azure
