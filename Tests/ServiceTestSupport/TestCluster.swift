import Foundation

/// The three-node RabbitMQ cluster `scripts/test.sh` starts with `scripts/cluster.sh`, for the failover suites.
public enum TestCluster {
    /// Its AMQP URL list (comma-separated), or `nil` when no cluster was started and the suites are skipped.
    public static let urls = ProcessInfo.processInfo.environment["AIWF_TEST_CLUSTER_URLS"]

    /// Stops node `number` (1–3) as a crash-free shutdown would.
    public static func stopNode(_ number: Int) async throws -> ProcessOutput {
        try await runProcess(URL(fileURLWithPath: "/bin/bash"), [script, "stop-node", "\(number)"])
    }

    /// Starts node `number` again; it rejoins the cluster.
    public static func startNode(_ number: Int) async throws -> ProcessOutput {
        try await runProcess(URL(fileURLWithPath: "/bin/bash"), [script, "start-node", "\(number)"])
    }

    private static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/cluster.sh").path
}
