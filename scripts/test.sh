#!/usr/bin/env bash
# Installs what is missing, starts the local RabbitMQ and runs the whole test suite against it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --tests
scripts/broker.sh start
if [ $# -gt 0 ]; then
    swift test "$@"
else
    # The global rate-limit test measures timing across three processes: it runs alone, after the rest, so the
    # other suites' load does not skew what it measures.
    swift test --skip GlobalLimitTests
    swift test --filter GlobalLimitTests
fi
