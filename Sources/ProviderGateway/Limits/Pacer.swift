import AMQPClient
import Foundation
import Logging

/// Issues one provider's permits at its rate, in exactly one replica at a time.
///
/// Every replica competes for an exclusive consumer on the lock queue; the holder publishes permits on the same
/// connection, which does not reconnect, so losing the lock also means losing the ability to publish. When the
/// holder dies the broker drops its consumer and another replica takes over within about a second.
///
/// In a cluster every limit queue lives on one node (see ``LaneLimitPlan/lockTopology``). When the lock's node
/// stops, the holder is told its consumer ended and competes again for the lock, declared again on a surviving node;
/// when the node of the permits and slots stops, the holder declares them again and puts fresh slots in place.
struct Pacer: Sendable {
    let plan: LaneLimitPlan
    let url: AMQPURL
    /// The other nodes of a cluster, tried in turn when one cannot be reached.
    var alternates: [AMQPURL] = []
    let serviceName: String
    let logger: Logger

    func run() async {
        while !Task.isCancelled {
            var options = AMQPConnectionOptions(url: url, name: "\(serviceName).pacer.\(plan.provider)")
            options.reconnects = false
            options.alternates = alternates
            options.heartbeatSeconds = 5
            let connection = AMQPConnection(options: options, logger: logger)
            do {
                try await connection.declare(plan.lockTopology)
                let lock = try await connection.consume(queue: plan.lockQueue, prefetch: 1, exclusive: true)
                logger.info(
                    "pacing provider permits", metadata: ["provider": "\(plan.provider)", "per_second": "\(plan.permitsPerSecond ?? 0)"])
                try await putInPlace(connection)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await _ in lock.deliveries {}
                        throw AMQPError.closed
                    }
                    group.addTask {
                        while true {
                            try await Task.sleep(for: .seconds(1))
                            try await keepInPlace(connection)
                        }
                    }
                    if let rate = plan.permitsPerSecond {
                        group.addTask { try await pace(connection, rate: rate, queue: plan.permitsQueue) }
                    }
                    if let rate = plan.tokenPermitsPerSecond {
                        group.addTask { try await pace(connection, rate: rate, queue: plan.tokenPermitsQueue) }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            } catch {
                logger.debug("not pacing", metadata: ["provider": "\(plan.provider)", "reason": "\(error)"])
            }
            await connection.close()
            try? await Task.sleep(for: .milliseconds(Int.random(in: 500...1000)))
        }
    }

    /// Declares the permits, slots and marker and seeds the slots if they are not there: when the lock is taken.
    private func putInPlace(_ connection: AMQPConnection) async throws {
        try await connection.declare(plan.pacedTopology)
        try await seedSlots(connection)
    }

    /// Puts them in place again when they went with their node. They share a node, so the marker alone tells: one
    /// broker call a second while all is well.
    private func keepInPlace(_ connection: AMQPConnection) async throws {
        do {
            try await seedSlots(connection)
        } catch let error as AMQPError where error.isMissingQueue {
            try await putInPlace(connection)
        }
    }

    /// The first holder of the lock for a slot count puts that many slots in place, once.
    ///
    /// The slots and the marker that says they are there go out in one broker transaction, so a replica that dies
    /// half-way leaves neither (the next holder seeds), never a marker without slots or slots without a marker.
    private func seedSlots(_ connection: AMQPConnection) async throws {
        guard try await connection.messageCount(queue: plan.seededMarker) == 0 else { return }
        let slots = (0..<plan.slots).map {
            OutgoingMessage(exchange: Exchange.default, routingKey: plan.slotsQueue, body: Data("slot \($0)".utf8))
        }
        let marker = OutgoingMessage(exchange: Exchange.default, routingKey: plan.seededMarker, body: Data("\(plan.slots) slots".utf8))
        try await connection.publishAtomically(slots + [marker])
        logger.info("seeded concurrency slots", metadata: ["provider": "\(plan.provider)", "slots": "\(plan.slots)"])
    }

    /// One permit every `1/R` seconds on a monotonic schedule. A permit that is late is not made up for: two permits
    /// are never closer than one interval, whatever the scheduler did.
    private func pace(_ connection: AMQPConnection, rate: Double, queue: String) async throws {
        let interval = Duration.nanoseconds(Int64(1_000_000_000 / rate))
        let clock = ContinuousClock()
        var next = clock.now
        while true {
            next = max(next + interval, clock.now)
            try await clock.sleep(until: next)
            try await connection.publish(
                OutgoingMessage(exchange: Exchange.default, routingKey: queue, body: Data(), persistent: false))
        }
    }
}
