import AMQPClient
import Contracts
import FakeProvider
import Foundation
import Logging
import ServiceStorage
import Testing

@testable import Messaging
@testable import ProviderGateway

/// Tokens per minute: the estimate is paid before a call and the overage after it, through the broker's permits.
@Suite("Tokens-per-minute limit", .timeLimit(.minutes(2)))
struct TokenLimitTests {
    @Test func callsWaitForTokenPermitsAndAnOverageDelaysTheNextCall() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        let provider = "tokens\(UUID().uuidString.prefix(6).lowercased())"
        // 120,000 tokens a minute with 7 % headroom: about 1.86 permits of 1,000 tokens a second.
        let configuration = try ProvidersConfiguration.parse(
            yaml: """
                default_provider: \(provider)
                providers:
                  \(provider):
                    kind: openai_compatible
                    base_url: \(fake.baseURL)/v1
                    models: {m: {input_per_million: 1, output_per_million: 1}}
                    limits: {tokens_per_minute: 120000, max_concurrency: 4}
                """,
            environment: [:]
        )
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let url = try AMQPURL(ProcessInfo.processInfo.environment["AIWF_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/")
        let bus = AMQPBus(url: url, serviceName: "test.tokens", logger: logger)
        let plans = LaneLimitPlan.plans(for: configuration)
        let plan = try #require(plans[provider])
        let gateway = ProviderGateway(
            configuration: configuration, database: try ServiceDatabase.inMemory(migrations: AnswerLedger.migrate), bus: bus,
            logger: logger,
            gate: BrokerGate(connection: bus.consumer, plans: plans)
        )
        try await bus.declare(gateway.topology)
        let pacer = Task { await Pacer(plan: plan, url: url, serviceName: "test.tokens", logger: logger).run() }
        defer { pacer.cancel() }

        // Each call is estimated at one permit (a short prompt and max_tokens 200); the fake reports 19 tokens.
        let start = ContinuousClock.now
        for index in 0..<6 {
            let result = await gateway.generator.generate(GenerateContent(requestID: "t\(index)", user: "Hello", maxTokens: 200))
            guard case .generated = result else {
                Issue.record("call \(index) failed: \(result)")
                return
            }
        }
        let sixCalls = ContinuousClock.now - start
        #expect(sixCalls >= .seconds(2), "six one-permit calls at 1.86 permits/s take more than 2 s, took \(sixCalls)")

        // A call that used 4,000 tokens more than estimated pays them after the call: the next one waits for them.
        await fake.script([
            .init(
                status: 200,
                body: #"{"choices":[{"message":{"content":"long"}}],"usage":{"prompt_tokens":4000,"completion_tokens":150}}"#
            )
        ])
        _ = await gateway.generator.generate(GenerateContent(requestID: "big", user: "Hello", maxTokens: 200))
        let afterOverage = ContinuousClock.now
        _ = await gateway.generator.generate(GenerateContent(requestID: "next", user: "Hello", maxTokens: 200))
        let requests = await fake.requests
        let big = try #require(requests.dropLast().last)
        #expect(requests.last!.at - big.at >= .milliseconds(1_500), "the overage of four permits delays the next call")
        #expect(ContinuousClock.now - afterOverage < .seconds(5))

        for queue in plan.queues + [ProviderGateway.laneQueue(provider), ProviderGateway.laneQueue(provider) + ".dead"] {
            try? await bus.delete(queue: queue)
        }
        await bus.close()
    }
}
