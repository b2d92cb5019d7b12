import Foundation
import Testing

@testable import AMQPClient
@testable import Messaging

/// Publishes the broker would refuse fail alone, at once, and the connection carries on (no reconnect).
@Suite("Hostile publishes", .timeLimit(.minutes(1)))
struct HostilePublishTests {
    private func roundTrip(_ connection: AMQPConnection, queue: String) async throws {
        try await connection.publish(OutgoingMessage(exchange: "", routingKey: queue, body: Data("ordinary".utf8), mandatory: true))
    }

    @Test(arguments: [
        OutgoingMessage(exchange: "", routingKey: String(repeating: "q", count: 300), body: Data()),
        OutgoingMessage(exchange: "", routingKey: "q", body: Data(), replyTo: String(repeating: "r", count: 256)),
        OutgoingMessage(exchange: "", routingKey: "q", body: Data(), messageID: String(repeating: "m", count: 400)),
        OutgoingMessage(exchange: "", routingKey: "q", body: Data(), type: String(repeating: "t", count: 256)),
        OutgoingMessage(exchange: "", routingKey: "q", body: Data(repeating: 7, count: 2_000)),
    ])
    func aMessageTheBrokerWouldRefuseFailsAloneAndTheConnectionStays(_ hostile: OutgoingMessage) async throws {
        var options = AMQPConnectionOptions(url: TestBroker.url, name: "test.hostile.publish")
        options.maximumMessageBytes = 1_000
        let connection = AMQPConnection(options: options, logger: TestBroker.logger)
        let queue = TestBroker.uniqueName("hostile")
        try await connection.declare(Topology(queues: [QueueSpec(name: queue, kind: .classic)]))
        let generation = connection.generation

        let error = await #expect(throws: AMQPError.self) { try await connection.publish(hostile) }
        #expect(error?.code == .invalidMessage)
        // The messages around it are unaffected, and the connection never dropped.
        let before = Task { try await roundTrip(connection, queue: queue) }
        let hostileAgain = Task { try await connection.publish(hostile) }
        let after = Task { try await roundTrip(connection, queue: queue) }
        try await before.value
        await #expect(throws: AMQPError.self) { try await hostileAgain.value }
        try await after.value
        #expect(try await connection.messageCount(queue: queue) == 2)
        #expect(connection.generation == generation)
        try await connection.delete(queue: queue)
        await connection.close()
    }

    @Test func aPublishToAMissingExchangeFailsAloneWithoutClosingTheConnection() async throws {
        let connection = TestBroker.connection("test.hostile.exchange")
        let queue = TestBroker.uniqueName("exchange")
        try await connection.declare(Topology(queues: [QueueSpec(name: queue, kind: .classic)]))
        let generation = connection.generation
        let missing = OutgoingMessage(exchange: TestBroker.uniqueName("no-such-exchange"), routingKey: "x", body: Data())
        for _ in 0..<3 {
            let error = await #expect(throws: AMQPError.self) { try await connection.publish(missing) }
            #expect(error?.code == .unknownExchange)
            try await roundTrip(connection, queue: queue)
        }
        #expect(try await connection.messageCount(queue: queue) == 3)
        #expect(connection.generation == generation)
        try await connection.delete(queue: queue)
        await connection.close()
    }

    @Test func aRefusedPublishFailsAloneAndTheNextGoesOutOnAFreshChannel() async throws {
        let connection = TestBroker.connection("test.hostile.refused")
        var full = QueueSpec(name: TestBroker.uniqueName("full"), kind: .classic)
        full.maxLength = 1
        full.overflow = "reject-publish"
        let other = TestBroker.uniqueName("other")
        try await connection.declare(Topology(queues: [full, QueueSpec(name: other, kind: .classic)]))
        let generation = connection.generation
        try await roundTrip(connection, queue: full.name)

        let error = await #expect(throws: AMQPError.self) { try await roundTrip(connection, queue: full.name) }
        #expect(error?.code == .nacked)
        #expect(error?.message.contains("routing key '\(full.name)'") == true, "\(String(describing: error))")
        try await roundTrip(connection, queue: other)
        #expect(connection.publishChannelReopenings == 1, "the channel that refused is not used again")
        #expect(try await connection.messageCount(queue: full.name) == 1)
        #expect(try await connection.messageCount(queue: other) == 1)
        #expect(connection.generation == generation)
        try await connection.delete(queue: full.name)
        try await connection.delete(queue: other)
        await connection.close()
    }

    @Test func aPublishWhileTheBrokerIsUnreachableEndsAtItsDeadline() async throws {
        var options = AMQPConnectionOptions(url: try AMQPURL("amqp://guest:guest@127.0.0.1:1/"), name: "test.unreachable")
        options.publishTimeout = .milliseconds(500)
        let connection = AMQPConnection(options: options, logger: TestBroker.logger)
        let started = ContinuousClock.now
        let error = await #expect(throws: AMQPError.self) {
            try await connection.publish(OutgoingMessage(exchange: "", routingKey: "q", body: Data()))
        }
        #expect(error?.code == .timedOut)
        #expect(ContinuousClock.now - started < .seconds(20), "the 0.5 s publish timeout, with room for a loaded machine")
        await connection.close()
    }

    @Test func aCancelledPublishEndsAtOnce() async throws {
        let connection = AMQPConnection(
            options: AMQPConnectionOptions(url: try AMQPURL("amqp://guest:guest@127.0.0.1:1/"), name: "test.cancelled"),
            logger: TestBroker.logger)
        let publish = Task { try await connection.publish(OutgoingMessage(exchange: "", routingKey: "q", body: Data())) }
        try await Task.sleep(for: .milliseconds(50))
        publish.cancel()
        await #expect(throws: CancellationError.self) { try await publish.value }
        await connection.close()
    }

    @Test func aCancelledSubscriptionEndsEvenWhileTheBrokerIsUnreachable() async throws {
        var options = AMQPConnectionOptions(url: try AMQPURL("amqp://guest:guest@127.0.0.1:1/"), name: "test.subscribe")
        options.reconnects = false
        let connection = AMQPConnection(options: options, logger: TestBroker.logger)
        let subscribe = Task { _ = try await connection.consume(queue: "anything", prefetch: 1, exclusive: true) }
        try await Task.sleep(for: .milliseconds(50))
        subscribe.cancel()
        await #expect(throws: (any Error).self) { try await subscribe.value }
        await connection.close()
    }

    @Test func aRequestWhoseBrokerIsUnreachableTimesOutOnTime() async throws {
        let bus = AMQPBus(
            url: try AMQPURL("amqp://guest:guest@127.0.0.1:1/"), serviceName: "test.request-timeout", logger: TestBroker.logger)
        let started = ContinuousClock.now
        await #expect(throws: RequestTimeoutError.self) {
            _ = try await bus.request(OutgoingMessage(exchange: "", routingKey: "q", body: Data()), timeout: .milliseconds(300))
        }
        // Waiting for the publish instead would take its own 30 s timeout; a loaded CI machine once took 10.2 s here.
        #expect(ContinuousClock.now - started < .seconds(20), "bounded by the request's timeout, not by the publish's")
        await bus.close()
    }
}
