import AMQPClient
import Foundation
import Logging
import ServiceTestSupport
import Testing

@testable import ProviderGateway

/// A provider's global limits on a three-node RabbitMQ cluster (`scripts/cluster.sh`): two replicas' pacers connect
/// to the first node, so the lock, permits and slots live there; a caller connects to the second. Once the first node
/// stops, one pacer holds the lock again, declared on a surviving node with fresh slots, and calls are admitted again.
@Suite(
    "Provider limits across a cluster node failure", .serialized, .timeLimit(.minutes(4)),
    .enabled(if: TestCluster.urls != nil, "needs AIWF_TEST_CLUSTER_URLS (scripts/test.sh starts the cluster)"))
struct PacerClusterFailoverTests {
    @Test func theLimitQueuesAreDeclaredAgainOnASurvivingNodeAndCallsGoOn() async throws {
        let nodes = try AMQPURL.list(try #require(TestCluster.urls))
        try #require(nodes.count == 3)
        let provider = "cluster\(UUID().uuidString.prefix(6).lowercased())"
        let configuration = try ProvidersConfiguration.parse(
            yaml: """
                default_provider: \(provider)
                providers:
                  \(provider):
                    kind: openai_compatible
                    base_url: http://127.0.0.1:9/v1
                    models: {m: {input_per_million: 0, output_per_million: 0}}
                    limits: {requests_per_minute: 600, max_concurrency: 2}
                """,
            environment: [:])
        let plans = LaneLimitPlan.plans(for: configuration)
        let plan = try #require(plans[provider])
        let logger = {
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            return logger
        }()

        // Two replicas' pacers, both trying the first node first.
        let pacers = (0..<2).map { index in
            Task {
                await Pacer(plan: plan, url: nodes[0], alternates: [nodes[1], nodes[2]], serviceName: "test.pacer\(index)", logger: logger)
                    .run()
            }
        }
        var options = AMQPConnectionOptions(url: nodes[1], name: "test.cluster-caller")
        options.alternates = [nodes[2], nodes[0]]
        let caller = AMQPConnection(options: options, logger: logger)
        let gate = BrokerGate(connection: caller, plans: plans, linger: .zero)
        var failure: (any Error)?
        do {
            try await admitsACall(gate, provider)
            let stop = try await TestCluster.stopNode(1)
            #expect(stop.status == 0, "\(stop.errors)")
            // Calls are admitted again: the slots and permits are back, on a surviving node.
            try await admitsACall(gate, provider)
            // Exactly the configured slots, and one pacer: a third competitor finds the lock held.
            #expect(try await eventually { try await caller.messageCount(queue: plan.slotsQueue) == plan.slots })
            let competitor = AMQPConnection(options: options, logger: logger)
            let refusal = await #expect(throws: AMQPError.self) {
                let lock = try await competitor.consume(queue: plan.lockQueue, prefetch: 1, exclusive: true)
                await lock.close()
            }
            #expect(refusal?.message.contains("403") == true, "\(String(describing: refusal))")
            await competitor.close()
        } catch {
            failure = error
        }
        pacers.forEach { $0.cancel() }
        for queue in plan.queues { try? await caller.delete(queue: queue) }
        await caller.close()
        let start = try await TestCluster.startNode(1)
        #expect(start.status == 0, "\(start.errors)")
        if let failure { throw failure }
    }

    /// A slot and a permit, within a minute (the first pacer seeds the slots; after a node stops, the lock moves).
    private func admitsACall(_ gate: BrokerGate, _ provider: String) async throws {
        let admitted = Task {
            let release = try await gate.slot(provider)
            try await gate.permit(provider)
            await release()
        }
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            admitted.cancel()
        }
        defer { watchdog.cancel() }
        try await admitted.value
    }
}
