import Contracts
import Foundation
import Synchronization
import Testing

@testable import AMQPClient
@testable import Messaging

/// StageService's shards sit behind a consistent-hash exchange fed by a shared exchange: every message about one
/// project reaches one shard, and messages that name no project are not spread at random either.
@Suite("Shard routing", .timeLimit(.minutes(2)))
struct ShardRoutingTests {
    @Test(arguments: BusKind.allCases)
    func messagesWithOneShardKeyAlwaysReachTheSameOneOfTwoQueues(kind: BusKind) async throws {
        let hash = TestBroker.uniqueName("shards")
        let routingKey = TestBroker.uniqueName("route")
        let queues = [hash + ".0", hash + ".1"]
        let topology =
            Topology(
                exchanges: [ExchangeSpec(name: hash, kind: .consistentHash)],
                exchangeBindings: [ExchangeBindingSpec(destination: hash, source: Exchange.commands, routingKey: routingKey)])
            + queues.map { Topology.workQueue($0, kind: .classic, bindings: [(hash, "1")]) }.reduce(Topology(), +)
        let fixture = try await BusFixture(kind, name: "test.shards", topology: topology)

        let keys = (0..<20).map { "project-\($0)" }
        var messages: [OutgoingMessage] = []
        for key in keys + keys {
            var message = try OutgoingMessage.command(Note(text: key), context: MessageContext(shardKey: key))
            message.routingKey = routingKey
            messages.append(message)
        }
        // Messages that name no project all go one way too (RabbitMQ hashes the missing header like any value).
        for _ in 0..<3 {
            var unkeyed = try OutgoingMessage.command(Note(text: ""), context: MessageContext())
            unkeyed.routingKey = routingKey
            messages.append(unkeyed)
        }
        try await fixture.bus.publish(messages)

        let seen = SeenRoutes()
        let handled = EventCounter()
        try await whileRunning({
            try await withThrowingTaskGroup(of: Void.self) { group in
                for queue in queues {
                    group.addTask {
                        try await fixture.bus.consume(queue: queue) { message in
                            let key = message.header.shardKey ?? ""
                            let text = try message.decode(Note.self).payload.text
                            #expect(text == key)
                            seen.routes.withLock { _ = $0[key, default: []].insert(message.queue) }
                            await handled.increment()
                        }
                    }
                }
                try await group.waitForAll()
            }
        }) {
            await handled.wait(for: messages.count)
        }
        let routes = seen.routes.withLock { $0 }
        #expect(Set(routes.keys) == Set(keys + [""]))
        #expect(routes.values.allSatisfy { $0.count == 1 }, "each key to one queue only: \(routes)")
        #expect(Set(routes.values.flatMap { $0 }) == Set(queues), "both queues own some keys")

        await fixture.tearDown()
    }

    @Test func aResultTakesTheShardKeyOfTheRequestThatCausedIt() throws {
        let request = try OutgoingMessage.command(Note(text: "ask"), context: MessageContext(shardKey: "project-7"))
        let incoming = try IncomingMessage(body: request.body, queue: "lane", routingKey: Note.type, redelivered: false, replyTo: nil)
        let answer = try OutgoingMessage.event(Heard(text: "answer"), context: MessageContext(causedBy: incoming))
        #expect(request.shardKey == "project-7")
        #expect(incoming.header.shardKey == "project-7")
        #expect(answer.shardKey == "project-7")
        // A payload that names its project routes by it whatever caused it.
        let decided = try OutgoingMessage.event(
            ApprovalExpired(approvalID: "a", projectID: "project-9", stageRunID: "r", stage: "s", expiredAt: Date()),
            context: MessageContext(causedBy: incoming))
        #expect(decided.shardKey == "project-9")
    }
}

/// Which queues each shard key arrived on.
private final class SeenRoutes: Sendable {
    let routes = Mutex<[String: Set<String>]>([:])
}

private struct Heard: Event {
    static let type = "test.heard.v1"
    var text: String
}
