import Foundation
import ServiceKit

/// Admits calls to a provider: a concurrency slot per call and a request permit per attempt.
protocol CallGate: Sendable {
    /// Waits for one of the provider's concurrency slots; give it back with the returned release.
    func slot(_ provider: String) async throws -> @Sendable () async -> Void
    /// Waits for a permit to send one request to the provider.
    func permit(_ provider: String) async throws
    /// Waits for permits worth `tokens` tokens: the estimate before a call, the overage after it.
    func tokens(_ provider: String, _ tokens: Int) async throws
}

/// No limits: for the in-memory bus and providers without limits.
struct OpenGate: CallGate {
    func slot(_ provider: String) async throws -> @Sendable () async -> Void { {} }
    func permit(_ provider: String) async throws {}
    func tokens(_ provider: String, _ tokens: Int) async throws {}
}

/// Limits that hold across every replica, kept by the broker alone.
///
/// A slot is a message of the slots queue held unacknowledged during the call (a dead replica's slots come back by
/// redelivery); a permit is a message of the permits queue, refilled by the one pacer that holds the lock.
/// Both are taken with short-lived consumers of prefetch 1, as a permanent consumer would strand a permit.
struct BrokerGate: CallGate {
    let connection: AMQPConnection
    let plans: [String: LaneLimitPlan]

    func slot(_ provider: String) async throws -> @Sendable () async -> Void {
        guard let plan = plans[provider] else { return {} }
        let (consumer, _) = try await connection.takeOne(from: plan.slotsQueue)
        return { await consumer.close() }
    }

    func permit(_ provider: String) async throws {
        guard let plan = plans[provider], plan.permitsPerSecond != nil else { return }
        try await takePermit(from: plan.permitsQueue)
    }

    /// Token permits are taken one at a time, so workers gathering at once never take more than the pacer issued.
    func tokens(_ provider: String, _ tokens: Int) async throws {
        guard let plan = plans[provider], plan.tokenPermitsPerSecond != nil, tokens > 0 else { return }
        let count = (tokens + LaneLimitPlan.tokensPerPermit - 1) / LaneLimitPlan.tokensPerPermit
        for _ in 0..<count { try await takePermit(from: plan.tokenPermitsQueue) }
    }

    private func takePermit(from queue: String) async throws {
        let (consumer, permit) = try await connection.takeOne(from: queue)
        connection.ack(permit)
        await consumer.close()
    }
}
