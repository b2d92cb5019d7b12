#!/usr/bin/env bash
# Installs what is missing, starts the local RabbitMQ (and a PostgreSQL server) and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --tests
# The broker also listens for TLS (port 5671) with a certificate from a test CA, for the amqps:// tests.
scripts/test-ca.sh data/tls
export AIWF_TEST_TLS_DIR=${AIWF_TEST_TLS_DIR:-$(realpath data/tls)}
AIWF_BROKER_TLS_DIR=$AIWF_TEST_TLS_DIR scripts/broker.sh start
# The Gateway's shared account store is tested against a real PostgreSQL server of the tests' own.
scripts/postgres.sh start
export AIWF_TEST_POSTGRES_URL=${AIWF_TEST_POSTGRES_URL:-$(scripts/postgres.sh url)}
if [ $# -gt 0 ]; then
    swift test "$@"
else
    # The heavy suites run after the rest, each timed: the end-to-end suites and the deliverables together (their
    # services, Java, weasyprint and ffmpeg fill both cores and would stretch the timing bounds of the light tests
    # beside them), then the global rate-limit test alone, as it measures timing across three processes.
    timed() {
        local name=$1 start=$SECONDS
        shift
        "$@"
        echo "aiwf: $name took $((SECONDS - start)) s"
    }
    timed "the deployment files' checks" scripts/check-deploy.sh
    # A three-node RabbitMQ cluster of the tests' own: the suite stops its first node in the middle of its work.
    cluster_suites() {
        local status=0 urls
        scripts/cluster.sh start
        urls=$(scripts/cluster.sh urls)
        AIWF_TEST_CLUSTER_URLS=$urls swift test --filter GatewayTests.ClusterFailoverTests || status=$?
        scripts/cluster.sh stop
        return $status
    }
    timed "the suite" swift test --skip GlobalLimitTests --skip DeliverablesTests --skip EndToEndTests --skip ClusterFailoverTests
    timed "the end-to-end and deliverables suites" swift test --filter "EndToEndTests|DeliverablesTests"
    timed "the global-limit suite" swift test --filter GlobalLimitTests
    # Not yet part of every run (see docs/operations.md): AIWF_TEST_CLUSTER=1 runs it.
    if [ "${AIWF_TEST_CLUSTER:-0}" = 1 ]; then timed "the cluster failover suite" cluster_suites; fi
    # The container image's runtime stage, proven in a debootstrapped Debian (a release build of its own, cached in
    # .build-static, and a Debian download the first time).
    timed "the container runtime check" scripts/check-runtime.sh
fi
