import Foundation
import Testing

@testable import ProviderGateway

@Suite("Lane limit plans")
struct LaneLimitPlanTests {
    private func plan(_ limits: String) throws -> LaneLimitPlan {
        let configuration = try ProvidersConfiguration.parse(
            yaml: """
                default_provider: up
                providers:
                  up:
                    kind: openai_compatible
                    base_url: http://127.0.0.1:9/v1
                    models: {m: {input_per_million: 1, output_per_million: 1}}
                    limits: \(limits)
                """, environment: [:])
        return try #require(LaneLimitPlan.plans(for: configuration)["up"])
    }

    @Test func noWindowEverHoldsMoreThanTheLimitStartUpIncluded() throws {
        // 600 a minute against an upstream that enforces a true 10 per sliding second.
        let plan = try plan("{requests_per_minute: 600, max_concurrency: 4, burst: 1}")
        #expect(try #require(plan.mostCalls(in: .seconds(1))) <= 10)
        #expect(try #require(plan.mostCalls(in: .seconds(60))) <= 600)
        let permits = try #require(plan.pacedTopology.queues.first { $0.name == plan.permitsQueue })
        #expect(permits.maxLength == 0, "a bucket of one keeps no permit waiting: the pacer's next one is the one")
    }

    @Test func aLargerBurstStillKeepsTheMinute() throws {
        let plan = try plan("{requests_per_minute: 60, max_concurrency: 2, burst: 10}")
        #expect(try #require(plan.mostCalls(in: .seconds(60))) <= 60)
        #expect(plan.pacedTopology.queues.first { $0.name == plan.permitsQueue }?.maxLength == 9)
    }

    @Test func theQueuesWhoseArgumentsFollowASettingAreNamedAfterIt() throws {
        let one = try plan("{requests_per_minute: 600, burst: 1}")
        let five = try plan("{requests_per_minute: 600, burst: 5}")
        #expect(one.permitsQueue != five.permitsQueue, "a changed burst is a new queue, not a refused declaration")
        #expect(one.slotsQueue != (try plan("{requests_per_minute: 600, max_concurrency: 9}")).slotsQueue)
    }
}
