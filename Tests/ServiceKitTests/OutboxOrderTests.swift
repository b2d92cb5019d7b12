import Contracts
import Foundation
import GRDB
import Synchronization
import Testing

@testable import AMQPClient
@testable import Messaging
@testable import RuntimeSupport
@testable import ServiceStorage

/// The outbox keeps each stream's order, and a record that keeps failing holds back only its own stream, then is
/// parked for an operator.
@Suite("Outbox order and parking", .timeLimit(.minutes(2)))
struct OutboxOrderTests {
    private func note(_ text: String, stream: String, to queue: String) throws -> OutgoingMessage {
        var message = try BusFixture.message(Note(text: text), to: queue)
        message.stream = stream
        return message
    }

    /// A queue, its bus and an outbox whose failed records wait exactly one second and park after `maximumAttempts`.
    private func parkingBed(
        _ name: String, maximumAttempts: Int
    ) async throws -> (String, BusFixture, AMQPBus, any DatabaseWriter, Outbox) {
        let queue = TestBroker.uniqueName(name)
        let fixture = try await BusFixture(.amqp, name: "test.\(name)", topology: .workQueue(queue, kind: .classic))
        let bus = try #require(fixture.bus as? AMQPBus)
        let database = try ServiceDatabase.inMemory()
        let outbox = Outbox(
            database: database, bus: bus, logger: TestBroker.logger, maximumAttempts: maximumAttempts,
            retryBackoff: Backoff(initial: .seconds(1), maximum: .seconds(1), jitter: 0))
        return (queue, fixture, bus, database, outbox)
    }

    /// A mandatory note of `stream` that no queue is bound for.
    private func unroutable(_ text: String, stream: String, to queue: String) throws -> OutgoingMessage {
        var message = try note(text, stream: stream, to: queue)
        message.routingKey = TestBroker.uniqueName("nobody")
        message.mandatory = true
        return message
    }

    private func texts(in queue: String, count: Int, bus: AMQPBus) async throws -> [String] {
        let subscription = try await bus.consumer.consume(queue: queue, prefetch: 500)
        var texts: [String] = []
        for try await delivery in subscription.deliveries {
            bus.consumer.ack(delivery)
            let message = try IncomingMessage(body: delivery.body, queue: queue, routingKey: "", redelivered: false, replyTo: nil)
            texts.append(try message.decode(Note.self).payload.text)
            if texts.count == count { break }
        }
        await subscription.close()
        return texts
    }

    @Test func eachStreamArrivesInTheOrderItWasCommitted() async throws {
        let queue = TestBroker.uniqueName("order")
        let fixture = try await BusFixture(.amqp, name: "test.order", topology: .workQueue(queue, kind: .classic))
        let bus = try #require(fixture.bus as? AMQPBus)
        let database = try ServiceDatabase.inMemory()
        let outbox = Outbox(database: database, bus: bus, logger: TestBroker.logger)
        let streams = ["a", "b", "c", "d"]
        try await database.write { db in
            for index in 0..<300 {
                let stream = streams[index % streams.count]
                try Outbox.enqueue([try note("\(stream) \(index)", stream: stream, to: queue)], in: db)
            }
        }
        var sent = 0
        while try await outbox.pendingCount() > 0 { sent += try await outbox.relayPending().sent }
        #expect(sent == 300)
        let received = try await texts(in: queue, count: 300, bus: bus)
        for stream in streams {
            let numbers = received.filter { $0.hasPrefix("\(stream) ") }.compactMap { Int($0.split(separator: " ")[1]) }
            #expect(numbers.count == 75)
            #expect(numbers == numbers.sorted(), "stream \(stream) arrived out of order")
        }
        await fixture.tearDown()
    }

    @Test func onPublishedHearsOfConfirmedMessagesOnlyAndOnce() async throws {
        let (queue, fixture, _, database, _) = try await parkingBed("heard", maximumAttempts: 3)
        let heard = Mutex<[String]>([])
        let outbox = Outbox(database: database, bus: fixture.bus, logger: TestBroker.logger) { message in
            heard.withLock { $0.append(message.messageID) }
        }
        let good = try note("good", stream: "s1", to: queue)
        let lost = try unroutable("lost", stream: "s2", to: queue)
        try await database.write { db in try Outbox.enqueue([good, lost], in: db) }
        _ = try await outbox.relayPending()
        _ = try await outbox.relayPending()
        #expect(heard.withLock { $0 } == [good.messageID], "the unroutable one was never confirmed")
        await fixture.tearDown()
    }

    @Test func aRecordThatKeepsFailingHoldsBackOnlyItsStreamThenIsParked() async throws {
        let (queue, fixture, bus, database, outbox) = try await parkingBed("parking", maximumAttempts: 3)
        let failing = try unroutable("nobody takes this", stream: "a", to: queue)
        try await database.write { db in
            try Outbox.enqueue([try note("a 1", stream: "a", to: queue), failing, try note("a 3", stream: "a", to: queue)], in: db)
            try Outbox.enqueue([try note("b 1", stream: "b", to: queue), try note("b 2", stream: "b", to: queue)], in: db)
        }
        var now = Date()
        let first = try await outbox.relayPending(now: now)
        #expect(first.failed == 1)
        // Stream a waits behind its failing record; stream b is through; "a 3" went with its pipelined batch.
        #expect(try await outbox.pendingCount() == 1)
        for _ in 0..<2 {
            #expect(try await outbox.relayPending(now: now).sent == 0, "still waiting out its backoff")
            now += 2
            #expect(try await outbox.relayPending(now: now).failed == 1)
        }
        let parked = try await outbox.parked()
        #expect(parked.count == 1)
        #expect(parked.first?.attempts == 3)
        #expect(parked.first?.lastError?.contains("unroutable") == true)
        #expect(try await outbox.relayPending(now: now + 10) == (0, 0), "a parked record is not sent again")
        let received = try await texts(in: queue, count: 4, bus: bus)
        #expect(Set(received) == ["a 1", "a 3", "b 1", "b 2"])
        await fixture.tearDown()
    }

    @Test func laterRecordsOfAStreamWaitBehindAFailedOneAndFollowItInOrder() async throws {
        let (queue, fixture, bus, database, outbox) = try await parkingBed("behind", maximumAttempts: 2)
        let failing = try unroutable("nobody", stream: "a", to: queue)
        try await database.write { db in try Outbox.enqueue([failing], in: db) }
        var now = Date()
        #expect(try await outbox.relayPending(now: now).failed == 1)
        // Committed after the failure: they must not overtake it.
        try await database.write { db in
            try Outbox.enqueue([try note("a 2", stream: "a", to: queue), try note("a 3", stream: "a", to: queue)], in: db)
            try Outbox.enqueue([try note("b 1", stream: "b", to: queue)], in: db)
        }
        #expect(try await outbox.relayPending(now: now).sent == 1, "only stream b may go")
        now += 2
        #expect(try await outbox.relayPending(now: now).failed == 1)
        #expect(try await outbox.parked().count == 1)
        #expect(try await outbox.relayPending(now: now).sent == 2)
        #expect(try await texts(in: queue, count: 3, bus: bus) == ["b 1", "a 2", "a 3"])
        await fixture.tearDown()
    }

    @Test func aMessageThatCanNeverBeSentIsParkedAtOnce() async throws {
        let database = try ServiceDatabase.inMemory()
        let fixture = try await BusFixture(.amqp, name: "test.invalid-outbox", topology: Topology())
        let outbox = Outbox(database: database, bus: fixture.bus, logger: TestBroker.logger)
        try await database.write { db in
            try Outbox.enqueue([OutgoingMessage(exchange: "", routingKey: String(repeating: "q", count: 300), body: Data())], in: db)
        }
        #expect(try await outbox.relayPending().failed == 1)
        #expect(try await outbox.parked().first?.lastError?.contains("invalid-message") == true)
        await fixture.tearDown()
    }
}
