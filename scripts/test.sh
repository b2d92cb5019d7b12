#!/usr/bin/env bash
# Installs what is missing, starts the local RabbitMQ and runs the whole test suite against it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/broker.sh start
swift test "$@"
