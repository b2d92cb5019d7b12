import Contracts
import Foundation
import ServiceTestSupport
import Testing

@testable import AMQPClient
@testable import Messaging
@testable import ServiceStorage

/// What happens when connections die: only meaningful against the real broker.
@Suite("Broker failures", .timeLimit(.minutes(3)))
struct BrokerFailureTests {
    @Test func unackedDeliveriesOfAClosedConsumerGoToAnotherAndTakeEffectOnce() async throws {
        let queue = TestBroker.uniqueName("midflight")
        let first = try await BusFixture(.amqp, name: "test.midflight.first", topology: .workQueue(queue))
        let second = try await BusFixture(.amqp, name: "test.midflight.second", topology: .workQueue(queue))
        let ledger = try EffectLedger()
        let outbox = Outbox(database: ledger.database, bus: first.bus, logger: TestBroker.logger)
        let count = 50
        try await first.bus.publish(try (0..<count).map { try BusFixture.message(Note(text: "\($0)"), to: queue) })

        // The first consumer commits every effect, then hangs before its acks: a crash after commit.
        let applied = EventCounter()
        let firstBus = try #require(first.bus as? AMQPBus)
        try await whileRunning({
            try await firstBus.consume(queue: queue, options: ConsumeOptions(prefetch: 100, concurrency: 100)) { message in
                try await outbox.handleOnce(message, consumer: "midflight") { db in
                    try EffectLedger.apply(message.header.id.uuidString, in: db)
                    return []
                }
                await applied.increment()
                try await Task.sleep(for: .seconds(3600))
            }
        }) {
            await applied.wait(for: count)
            await firstBus.consumer.close()
        }

        // Everything comes again, redelivered, to the second consumer; the inbox suppresses the effect.
        let redelivered = EventCounter()
        let fresh = EventCounter()
        try await whileRunning({
            try await second.bus.consume(queue: queue, options: ConsumeOptions(prefetch: 100, concurrency: 4)) { message in
                #expect(message.redelivered)
                await redelivered.increment()
                let applied = try await outbox.handleOnce(message, consumer: "midflight") { db in
                    try EffectLedger.apply(message.header.id.uuidString, in: db)
                    return []
                }
                if applied { await fresh.increment() }
            }
        }) {
            await redelivered.wait(for: count)
        }
        #expect(await fresh.value == 0)
        let counts = try await ledger.counts()
        #expect(counts.count == count)
        #expect(counts.values.allSatisfy { $0 == 1 })
        await first.tearDown()
        await second.tearDown()
    }

    @Test func reconnectsAfterTheBrokerClosesItsConnectionsWithoutLosingConfirmedMessages() async throws {
        let queue = TestBroker.uniqueName("reconnect")
        let name = "test.reconnect.\(UUID().uuidString.prefix(8))"
        let fixture = try await BusFixture(.amqp, name: name, topology: .workQueue(queue))
        let bus = try #require(fixture.bus as? AMQPBus)
        let ledger = try EffectLedger()
        let outbox = Outbox(database: ledger.database, bus: bus, logger: TestBroker.logger)
        let batches = 30
        let batchSize = 100

        let confirmed = ConfirmedIDs()
        let consumed = EventCounter()
        try await whileRunning({
            try await bus.consume(queue: queue, options: ConsumeOptions(prefetch: 50, concurrency: 4)) { message in
                try await outbox.handleOnce(message, consumer: "reconnect") { db in
                    try EffectLedger.apply(message.header.id.uuidString, in: db)
                    return []
                }
                await consumed.increment()
            }
        }) {
            for batch in 0..<batches {
                let messages = try (0..<batchSize).map { try BusFixture.message(Note(text: "\(batch).\($0)"), to: queue) }
                try await bus.publish(messages)
                await confirmed.add(messages.map(\.messageID))
                if batch == 10 || batch == 20 {
                    try await BrokerControl.closeConnections(named: name)
                }
            }
            #expect(try await eventually(timeout: .seconds(60)) { try await ledger.counts().count == batches * batchSize })
        }
        let counts = try await ledger.counts()
        #expect(Set(counts.keys) == Set(await confirmed.ids))
        #expect(counts.values.allSatisfy { $0 == 1 })
        #expect(bus.isConnected)
        await fixture.tearDown()
    }

    /// After a reconnect one queue can no longer be declared as before (here someone made it anew with other
    /// arguments; in a cluster, a durable queue whose node is down): the queues after it are declared all the same.
    @Test func aQueueRefusedOnReconnectDoesNotKeepTheRestOfTheTopologyFromBeingDeclared() async throws {
        let (first, second) = (TestBroker.uniqueName("refused"), TestBroker.uniqueName("after-refused"))
        let name = "test.redeclare.\(UUID().uuidString.prefix(8))"
        let connection = TestBroker.connection(name)
        try await connection.declare(Topology(queues: [QueueSpec(name: first), QueueSpec(name: second)]))
        let other = TestBroker.connection("test.redeclare-other")
        try await other.delete(queue: first)
        try await other.delete(queue: second)
        var changed = QueueSpec(name: first)
        changed.maxLength = 7
        try await other.declare(Topology(queues: [changed]))

        try await BrokerControl.closeConnections(named: name)
        #expect(try await eventually(timeout: .seconds(20)) { (try? await other.messageCount(queue: second)) != nil })
        try await other.delete(queue: first)
        try await other.delete(queue: second)
        await connection.close()
        await other.close()
    }

    /// A consumer's queue is gone when the connection comes back (in a cluster: a transient queue went with its node,
    /// and another process declares it again on a surviving one). The consumer waits for it instead of ending.
    @Test func aConsumerWhoseQueueIsGoneAfterAReconnectWaitsForItAndGoesOn() async throws {
        let queue = TestBroker.uniqueName("comes-back")
        let name = "test.resubscribe.\(UUID().uuidString.prefix(8))"
        let connection = TestBroker.connection(name)
        let other = TestBroker.connection("test.resubscribe-other")
        try await other.declare(Topology(queues: [QueueSpec(name: queue)]))
        let subscription = try await connection.consume(queue: queue, prefetch: 10)
        let first = connection.generation
        // The queue goes and the connection drops (as when the queue's node of a cluster stops); subscribing again
        // after the reconnect is refused with 404 until the queue is back.
        try await other.delete(queue: queue)
        try await BrokerControl.closeConnections(named: name)
        #expect(try await eventually { connection.generation > first })
        try await Task.sleep(for: .seconds(1))
        try await other.declare(Topology(queues: [QueueSpec(name: queue)]))
        try await other.publish([OutgoingMessage(exchange: "", routingKey: queue, body: Data("after the gap".utf8))])
        var iterator = subscription.deliveries.makeAsyncIterator()
        let delivery = try await iterator.next()
        #expect(delivery.map { String(decoding: $0.body, as: UTF8.self) } == "after the gap")
        if let delivery { connection.ack(delivery) }
        try await other.delete(queue: queue)
        await connection.close()
        await other.close()
    }

    /// The broker ends a consumer by itself when its queue goes (deleted, or its node of a cluster stopped). Told so,
    /// the connection declares the topology again (declared through another connection, as the bus does) and
    /// subscribes the consumer on the new queue, without a reconnect; unnoticed, the consumer would wait forever on a
    /// queue nobody declares again.
    @Test func aConsumerWhoseQueueIsDeletedIsSubscribedAgainOnTheQueueDeclaredAgain() async throws {
        let queue = TestBroker.uniqueName("deleted")
        let connection = TestBroker.connection("test.broker-cancel")
        let other = TestBroker.connection("test.broker-cancel-other")
        try await other.declare(Topology(queues: [QueueSpec(name: queue)]))
        connection.keepDeclared(Topology(queues: [QueueSpec(name: queue)]))
        let subscription = try await connection.consume(queue: queue, prefetch: 10)
        let generation = connection.generation
        try await other.publish([OutgoingMessage(exchange: "", routingKey: queue, body: Data("before".utf8))])
        var iterator = subscription.deliveries.makeAsyncIterator()
        let before = try #require(try await iterator.next())
        try await other.delete(queue: queue)
        #expect(
            try await eventually { (try? await other.messageCount(queue: queue)) != nil }, "the connection declares the queue again")
        connection.ack(before)  // on the channel of the ended consumer, which stays open
        try await other.publish([OutgoingMessage(exchange: "", routingKey: queue, body: Data("after".utf8))])
        let after = try await iterator.next()
        #expect(after.map { String(decoding: $0.body, as: UTF8.self) } == "after")
        if let after { connection.ack(after) }
        #expect(connection.generation == generation, "no reconnect")
        try await other.delete(queue: queue)
        await connection.close()
        await other.close()
    }

    /// An exclusive consumer is a lock: when the broker ends it, its holder is told (and holds nothing any more).
    @Test func anExclusiveConsumerWhoseQueueIsDeletedEnds() async throws {
        let queue = TestBroker.uniqueName("lock-gone")
        let connection = TestBroker.connection("test.lock-gone")
        try await connection.declare(Topology(queues: [QueueSpec(name: queue, kind: .classic)]))
        let lock = try await connection.consume(queue: queue, prefetch: 1, exclusive: true)
        let other = TestBroker.connection("test.lock-gone-other")
        try await other.delete(queue: queue)
        let error = await #expect(throws: AMQPError.self) { for try await _ in lock.deliveries {} }
        #expect(error?.code == .consumerCancelled)
        await connection.close()
        await other.close()
    }

    /// An earlier version declared a queue as a classic one; this one wants it quorum, which the broker refuses to
    /// change in place: the queue is kept (and used) as it is, so an upgrade starts instead of failing.
    @Test func aQueueAnEarlierVersionDeclaredAsAnotherTypeIsKeptAsItIs() async throws {
        let queue = TestBroker.uniqueName("upgraded")
        let connection = TestBroker.connection("test.upgraded")
        try await connection.declare(Topology(queues: [QueueSpec(name: queue, kind: .classic)]))
        try await connection.declare(Topology(queues: [QueueSpec(name: queue, kind: .quorum)]))
        var transient = QueueSpec(name: queue, kind: .classic)
        transient.durable = false
        try await connection.declare(Topology(queues: [transient]))
        try await connection.publish([OutgoingMessage(exchange: "", routingKey: queue, body: Data("kept".utf8))])
        #expect(try await connection.messageCount(queue: queue) == 1)
        // Any other difference is still refused, with what to do.
        var longer = QueueSpec(name: queue, kind: .classic)
        longer.maxLength = 3
        let error = await #expect(throws: AMQPError.self) { try await connection.declare(Topology(queues: [longer])) }
        #expect(error?.message.contains("inequivalent arg 'x-max-length'") == true)
        try await connection.delete(queue: queue)
        await connection.close()
    }

    @Test func aServiceStartedBeforeTheQueueExistsGetsAClearRefusal() async throws {
        let connection = TestBroker.connection("test.missing-queue")
        let missing = TestBroker.uniqueName("missing")
        let error = await #expect(throws: AMQPError.self) {
            _ = try await connection.consume(queue: missing, prefetch: 10)
        }
        #expect(error?.code == .channelClosed)
        #expect(error?.message.contains("404") == true)
        await connection.close()
    }
}

actor ConfirmedIDs {
    private(set) var ids: [String] = []
    func add(_ more: [String]) { ids += more }
}
