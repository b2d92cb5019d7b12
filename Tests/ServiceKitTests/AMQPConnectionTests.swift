import Foundation
import Testing

@testable import AMQPClient

@Suite("AMQP connection against the real broker", .timeLimit(.minutes(2)))
struct AMQPConnectionTests {
    @Test func publishesWithConfirmsAndConsumesWithAcks() async throws {
        let queue = TestBroker.uniqueName("confirms")
        let publisher = TestBroker.connection("test.publisher")
        let consumer = TestBroker.connection("test.consumer")
        try await publisher.declare(Topology(queues: [QueueSpec(name: queue)]))
        let messages = (0..<2_000).map { index in
            OutgoingMessage(exchange: "", routingKey: queue, body: Data("message \(index)".utf8))
        }
        try await publisher.publish(messages)
        #expect(try await publisher.messageCount(queue: queue) == 2_000)

        let subscription = try await consumer.consume(queue: queue, prefetch: 100)
        var received: [String] = []
        for try await delivery in subscription.deliveries {
            received.append(String(decoding: delivery.body, as: UTF8.self))
            consumer.ack(delivery)
            if received.count == 2_000 { break }
        }
        #expect(received == messages.map { String(decoding: $0.body, as: UTF8.self) })
        await subscription.cancel()
        try await publisher.delete(queue: queue)
        await consumer.close()
        await publisher.close()
    }

    /// A cluster's URL list: the first node is down (nothing listens on its port), so the connection goes on to the
    /// next and works there.
    @Test func aNodeThatCannotBeReachedIsPassedOverForTheNextOfTheList() async throws {
        let broker = TestBroker.url
        let urls = try AMQPURL.list(
            "amqp://guest:guest@127.0.0.1:1/, amqp://\(broker.user):\(broker.password)@\(broker.host):\(broker.port)/")
        #expect(urls.count == 2 && urls[0].port == 1)
        var options = AMQPConnectionOptions(url: urls[0], name: "test.failover")
        options.alternates = Array(urls.dropFirst())
        options.connectTimeout = .seconds(1)
        let connection = AMQPConnection(options: options, logger: TestBroker.logger)
        let queue = TestBroker.uniqueName("failover")
        try await connection.declare(Topology(queues: [QueueSpec(name: queue)]))
        try await connection.publish([OutgoingMessage(exchange: "", routingKey: queue, body: Data("over the next node".utf8))])
        #expect(try await connection.messageCount(queue: queue) == 1)
        try await connection.delete(queue: queue)
        await connection.close()
        #expect(throws: AMQPError.self) { _ = try AMQPURL.list(" , ") }
        #expect(throws: AMQPError.self) { _ = try AMQPURL.list("amqp://h1/, http://h2/") }
    }

    @Test func mandatoryMessageWithoutQueueIsUnroutable() async throws {
        let publisher = TestBroker.connection("test.unroutable")
        let message = OutgoingMessage(exchange: "", routingKey: TestBroker.uniqueName("nobody"), body: Data("x".utf8), mandatory: true)
        await #expect(throws: AMQPError.self) { try await publisher.publish(message) }
        // The connection is still usable afterwards.
        let queue = TestBroker.uniqueName("after-return")
        try await publisher.declare(Topology(queues: [QueueSpec(name: queue)]))
        try await publisher.publish(OutgoingMessage(exchange: "", routingKey: queue, body: Data("y".utf8), mandatory: true))
        try await publisher.delete(queue: queue)
        await publisher.close()
    }

    @Test func anUnbindingRemovesARouteAnEarlierVersionDeclared() async throws {
        let connection = TestBroker.connection("test.unbind")
        let queue = TestBroker.uniqueName("unbind")
        let key = TestBroker.uniqueName("route")
        let route = BindingSpec(queue: queue, exchange: "amq.direct", routingKey: key)
        try await connection.declare(Topology(queues: [QueueSpec(name: queue)], bindings: [route]))
        try await connection.publish(OutgoingMessage(exchange: "amq.direct", routingKey: key, body: Data("1".utf8), mandatory: true))
        #expect(try await connection.messageCount(queue: queue) == 1)
        try await connection.declare(Topology(queues: [QueueSpec(name: queue)], unbindings: [route, route]))
        await #expect(throws: AMQPError.self, "the route is gone") {
            try await connection.publish(OutgoingMessage(exchange: "amq.direct", routingKey: key, body: Data("2".utf8), mandatory: true))
        }
        try await connection.delete(queue: queue)
        await connection.close()
    }

    @Test func conflictingDeclarationIsRefusedAndConnectionStaysUsable() async throws {
        let connection = TestBroker.connection("test.conflict")
        let queue = TestBroker.uniqueName("conflict")
        try await connection.declare(Topology(queues: [QueueSpec(name: queue, kind: .classic)]))
        // (A different type alone is kept as it is, for upgrades: BrokerFailureTests.)
        var shorter = QueueSpec(name: queue, kind: .classic)
        shorter.maxLength = 5
        await #expect(throws: AMQPError.self) { try await connection.declare(Topology(queues: [shorter])) }
        try await connection.publish(OutgoingMessage(exchange: "", routingKey: queue, body: Data("z".utf8)))
        #expect(try await connection.messageCount(queue: queue) == 1)
        try await connection.delete(queue: queue)
        await connection.close()
    }
}

@Suite("AMQP connection liveness", .timeLimit(.minutes(1)))
struct AMQPLivenessTests {
    @Test func anIdleConnectionKeepsItsHeartbeatAndStaysUsable() async throws {
        // Without reconnects, a connection the broker dropped for missed heartbeats would stay down: the test can fail.
        var options = AMQPConnectionOptions(url: TestBroker.url, name: "test.idle")
        options.heartbeatSeconds = 1
        options.reconnects = false
        let connection = AMQPConnection(options: options, logger: TestBroker.logger)
        let queue = TestBroker.uniqueName("idle")
        try await connection.declare(Topology(queues: [QueueSpec(name: queue)]))
        // Four heartbeat intervals without a single call: the broker drops a connection that misses two.
        try await Task.sleep(for: .seconds(4))
        #expect(connection.isConnected)
        #expect(connection.generation == 1, "the first connection, never a reconnect")
        try await connection.publish(OutgoingMessage(exchange: "", routingKey: queue, body: Data("still here".utf8)))
        #expect(try await connection.messageCount(queue: queue) == 1)
        try await connection.delete(queue: queue)
        await connection.close()
    }

    /// The broker's reason is read before the refused connection is freed: it arrives whole, never as freed memory.
    @Test func aRefusedLoginSaysWhyInTheBrokersWords() throws {
        let url = try AMQPURL(
            "amqp://\(TestBroker.url.user):\(TestBroker.url.password)@\(TestBroker.url.host):\(TestBroker.url.port)/no-such-vhost")
        for _ in 0..<3 {
            let error = #expect(throws: AMQPError.self) { _ = try AMQPWire.connect(to: url, name: "test.refused", heartbeatSeconds: 10) }
            let message = error?.message ?? ""
            #expect(message.contains("vhost no-such-vhost not found"), "\(message)")
            #expect(!message.contains("\u{0}"), "\(message)")
        }
    }

    @Test func closeFailsLaterOperationsClearly() async throws {
        let connection = TestBroker.connection("test.closed")
        await connection.waitUntilConnected()
        await connection.close()
        let error = await #expect(throws: AMQPError.self) {
            try await connection.publish(OutgoingMessage(exchange: "", routingKey: "x", body: Data()))
        }
        #expect(error?.code == .closed)
    }
}
