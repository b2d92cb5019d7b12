import Contracts
import Foundation
import ServiceTestSupport
import Synchronization
import Testing

@testable import AMQPClient
@testable import Messaging
@testable import RuntimeSupport

/// Deliveries a consumer had buffered when its connection dropped went back to the queue with it: they are never
/// handled from the buffer as well, or the work would be done twice (a provider paid twice).
@Suite("Stale deliveries", .timeLimit(.minutes(1)))
struct StaleDeliveryTests {
    final class Counts: Sendable {
        private let state = Mutex<[String: Int]>([:])
        func add(_ id: String) { state.withLock { $0[id, default: 0] += 1 } }
        var value: [String: Int] { state.withLock { $0 } }
    }

    @Test func deliveriesBufferedBeforeAReconnectAreDroppedAndHandledOnceAfterIt() async throws {
        let queue = TestBroker.uniqueName("stale")
        let name = "test.stale.\(UUID().uuidString.prefix(8))"
        let fixture = try await BusFixture(.amqp, name: name, topology: .workQueue(queue, kind: .classic))
        let bus = try #require(fixture.bus as? AMQPBus)
        let messages = try (0..<10).map { try BusFixture.message(Note(text: "\($0)"), to: queue) }
        let counts = Counts()
        let firstStarted = Latch()
        let release = Latch()
        try await whileRunning({
            try await bus.consume(queue: queue, options: ConsumeOptions(prefetch: 20, concurrency: 1)) { message in
                counts.add(message.header.id.uuidString)
                if message.header.id.uuidString == messages[0].messageID, !message.redelivered {
                    firstStarted.open()
                    await release.wait()
                }
            }
        }) {
            try await bus.publish(messages)
            await firstStarted.wait()
            // The other nine are in the consumer's buffer once none is left ready in the queue.
            #expect(try await eventually { try await bus.messageCount(queue: queue) == 0 })
            try await BrokerControl.closeConnections(named: "\(name).consume")
            #expect(try await eventually { bus.consumer.isConnected && bus.consumer.generation > 1 })
            release.open()
            #expect(try await eventually { counts.value.count == 10 })
            // One consumer, in order: once a message sent last is handled, every buffered one was dealt with.
            let last = try BusFixture.message(Note(text: "last"), to: queue)
            try await bus.publish(last)
            #expect(try await eventually { counts.value[last.messageID] == 1 })
        }
        let seen = counts.value
        for message in messages.dropFirst() {
            #expect(seen[message.messageID] == 1, "handled \(seen[message.messageID] ?? 0) times")
        }
        await fixture.tearDown()
    }
}
