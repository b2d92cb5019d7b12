#!/usr/bin/env bash
# Installs what is missing, starts the local RabbitMQ and runs the whole test suite against it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --tests
scripts/broker.sh start
if [ $# -gt 0 ]; then
    swift test "$@"
else
    # Two heavy suites run on their own after the rest, each timed: the deliverables (their builders and validators
    # are Java, weasyprint and ffmpeg, which fill both cores and would stretch the timing bounds of tests beside
    # them) and the global rate-limit test, which measures timing across three processes.
    timed() {
        local name=$1 start=$SECONDS
        shift
        "$@"
        echo "aiwf: $name took $((SECONDS - start)) s"
    }
    timed "the suite" swift test --skip GlobalLimitTests --skip DeliverablesTests
    timed "the deliverables suite" swift test --filter DeliverablesTests
    timed "the global-limit suite" swift test --filter GlobalLimitTests
fi
