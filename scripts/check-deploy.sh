#!/usr/bin/env bash
# Checks the deployment files without a container engine or a cluster: the Containerfile with hadolint, the
# compose file against the Compose specification (check-jsonschema's built-in schema), and every Kubernetes
# manifest with kubernetes-validate (strict) for the Kubernetes version the manifests are written for.
set -euo pipefail
cd "$(dirname "$0")/.."
kubernetes_version=1.34.0

hadolint deploy/Containerfile
echo "deploy: Containerfile passes hadolint"
check-jsonschema --builtin-schema vendor.compose-spec deploy/compose.yaml
manifests=()
for file in deploy/k8s/base/*.yaml; do
    [ "$(basename "$file")" = kustomization.yaml ] || manifests+=("$file")
done
kubernetes-validate --strict --quiet -k "$kubernetes_version" "${manifests[@]}"
echo "deploy: ${#manifests[@]} Kubernetes manifests valid for $kubernetes_version"
