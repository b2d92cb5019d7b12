import Contracts
import Foundation
import GRDB
import ServiceTestSupport
import Synchronization
import Testing

@testable import AMQPClient
@testable import Messaging
@testable import ServiceStorage

/// Behaviours both buses must have; each test runs once on RabbitMQ and once in memory.
@Suite("Message bus behaviours", .timeLimit(.minutes(3)))
struct MessageBusTests {
    @Test(arguments: BusKind.allCases)
    func tenThousandMessagesArriveOnceThroughTheInbox(kind: BusKind) async throws {
        let queue = TestBroker.uniqueName("volume")
        let fixture = try await BusFixture(kind, name: "test.volume", topology: .workQueue(queue, kind: .classic))
        let ledger = try EffectLedger()
        let outbox = Outbox(database: ledger.database, bus: fixture.bus, logger: TestBroker.logger)
        let messages = try (0..<10_000).map { try BusFixture.message(Note(text: "note \($0)"), to: queue) }
        try await fixture.bus.publish(messages)

        let handled = EventCounter()
        let options = ConsumeOptions(prefetch: 200, concurrency: 8)
        try await whileRunning({
            try await fixture.bus.consume(queue: queue, options: options) { message in
                _ = try message.decode(Note.self)
                try await outbox.handleOnce(message, consumer: "volume") { db in
                    try EffectLedger.apply(message.header.id.uuidString, in: db)
                    return []
                }
                await handled.increment()
            }
        }) {
            await handled.wait(for: 10_000)
        }
        let counts = try await ledger.counts()
        #expect(counts.count == 10_000)
        #expect(Set(counts.keys) == Set(messages.map(\.messageID)))
        #expect(counts.values.allSatisfy { $0 == 1 })
        await fixture.tearDown()
    }

    @Test(arguments: BusKind.allCases)
    func poisonAndFailingMessagesAreDeadLetteredAndTheConsumerGoesOn(kind: BusKind) async throws {
        let queue = TestBroker.uniqueName("poison")
        let fixture = try await BusFixture(kind, name: "test.poison", topology: .workQueue(queue))
        try await fixture.bus.publish([
            OutgoingMessage(exchange: Exchange.default, routingKey: queue, body: Data("{not json".utf8)),
            try BusFixture.message(Note(text: "always fails"), to: queue),
            try BusFixture.message(Note(text: "fine"), to: queue),
        ])
        let attempts = EventCounter()
        let handledFine = EventCounter()
        let policy = DeliveryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(10))
        try await whileRunning({
            try await fixture.bus.consume(queue: queue, options: ConsumeOptions(policy: policy)) { message in
                let note = try message.decode(Note.self).payload
                if note.text == "always fails" {
                    await attempts.increment()
                    throw NoteRefused(message: "this handler always fails")
                }
                await handledFine.increment()
            }
        }) {
            await handledFine.wait(for: 1)
        }
        #expect(await attempts.value == 3)
        #expect(try await eventually { try await fixture.bus.messageCount(queue: queue + ".dead") == 2 })
        #expect(try await fixture.bus.messageCount(queue: queue) == 0)
        await fixture.tearDown()
    }

    @Test(arguments: BusKind.allCases)
    func deadLetteredMessagesReplayToTheirQueueOnceWhatFailedIsFixed(kind: BusKind) async throws {
        let queue = TestBroker.uniqueName("replay")
        let fixture = try await BusFixture(kind, name: "test.replay", topology: .workQueue(queue))
        let broken = Mutex(true)
        let handled = EventCounter()
        let policy = DeliveryPolicy(maxAttempts: 1, initialBackoff: .milliseconds(10))
        try await whileRunning({
            try await fixture.bus.consume(queue: queue, options: ConsumeOptions(policy: policy)) { _ in
                if broken.withLock({ $0 }) { throw NoteRefused(message: "the handler is broken for now") }
                await handled.increment()
            }
        }) {
            try await fixture.bus.publish((1...5).map { try BusFixture.message(Note(text: "note \($0)"), to: queue) })
            #expect(try await eventually { try await fixture.bus.messageCount(queue: queue + ".dead") == 5 })
            broken.withLock { $0 = false }
            #expect(try await fixture.bus.moveMessages(from: queue + ".dead", to: queue, limit: 3) == 3, "no more than asked")
            await handled.wait(for: 3)
            #expect(try await fixture.bus.messageCount(queue: queue + ".dead") == 2)
            #expect(try await fixture.bus.moveMessages(from: queue + ".dead", to: queue, limit: 100) == 2, "no more than there are")
            await handled.wait(for: 5)
            #expect(try await fixture.bus.moveMessages(from: queue + ".dead", to: queue, limit: 100) == 0)
            await #expect(throws: (any Error).self) {
                _ = try await fixture.bus.moveMessages(from: queue + ".dead", to: TestBroker.uniqueName("nowhere"), limit: 1)
            }
        }
        #expect(await handled.value == 5, "each replayed message handled once")
        await fixture.tearDown()
    }

    @Test(arguments: BusKind.allCases)
    func requestReplyRoundTripRefusalAndTimeout(kind: BusKind) async throws {
        let queue = TestBroker.uniqueName("requests")
        let silent = TestBroker.uniqueName("silent")
        let fixture = try await BusFixture(
            kind, name: "test.requests", topology: .workQueue(queue) + .workQueue(silent)
        )
        let bus = fixture.bus
        try await whileRunning({
            try await bus.respond(to: Note.self, queue: queue) { envelope, _ in
                guard envelope.payload.text != "refuse" else { throw NoteRefused(message: "not this one") }
                return NoteReply(echoed: envelope.payload.text.uppercased())
            }
        }) {
            let reply = try await bus.request(Note(text: "hello"), queue: queue)
            #expect(reply == NoteReply(echoed: "HELLO"))
            let refusal = await #expect(throws: RemoteError.self) {
                try await bus.request(Note(text: "refuse"), queue: queue)
            }
            #expect(refusal == RemoteError(code: "refused", message: "not this one"))
            let started = ContinuousClock.now
            await #expect(throws: RequestTimeoutError.self) {
                try await bus.request(Note(text: "anyone?"), timeout: .milliseconds(300), queue: silent)
            }
            #expect(ContinuousClock.now - started < .seconds(20), "bounded by the timeout, even on a loaded machine")
            await #expect(throws: AMQPError.unroutable(exchange: "", routingKey: "")) {
                try await bus.request(Note(text: "nowhere"), queue: TestBroker.uniqueName("missing"))
            }
        }
        await fixture.tearDown()
    }

    @Test(arguments: BusKind.allCases)
    func outboxPublishesAfterACrashBetweenCommitAndPublishExactlyOnce(kind: BusKind) async throws {
        let queue = TestBroker.uniqueName("outbox")
        let fixture = try await BusFixture(kind, name: "test.outbox", topology: .workQueue(queue, kind: .classic))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(queue).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let message = try BusFixture.message(Note(text: "committed"), to: queue)

        // The state change and its message commit; the process dies before the relay publishes.
        do {
            let ledger = try EffectLedger(path: path)
            let outbox = Outbox(database: ledger.database, bus: fixture.bus, logger: TestBroker.logger)
            try await outbox.commit { db in
                try EffectLedger.apply("state-change", in: db)
                return ((), [message])
            }
            #expect(try await outbox.pendingCount() == 1)
        }
        #expect(try await fixture.bus.messageCount(queue: queue) == 0)

        // After the restart the relay publishes it, once, however often it runs.
        let ledger = try EffectLedger(path: path)
        let outbox = Outbox(database: ledger.database, bus: fixture.bus, logger: TestBroker.logger)
        #expect(try await outbox.relayPending().sent == 1)
        #expect(try await outbox.relayPending().sent == 0)
        #expect(try await outbox.pendingCount() == 0)
        #expect(try await eventually { try await fixture.bus.messageCount(queue: queue) == 1 })
        #expect(try await ledger.counts() == ["state-change": 1])
        await fixture.tearDown()
    }

    @Test(arguments: BusKind.allCases)
    func eventsReachEveryBoundQueueAndCommandsNeedAConsumer(kind: BusKind) async throws {
        let first = TestBroker.uniqueName("events-a")
        let second = TestBroker.uniqueName("events-b")
        let key = "test.\(UUID().uuidString.prefix(8)).happened.v1"
        let fixture = try await BusFixture(
            kind, name: "test.events",
            topology: .workQueue(first, bindings: [(Exchange.events, "test.*.happened.v1")])
                + .workQueue(second, bindings: [(Exchange.events, "#")])
        )
        var event = try OutgoingMessage.command(Note(text: "x"), context: MessageContext())
        event.exchange = Exchange.events
        event.routingKey = String(key)
        event.mandatory = false
        try await fixture.bus.publish(event)
        #expect(try await eventually { try await fixture.bus.messageCount(queue: first) == 1 })
        #expect(try await eventually { try await fixture.bus.messageCount(queue: second) >= 1 })
        await #expect(throws: AMQPError.unroutable(exchange: "", routingKey: "")) {
            var command = try OutgoingMessage.command(Note(text: "y"), context: MessageContext())
            command.routingKey = "test.nobody.\(UUID().uuidString)"
            try await fixture.bus.publish(command)
        }
        await fixture.tearDown()
    }
}
