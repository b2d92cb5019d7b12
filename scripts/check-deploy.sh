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
# The production overlay as `kubectl apply -k` would send it (with the example secrets), where kubectl is installed.
if command -v kubectl >/dev/null; then
    rendered=$(mktemp -d)
    trap 'rm -rf "$rendered"' EXIT
    cp -r deploy/k8s "$rendered/"
    cp "$rendered/k8s/overlays/production/secrets.env.example" "$rendered/k8s/overlays/production/secrets.env"
    kubectl kustomize "$rendered/k8s/overlays/production" >"$rendered/production.yaml"
    kubernetes-validate --strict --quiet -k "$kubernetes_version" "$rendered/production.yaml"
    echo "deploy: the production overlay renders ($(grep -c '^kind:' "$rendered/production.yaml") objects), all valid"
else
    echo "deploy: kubectl is not installed, so the production overlay was not rendered"
fi

# The Grafana dashboard: valid JSON, and every metric it queries is one the services define.
python3 - <<'PY'
import json, pathlib, re, sys
dashboard = json.loads(pathlib.Path("deploy/grafana-dashboard.json").read_text())
sources = "\n".join(p.read_text() for p in pathlib.Path("Sources").rglob("*.swift"))
defined = set(re.findall(r'label: "(aiwf_[a-z_]+)"', sources))
unknown = []
for panel in dashboard["panels"]:
    for target in panel["targets"]:
        for name in re.findall(r"aiwf_[a-z_]+", target["expr"]):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            if base not in defined:
                unknown.append(f"{panel['title']}: {name}")
if unknown:
    sys.exit("deploy: the dashboard queries metrics no service defines: " + "; ".join(unknown))
print(f"deploy: the Grafana dashboard's {len(dashboard['panels'])} panels query only metrics the services define")
PY
