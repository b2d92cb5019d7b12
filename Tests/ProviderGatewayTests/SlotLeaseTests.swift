import AMQPClient
import Foundation
import Logging
import ServiceTestSupport
import Testing

@testable import ProviderGateway

/// Concurrency slots stay with a replica for a moment after a call, then go back to the queue.
@Suite("Slot leases", .timeLimit(.minutes(1)))
struct SlotLeaseTests {
    @Test func aSlotGivenBackIsReusedWithinTheLingerThenReturnedToTheQueue() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let url = try AMQPURL(ProcessInfo.processInfo.environment["AIWF_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/")
        let connection = AMQPConnection(options: AMQPConnectionOptions(url: url, name: "test.slots"), logger: logger)
        let queue = "test.slots.\(UUID().uuidString.prefix(8))"
        try await connection.declare(Topology(queues: [QueueSpec(name: queue, kind: .classic)]))
        try await connection.publish([OutgoingMessage(exchange: "", routingKey: queue, body: Data("slot".utf8))])
        let leases = SlotLeases(connection: connection, queue: queue, linger: .milliseconds(300))

        let first = try await leases.take()
        #expect(try await connection.messageCount(queue: queue) == 0)
        leases.giveBack(first)
        #expect(leases.idleCount == 1)
        #expect(try await connection.messageCount(queue: queue) == 0, "held during the linger")
        let second = try await leases.take()  // the only slot: it can only be the one held
        #expect(leases.idleCount == 0)
        leases.giveBack(second)

        #expect(try await eventually { try await connection.messageCount(queue: queue) == 1 }, "back in the queue after the linger")
        #expect(leases.idleCount == 0)
        try await connection.delete(queue: queue)
        await connection.close()
    }
}
