#!/usr/bin/env bash
# Proves the container image's runtime stage without a container engine: debootstraps the Debian release the
# Containerfile's runtime stage is based on into a folder, installs the same package lists (deploy/*-packages.txt),
# copies in the release binaries built with --static-swift-stdlib, and starts each service inside that folder
# (chroot, the host's network) against the local broker; each must answer /ready. Nothing from the host's /usr is
# visible to them. Needs root, debootstrap and a Debian mirror; the first run downloads Debian (~2 minutes).
#
#   scripts/check-runtime.sh [ROOTFS]        (default .build-static/rootfs; reused when it exists)
set -euo pipefail
cd "$(dirname "$0")/.."
root=${1:-$PWD/.build-static/rootfs}
scratch=$PWD/.build-static
mirror=${AIWF_DEBIAN_MIRROR:-http://deb.debian.org/debian}
services=(TemplateService StageService ProviderGateway ApprovalService Gateway)
if [ "$(id -u)" -ne 0 ]; then
    echo "runtime: not checked: debootstrap, mount and chroot need root (run the tests as root, as CI does)" >&2
    exit 1
fi

if [ ! -x "$root/usr/bin/apt-get" ]; then
    echo "runtime: debootstrapping Debian bookworm (minbase) into $root"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
fi
# A virtual host of its own on the local broker, so these services take no message of anyone else's.
node=${AIWF_BROKER_NODE:-aiwf@localhost}
vhost=aiwf-runtime-check-$$
rabbitmqctl -n "$node" add_vhost "$vhost" >/dev/null
rabbitmqctl -n "$node" set_permissions -p "$vhost" guest ".*" ".*" ".*" >/dev/null
cleanup() {
    for pid in "${pids[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
    umount "$root/proc" 2>/dev/null || true
    rabbitmqctl -n "$node" delete_vhost "$vhost" >/dev/null 2>&1 || true
}
pids=()
trap cleanup EXIT
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
cp /etc/resolv.conf "$root/etc/resolv.conf"
packages=$(grep -hv '^#' deploy/runtime-packages.txt deploy/stage-packages.txt | tr '\n' ' ')
echo "runtime: installing $packages"
chroot "$root" /bin/bash -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages" >/dev/null

echo "runtime: building the release binaries with the static Swift standard library"
for service in "${services[@]}"; do  # one --product a call: swift build keeps only the last
    swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product "$service" >/dev/null
done
bin=$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)
mkdir -p "$root/usr/local/bin" "$root/opt/aiwf"
for service in "${services[@]}"; do cp "$bin/$service" "$root/usr/local/bin/"; done
cp -R "$bin"/*.resources "$root/usr/local/bin/"
rm -rf "$root/opt/aiwf/Workflows" "$root/opt/aiwf/docs"
cp -R Workflows docs providers.yaml "$root/opt/aiwf/"

# No Swift runtime, no librabbitmq or libsqlite from the host: what each binary links must be in the folder.
for service in "${services[@]}"; do
    if chroot "$root" ldd "/usr/local/bin/$service" | grep -q "not found"; then
        chroot "$root" ldd "/usr/local/bin/$service" | grep "not found" >&2
        echo "runtime: $service needs a library the runtime stage does not install" >&2
        exit 1
    fi
done

port=18180
data=/var/lib/aiwf-check
rm -rf "${root:?}$data"
failed=0
for service in "${services[@]}"; do
    port=$((port + 1))
    chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp AIWF_DATA_DIR="$data/$service" \
        AIWF_HTTP_PORT=$port AIWF_AMQP_URL="amqp://guest:guest@127.0.0.1:${AIWF_BROKER_PORT:-5672}/$vhost" \
        AIWF_ADMIN_PASSWORD="a runtime check password" /bin/sh -c "cd /opt/aiwf && exec /usr/local/bin/$service" \
        >"$scratch/runtime-$service.log" 2>&1 &
    pids+=($!)
    ready=no
    for _ in $(seq 1 60); do
        if curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then ready=yes; break; fi
        sleep 0.5
    done
    if [ $ready = yes ]; then
        echo "runtime: $service answers /ready on :$port inside the Debian runtime"
    else
        echo "runtime: $service did not become ready; its log:" >&2
        tail -20 "$scratch/runtime-$service.log" >&2
        failed=1
    fi
done
exit $failed
