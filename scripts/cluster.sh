#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine, for the failover tests (each node its own name, ports and data).
#   scripts/cluster.sh start        start the three nodes unless they run, join them into one cluster, wait for it
#   scripts/cluster.sh stop-node N  stop node N (1–3) as a crash-free shutdown would
#   scripts/cluster.sh start-node N start node N again; it rejoins the cluster it belonged to
#   scripts/cluster.sh stop         stop every node and remove the cluster's data
#   scripts/cluster.sh urls         print the AMQP URL list (comma-separated) the services take
# Nodes: aiwf-c1..3@localhost, AMQP on AIWF_CLUSTER_PORT (default 5701) and the next two ports, Erlang distribution
# on those ports + 20000, data under AIWF_DATA_DIR/cluster (default ./data/cluster).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data=$(realpath -m "${AIWF_DATA_DIR:-$root/data}")/cluster
first_port=${AIWF_CLUSTER_PORT:-5701}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

port_of() { echo $((first_port + $1 - 1)); }
dist_port_of() { echo $(($(port_of "$1") + 20000)); }
name_of() { echo "aiwf-c$1@localhost"; }

node_env() {
    local n=$1
    shift
    local base="$data/node$n"
    as_root env RABBITMQ_NODENAME="$(name_of "$n")" RABBITMQ_NODE_PORT="$(port_of "$n")" \
        RABBITMQ_DIST_PORT="$(dist_port_of "$n")" RABBITMQ_MNESIA_BASE="$base/mnesia" RABBITMQ_LOG_BASE="$base/log" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins" RABBITMQ_CONFIG_FILE="$base/aiwf.conf" "$@"
}

ctl() {
    local n=$1
    shift
    node_env "$n" rabbitmqctl -n "$(name_of "$n")" "$@"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$(port_of "$1")") 2>/dev/null; }

start_node() {
    local n=$1 base="$data/node$1"
    port_open "$n" && return 0
    as_root mkdir -p "$base/mnesia" "$base/log"
    # StageService's shards sit behind consistent-hash exchanges.
    echo "[rabbitmq_consistent_hash_exchange]." | as_root tee "$base/enabled_plugins" >/dev/null
    # A lost connection is noticed within seconds.
    printf 'heartbeat = 10\n' | as_root tee "$base/aiwf.conf" >/dev/null
    # The node drops to the rabbitmq user, so its folders must belong to that user or it silently fails.
    as_root chown -R rabbitmq:rabbitmq "$base"
    # A detached server keeps the caller's output open: a caller reading this script's output to its end would hang.
    node_env "$n" rabbitmq-server -detached >/dev/null 2>&1 </dev/null
}

await_node() {
    local n=$1
    for _ in $(seq 1 90); do
        if ctl "$n" await_startup --timeout 5 >/dev/null 2>&1 && port_open "$n"; then return 0; fi
        sleep 1
    done
    echo "aiwf: cluster node $n did not start; see $data/node$n/log" >&2
    return 1
}

# Stops node N, and kills it when it does not stop when asked (a wedged node may not answer rabbitmqctl).
stop_node() {
    local n=$1 pid
    node_env "$n" timeout 60 rabbitmqctl -n "$(name_of "$n")" stop >/dev/null 2>&1 && return 0
    pid=$(ss -Hltnp "sport = :$(dist_port_of "$n")" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
    [ -n "$pid" ] || return 0
    echo "aiwf: cluster node $n did not stop when asked; killing it (pid $pid)" >&2
    as_root kill -9 "$pid"
}

joined() { ctl 1 cluster_status 2>/dev/null | grep -q "$(name_of "$1")"; }

case "${1:-start}" in
start)
    for n in 1 2 3; do start_node "$n"; done
    for n in 1 2 3; do await_node "$n"; done
    for n in 2 3; do
        joined "$n" && continue
        ctl "$n" stop_app >/dev/null 2>&1
        ctl "$n" join_cluster "$(name_of 1)" >/dev/null 2>&1
        ctl "$n" start_app >/dev/null 2>&1
        await_node "$n"
    done
    echo "aiwf: cluster of $(name_of 1), $(name_of 2), $(name_of 3) is up"
    ;;
stop-node)
    # As a rolling restart would: first wait until every quorum queue keeps its majority without this node. A node
    # stopped seconds after it rejoined, before its queue members caught up, once left a second node unresponsive and
    # the queues without a majority for minutes.
    node_env "${2:?which node}" rabbitmq-upgrade -n "$(name_of "$2")" --timeout 60 await_online_quorum_plus_one >/dev/null 2>&1 ||
        echo "aiwf: cluster node $2: some quorum queue would lose its majority without it; stopping it anyway" >&2
    stop_node "$2"
    ;;
start-node)
    start_node "${2:?which node}"
    await_node "$2"
    ;;
stop)
    for n in 1 2 3; do stop_node "$n"; done
    as_root rm -rf "$data"
    ;;
urls)
    echo "amqp://guest:guest@127.0.0.1:$(port_of 1),amqp://guest:guest@127.0.0.1:$(port_of 2),amqp://guest:guest@127.0.0.1:$(port_of 3)"
    ;;
*)
    echo "usage: $0 start|stop-node N|start-node N|stop|urls" >&2
    exit 2
    ;;
esac
