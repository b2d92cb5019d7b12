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
    # beside them), then the global rate-limit test alone, as it measures timing across three processes, then the
    # cluster failover suites beside the container runtime check.
    timed() {
        local name=$1 start=$SECONDS
        shift
        "$@"
        echo "aiwf: $name took $((SECONDS - start)) s"
    }
    timed "the deployment files' checks" scripts/check-deploy.sh
    # A three-node RabbitMQ cluster of the tests' own (about 35 s to start), started while the tests are built.
    mkdir -p data
    scripts/cluster.sh start >data/cluster-start.log 2>&1 &
    cluster_start=$!
    timed "the build" swift build --build-tests
    cluster_up=0
    wait $cluster_start && cluster_up=1
    timed "the suite" swift test --skip GlobalLimitTests --skip DeliverablesTests --skip EndToEndTests --skip ClusterFailoverTests
    timed "the end-to-end and deliverables suites" swift test --filter "EndToEndTests|DeliverablesTests"
    timed "the global-limit suite" swift test --filter GlobalLimitTests
    # Each cluster suite stops the cluster's first node in the middle of its work (and starts it again), so they
    # run one after the other, beside the container runtime check (a release build and a debootstrapped Debian).
    cluster_suites() {
        local status=0 urls
        [ $cluster_up = 1 ] || {
            cat data/cluster-start.log >&2
            return 1
        }
        urls=$(scripts/cluster.sh urls)
        AIWF_TEST_CLUSTER_URLS=$urls swift test --skip-build --filter GatewayTests.ClusterFailoverTests || status=$?
        AIWF_TEST_CLUSTER_URLS=$urls swift test --skip-build --filter PacerClusterFailoverTests || status=$?
        scripts/cluster.sh stop
        return $status
    }
    timed "the cluster failover suites" cluster_suites &
    cluster_run=$!
    # The container image's runtime stage, proven in a debootstrapped Debian (a release build of its own, cached in
    # .build-static, and a Debian download the first time).
    runtime_status=0 cluster_status=0
    timed "the container runtime check" scripts/check-runtime.sh || runtime_status=$?
    wait $cluster_run || cluster_status=$?
    if [ $runtime_status -ne 0 ] || [ $cluster_status -ne 0 ]; then exit 1; fi
fi
