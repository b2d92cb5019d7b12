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

logs="$AIWF_DATA_DIR/logs"
mkdir -p "$logs"

# One readable line per event that matters; every service's JSON log goes whole to its file under data/logs.
summarise() {
    local service=$1 line level message project detail
    local level_field='"level":"([a-z]+)"' message_field='"message":"(([^"\\]|\\.)*)"'
    local project_field='"project":"([^"]*)"' detail_field='"detail":"(([^"\\]|\\.)*)"'
    while IFS= read -r line; do
        printf '%s\n' "$line" >>"$logs/$service.log"
        if [[ $line != "{"* ]]; then
            printf '%s\n' "$line"  # already for people (the first admin's password)
            continue
        fi
        [[ $line =~ $level_field ]] && level=${BASH_REMATCH[1]} || level=info
        [[ $line =~ $message_field ]] && message=${BASH_REMATCH[1]//\\\"/\"} || message=""
        case "$level:$message" in
        info:"topology declared; ready") printf 'aiwf: %-16s ready\n' "$service" ;;
        info:stopped) printf 'aiwf: %-16s stopped\n' "$service" ;;
        info:"project done" | warning:"project failed")
            [[ $line =~ $project_field ]] && project=${BASH_REMATCH[1]} || project=""
            [[ $line =~ $detail_field ]] && detail=${BASH_REMATCH[1]//\\\"/\"} || detail=""
            printf 'aiwf: project %s %s: %s\n' "$project" "${message#project }" "$detail" ;;
        error:* | critical:*) printf 'aiwf: %-16s %s: %s (details in %s)\n' "$service" "$level" "$message" "$logs/$service.log" ;;
        esac
    done
}

for service in "${services[@]}"; do
    "$bin/$service" > >(summarise "$service") 2>&1 &
    pids+=($!)
    printf 'aiwf: %-16s started\n' "$service"
done

# The last line is where to go and how to sign in.
for _ in $(seq 1 120); do
    if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null && curl -fsS http://127.0.0.1:8080/ready >/dev/null 2>&1; then break; fi
    sleep 0.5
done
echo "aiwf: logs in $logs; the services answer /health, /ready and /metrics on 8080-8084. Ctrl-C stops everything."
echo "aiwf: documentation at http://localhost:8080/docs, the API at http://localhost:8080/api/docs."
echo "aiwf: open the portal at http://localhost:8080/portal and sign in with the first admin's address and password shown above (or AIWF_ADMIN_EMAIL/AIWF_ADMIN_PASSWORD)."
wait -n "${pids[@]}" || true
echo "aiwf: a service exited; stopping the others (see $logs)" >&2
stop
