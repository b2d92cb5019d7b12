import AMQPClient
import Contracts
import FakeProvider
import Foundation
import Logging
import RuntimeSupport
import ServiceStorage
import Testing

@testable import Messaging
@testable import ProviderGateway

/// Three real ProviderGateway processes share one provider's limits through the broker alone.
@Suite("Global provider limits across replicas", .timeLimit(.minutes(4)))
struct GlobalLimitTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The ProviderGateway binary `swift test` built beside the test bundle.
    static func binary() throws -> URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "ProviderGateway")
        for candidate in [besideTests, root.appendingPathComponent(".build/debug/ProviderGateway")]
        where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
        throw ProvidersConfigurationError("no ProviderGateway binary; run `swift build` first")
    }

    @Test func threeReplicasKeepTheLimitLoseNothingAndSurviveAKill() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        await fake.limit(perSecond: 10)
        let provider = "fake\(UUID().uuidString.prefix(6).lowercased())"
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("limits-\(provider)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { if ProcessInfo.processInfo.environment["AIWF_TEST_KEEP"] == nil { try? FileManager.default.removeItem(at: folder) } }
        let yaml = """
            default_provider: local
            providers:
              local:
                kind: local
                models: {local-writer: {input_per_million: 0, output_per_million: 0}}
              \(provider):
                kind: openai_compatible
                base_url: \(fake.baseURL)/v1
                models: {m: {input_per_million: 1, output_per_million: 1}}
                limits: {requests_per_minute: 600, max_concurrency: 4, burst: 1}
                retry: {max_attempts: 5, initial_backoff_ms: 100, max_backoff_ms: 2000}
            """
        let providersFile = folder.appendingPathComponent("providers.yaml")
        try yaml.write(to: providersFile, atomically: true, encoding: .utf8)
        let configuration = try ProvidersConfiguration.parse(yaml: yaml, environment: [:])

        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let url = try AMQPURL(ProcessInfo.processInfo.environment["AIWF_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/")
        let client = AMQPBus(url: url, serviceName: "test.limits", logger: logger)
        defer { Task { await client.close() } }
        let topology = ProviderGateway(
            configuration: configuration, database: try ServiceDatabase.inMemory(migrations: AnswerLedger.migrate), bus: client,
            logger: logger
        )
        .topology
        let results = "test.limits.results.\(provider)"
        try await client.declare(
            Topology.standardExchanges + topology
                + Topology(
                    queues: [QueueSpec(name: results)],
                    bindings: [BindingSpec(queue: results, exchange: Exchange.events, routingKey: "provider.#")]))

        let replicas = try (0..<3).map { index in try startReplica(index, folder: folder, providers: providersFile, url: url) }
        defer {
            for replica in replicas where replica.isRunning { kill(replica.processIdentifier, SIGKILL) }
        }

        let total = Int(ProcessInfo.processInfo.environment["AIWF_TEST_LIMIT_TOTAL"] ?? "600") ?? 600
        let commands = try (0..<total).map { index in
            try OutgoingMessage.command(
                GenerateContent(requestID: "\(provider)-\(index)", provider: provider, user: "Request \(index)"), context: MessageContext())
        }
        try await client.publish(commands)

        var generated: Set<String> = []
        var failed: [String] = []
        var killed = false
        let subscription = try await client.consumer.consume(queue: results, prefetch: 100)
        let deadline = ContinuousClock.now + .seconds(150)
        let watchdog = Task {
            try await Task.sleep(for: .seconds(150))
            await subscription.close()
        }
        defer { watchdog.cancel() }
        for try await delivery in subscription.deliveries {
            client.consumer.ack(delivery)
            let message = try IncomingMessage(
                body: delivery.body, queue: results, routingKey: delivery.routingKey, redelivered: false, replyTo: nil)
            if message.header.type == ContentGenerated.type, let event = try? message.decode(ContentGenerated.self).payload,
                event.requestID.hasPrefix(provider)
            {
                generated.insert(event.requestID)
            } else if message.header.type == GenerationFailed.type, let event = try? message.decode(GenerationFailed.self).payload,
                event.requestID.hasPrefix(provider)
            {
                failed.append("\(event.requestID): \(event.message)")
            }
            if !killed, generated.count >= total / 3 {
                kill(replicas[0].processIdentifier, SIGKILL)
                killed = true
            }
            if generated.count + failed.count >= total || ContinuousClock.now > deadline { break }
        }
        await subscription.close()

        #expect(failed.isEmpty, "\(failed.prefix(3))")
        #expect(generated.count == total, "every request was answered, even those the killed replica held")
        let times = await fake.requests.map(\.at).sorted()
        var busiest = 0
        var start = 0
        for end in times.indices {
            while times[end] - times[start] >= .seconds(1) { start += 1 }
            busiest = max(busiest, end - start + 1)
        }
        #expect(busiest <= 10, "never more than the limit in any 1-second window, start-up included; saw \(busiest)")
        #expect(await fake.rejectedByLimit == 0, "no 429 caused by us")
        let seconds =
            Double((times.last! - times.first!).components.seconds) + Double((times.last! - times.first!).components.attoseconds) / 1e18
        let rate = Double(times.count - 1) / seconds
        #expect(rate >= 9.0, "achieved \(rate) requests/s of a limit of 10")

        // The replicas go first, so none declares its queues again; then the run leaves nothing behind.
        for replica in replicas where replica.isRunning {
            kill(replica.processIdentifier, SIGKILL)
            replica.waitUntilExit()
        }
        let limits = LaneLimitPlan.plans(for: configuration).values.flatMap(\.queues)
        for queue in topology.queues.map(\.name) + limits + [results] { try? await client.delete(queue: queue) }
    }

    private func startReplica(_ index: Int, folder: URL, providers: URL, url: AMQPURL) throws -> Process {
        let process = Process()
        process.executableURL = try Self.binary()
        process.arguments = [
            "--http-port", "0", "--data-dir", folder.appendingPathComponent("replica-\(index)").path, "--providers", providers.path,
            "--log-level", ProcessInfo.processInfo.environment["AIWF_TEST_REPLICA_LOG_LEVEL"] ?? "warning",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["AIWF_AMQP_URL"] = ProcessInfo.processInfo.environment["AIWF_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/"
        process.environment = environment
        let log = folder.appendingPathComponent("replica-\(index).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }
}
