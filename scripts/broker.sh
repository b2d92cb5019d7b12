#!/usr/bin/env bash
# Starts (or finds) the local RabbitMQ node aiwf uses, with its data under the project's data folder.
#   scripts/broker.sh start   start the node unless it already runs, and wait until it accepts work
#   scripts/broker.sh stop    stop the node
# Settings: AIWF_DATA_DIR (default ./data), AIWF_BROKER_PORT (default 5672), AIWF_BROKER_NODE (default aiwf@localhost),
# AIWF_BROKER_MANAGEMENT_PORT (the management API and UI on 127.0.0.1, default 15672),
# AIWF_BROKER_TLS_DIR (a folder with ca.pem, server.pem and server.key: the node also takes TLS on port 5671, as the
# tests need; scripts/test-ca.sh makes one).
# If something else already answers on the AMQP port (a system RabbitMQ, say), that broker is used, with the
# consistent-hash exchange plugin (StageService's shards need it) enabled on it where rabbitmq-plugins can reach it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data=$(realpath -m "${AIWF_DATA_DIR:-$root/data}")
port=${AIWF_BROKER_PORT:-5672}
node=${AIWF_BROKER_NODE:-aiwf@localhost}
base="$data/rabbitmq"
# StageService's shards sit behind consistent-hash exchanges; the management API (and UI, on port 15672) is how
# deploy/broker-users.sh makes the services' users.
plugins=rabbitmq_consistent_hash_exchange,rabbitmq_management

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

broker_env() {
    as_root env RABBITMQ_NODENAME="$node" RABBITMQ_NODE_PORT="$port" RABBITMQ_DIST_PORT="$((port + 20000))" \
        RABBITMQ_MNESIA_BASE="$base/mnesia" RABBITMQ_LOG_BASE="$base/log" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins" RABBITMQ_CONFIG_FILE="$base/aiwf.conf" "$@"
}

# The node's settings: a TLS listener when AIWF_BROKER_TLS_DIR names certificates.
write_config() {
    local tls=${AIWF_BROKER_TLS_DIR:-}
    {
        echo "# Written by scripts/broker.sh"
        echo "management.tcp.ip = 127.0.0.1"
        echo "management.tcp.port = ${AIWF_BROKER_MANAGEMENT_PORT:-15672}"
        if [ -n "$tls" ]; then
            tls=$(realpath "$tls")
            echo "listeners.ssl.default = ${AIWF_BROKER_TLS_PORT:-5671}"
            echo "ssl_options.cacertfile = $tls/ca.pem"
            echo "ssl_options.certfile = $tls/server.pem"
            echo "ssl_options.keyfile = $tls/server.key"
            echo "ssl_options.verify = verify_none"
            echo "ssl_options.fail_if_no_peer_cert = false"
        fi
    } | as_root tee "$base/aiwf.conf" >/dev/null
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

case "${1:-start}" in
start)
    if port_open; then
        echo "aiwf: a broker already listens on port $port; using it"
        broker_env rabbitmq-plugins -n "$node" enable --online ${plugins//,/ } >/dev/null 2>&1 ||
            as_root rabbitmq-plugins enable --online ${plugins//,/ } >/dev/null 2>&1 ||
            echo "aiwf: could not enable ${plugins//,/ } on that broker; enable them there" >&2
        exit 0
    fi
    # The node drops to the rabbitmq user, so its folders must belong to that user or it silently fails.
    as_root mkdir -p "$base/mnesia" "$base/log"
    echo "[$plugins]." | as_root tee "$base/enabled_plugins" >/dev/null
    write_config
    as_root chown -R rabbitmq:rabbitmq "$base"
    echo "aiwf: starting RabbitMQ node $node on port $port (data in $base)"
    broker_env rabbitmq-server -detached
    for _ in $(seq 1 60); do
        if broker_env rabbitmqctl -n "$node" await_startup --timeout 5 >/dev/null 2>&1 && port_open; then
            echo "aiwf: RabbitMQ is up"
            exit 0
        fi
        sleep 1
    done
    echo "aiwf: RabbitMQ did not start; see $base/log" >&2
    exit 1
    ;;
stop)
    broker_env rabbitmqctl -n "$node" stop >/dev/null 2>&1 || true
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
