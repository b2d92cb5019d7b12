#!/usr/bin/env bash
# Installs what is missing, starts the local RabbitMQ, builds aiwf (release) and runs all five services in the
# foreground. Ctrl-C stops the services (each finishes its in-flight work) and then the broker.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
export AIWF_DATA_DIR=${AIWF_DATA_DIR:-$PWD/data}
started_broker=no
if ! (exec 3<>"/dev/tcp/127.0.0.1/${AIWF_BROKER_PORT:-5672}") 2>/dev/null; then started_broker=yes; fi
scripts/broker.sh start

echo "aiwf: building (release; the first build takes a few minutes)"
swift build -c release
bin=$(swift build -c release --show-bin-path)

services=(TemplateService StageService ProviderGateway ApprovalService Gateway)
pids=()
stop() {
    trap - INT TERM
    echo
    echo "aiwf: stopping services"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait "${pids[@]}" 2>/dev/null || true
    if [ "$started_broker" = yes ]; then
        echo "aiwf: stopping RabbitMQ"
        scripts/broker.sh stop
    fi
    exit 0
}
trap stop INT TERM

for service in "${services[@]}"; do
    "$bin/$service" &
    pids+=($!)
done
echo "aiwf: running. Gateway on http://localhost:8080 and the services on 8081-8084 (/health, /ready, /metrics). Ctrl-C stops everything."
wait -n "${pids[@]}" || true
echo "aiwf: a service exited; stopping the others" >&2
stop
