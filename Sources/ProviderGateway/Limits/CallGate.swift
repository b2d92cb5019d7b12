import AMQPClient
import Foundation
import Synchronization

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
    private let leases: [String: SlotLeases]

    /// - Parameter linger: how long a slot given back stays with this replica for its next call.
    init(connection: AMQPConnection, plans: [String: LaneLimitPlan], linger: Duration = .milliseconds(100)) {
        self.connection = connection
        self.plans = plans
        self.leases = plans.mapValues { SlotLeases(connection: connection, queue: $0.slotsQueue, linger: linger) }
    }

    func slot(_ provider: String) async throws -> @Sendable () async -> Void {
        guard let leases = leases[provider] else { return {} }
        let lease = try await leases.take()
        return { leases.giveBack(lease) }
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
        let (consumer, permit) = try await connection.takeOneOnceDeclared(from: queue)
        connection.ack(permit)
        await consumer.close()
    }
}

/// The concurrency slots of one provider that this replica holds.
///
/// A slot given back stays held for `linger` before it returns to the queue, so a replica with a steady stream of
/// calls keeps its slots instead of paying two broker round trips per call; the limit is exact either way, as a
/// held slot is a slot in use. A slot whose connection dropped went back to the queue with it and is not reused.
/// A lock rather than an actor: taking and giving back a held slot are on every call's path.
final class SlotLeases: Sendable {
    struct Lease: Sendable {
        fileprivate let consumer: AMQPConsumer
        fileprivate let delivery: AMQPDelivery
    }

    private struct State {
        var idle: [(lease: Lease, returned: Int)] = []
        var returns = 0
    }

    private let connection: AMQPConnection
    private let queue: String
    private let linger: Duration
    private let state = Mutex(State())

    init(connection: AMQPConnection, queue: String, linger: Duration) {
        self.connection = connection
        self.queue = queue
        self.linger = linger
    }

    /// A slot held already, or one taken from the queue (waiting while every slot is in use).
    func take() async throws -> Lease {
        while let (lease, _) = state.withLock({ $0.idle.popLast() }) {
            if connection.stillHolds(lease.delivery) { return lease }
            lease.consumer.closeSoon()
        }
        let (consumer, delivery) = try await connection.takeOneOnceDeclared(from: queue)
        return Lease(consumer: consumer, delivery: delivery)
    }

    /// Keeps `lease` for the next call, or gives it back to the queue after `linger`.
    func giveBack(_ lease: Lease) {
        let returned = state.withLock { state in
            state.returns += 1
            state.idle.append((lease, state.returns))
            return state.returns
        }
        Task { [linger] in
            try? await Task.sleep(for: linger)
            self.expire(returned)
        }
    }

    /// The number of slots held and not in use.
    var idleCount: Int { state.withLock { $0.idle.count } }

    private func expire(_ returned: Int) {
        let expired = state.withLock { state -> Lease? in
            guard let index = state.idle.firstIndex(where: { $0.returned == returned }) else { return nil }
            return state.idle.remove(at: index).lease
        }
        expired?.consumer.closeSoon()
    }
}

extension AMQPConnection {
    /// ``takeOne(from:)`` from a queue the pacer declares: until it has (at the start, or after the queue's node of a
    /// cluster stopped), the broker answers 404, and the caller waits as it would for a permit.
    fileprivate func takeOneOnceDeclared(from queue: String) async throws -> (AMQPConsumer, AMQPDelivery) {
        while true {
            do {
                return try await takeOne(from: queue)
            } catch let error as AMQPError where error.isMissingQueue {
                try await Task.sleep(for: .milliseconds(250))
            }
        }
    }
}
