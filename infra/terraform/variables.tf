variable "resource_group_name" {
  description = "Resource group to create."
  type        = string
  default     = "faasevents"
}

variable "location" {
  description = "Azure region."
  type        = string
  default     = "westeurope"
}

variable "name_prefix" {
  description = "Prefix for resource names (3-11 lower-case letters and digits)."
  type        = string
  default     = "faas"
  validation {
    condition     = can(regex("^[a-z0-9]{3,11}$", var.name_prefix))
    error_message = "name_prefix must be 3-11 lower-case letters and digits."
  }
}

variable "node_vm_size" {
  description = "VM size of the AKS system node pool."
  type        = string
  default     = "Standard_D4ds_v5"
}

variable "node_count" {
  description = "Nodes in the AKS system node pool."
  type        = number
  default     = 2
}

variable "container_name" {
  description = "Blob container that holds streams and consumer groups."
  type        = string
  default     = "faas"
}

variable "kubernetes_namespace" {
  description = "Namespace of the FaasEvents workloads (must match infra/k8s)."
  type        = string
  default     = "faas"
}

variable "use_keda_addon" {
  description = "Use AKS's managed KEDA add-on; false installs the KEDA Helm chart instead."
  type        = bool
  default     = true
}

variable "keda_chart_version" {
  description = "KEDA Helm chart version, when the add-on is not used."
  type        = string
  default     = "2.17.2"
}

variable "stream_owners" {
  description = "Single writer in Azure (docs/contracts.md): who owns which streams, one entry per identity; principal_id is a managed identity's object id, or \"app\" for this configuration's function-app identity. External owners get a blob role that writes only under streams/{stream}/ of their streams; the function apps' role refuses writes to streams owned by others (ABAC conditions)."
  type = list(object({
    principal_id = string
    streams      = list(string)
  }))
  default = []
}
