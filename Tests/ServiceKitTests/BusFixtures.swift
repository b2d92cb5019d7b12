import Contracts
import Foundation
import GRDB
import Logging

@testable import AMQPClient
@testable import Messaging
@testable import ServiceStorage

/// A command and request the tests send.
struct Note: Command, Request {
    static let type = "test.note.v1"
    typealias Reply = NoteReply
    var text: String
}

struct NoteReply: Codable, Sendable, Equatable {
    var echoed: String
}

/// A refusal a request handler sends back.
struct NoteRefused: ReplyableError {
    var code: String { "refused" }
    var message: String
}

/// The two bus implementations, so each behaviour is checked on both.
enum BusKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case amqp, inMemory
    var description: String { rawValue }
}

/// A bus for one test, and how to clean up after it.
struct BusFixture: Sendable {
    let bus: any MessageBus
    private let amqp: AMQPBus?
    private let queues: [String]

    init(_ kind: BusKind, name: String, topology: Topology) async throws {
        switch kind {
        case .amqp:
            let amqp = AMQPBus(url: TestBroker.url, serviceName: name, logger: TestBroker.logger)
            self.amqp = amqp
            self.bus = amqp
        case .inMemory:
            self.amqp = nil
            self.bus = InMemoryBus(logger: TestBroker.logger)
        }
        self.queues = topology.queues.map(\.name)
        try await bus.declare(Topology.standardExchanges + topology)
    }

    /// Deletes the test's queues and closes the connections.
    func tearDown() async {
        guard let amqp else { return }
        for queue in queues { try? await amqp.delete(queue: queue) }
        await amqp.close()
    }

    /// An envelope around `note`, sent straight to `queue`.
    static func message(_ note: Note, to queue: String) throws -> OutgoingMessage {
        var message = try OutgoingMessage.command(note, context: MessageContext())
        message.exchange = Exchange.default
        message.routingKey = queue
        return message
    }
}

/// A database whose only state is how often each message had its effect.
struct EffectLedger: Sendable {
    let database: any DatabaseWriter

    init(path: String? = nil) throws {
        let migrations: (inout DatabaseMigrator) -> Void = { migrator in
            migrator.registerMigration("effects") { db in
                try db.execute(sql: "CREATE TABLE effects (messageID TEXT PRIMARY KEY, count INTEGER NOT NULL)")
            }
        }
        if let path {
            database = try ServiceDatabase.open(at: path, migrations: migrations)
        } else {
            database = try ServiceDatabase.inMemory(migrations: migrations)
        }
    }

    /// The effect: one more for this message.
    static func apply(_ messageID: String, in db: Database) throws {
        try db.execute(
            sql: "INSERT INTO effects (messageID, count) VALUES (?, 1) ON CONFLICT(messageID) DO UPDATE SET count = count + 1",
            arguments: [messageID]
        )
    }

    func counts() async throws -> [String: Int] {
        try await database.read { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT messageID, count FROM effects").map { ($0[0], $0[1]) })
        }
    }
}

/// Runs `body` in a child task and cancels it when `work` finished; for consumers that run until cancelled.
func whileRunning<Result: Sendable>(
    _ body: @escaping @Sendable () async throws -> Void,
    _ work: () async throws -> Result
) async throws -> Result {
    let task = Task { try await body() }
    defer { task.cancel() }
    return try await work()
}

/// Counts events and lets a test await a number of them.
actor EventCounter {
    private var count = 0
    private var waiters: [(Int, CheckedContinuation<Void, Never>)] = []

    func increment() {
        count += 1
        waiters.removeAll { target, continuation in
            guard count >= target else { return false }
            continuation.resume()
            return true
        }
    }

    var value: Int { count }

    func wait(for target: Int) async {
        if count >= target { return }
        await withCheckedContinuation { waiters.append((target, $0)) }
    }
}
