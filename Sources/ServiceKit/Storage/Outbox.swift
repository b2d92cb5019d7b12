import Foundation
import GRDB
import Logging
import Metrics
import ServiceLifecycle

/// The transactional outbox and inbox of one service database, and the relay that publishes the outbox.
///
/// A handler's state change, the id of the message it consumed and the messages it publishes commit in one
/// SQLite transaction; the relay then publishes with confirms and deletes what the broker confirmed. A crash
/// between commit and publish therefore loses nothing, and a redelivered message has no second effect.
public final class Outbox: Service, Sendable {
    private let database: any DatabaseWriter
    private let bus: any MessageBus
    private let logger: Logger
    private let signal = WakeSignal()
    private let batchSize: Int
    private let idleInterval: Duration
    private let inboxRetention: TimeInterval
    private let published = Counter(label: "aiwf_outbox_published_total")
    private let failures = Counter(label: "aiwf_outbox_publish_failures_total")

    /// - Parameters:
    ///   - idleInterval: how often the relay looks for work when nobody woke it.
    ///   - inboxRetention: how long consumed message ids are remembered; longer than any redelivery can take.
    public init(
        database: any DatabaseWriter,
        bus: any MessageBus,
        logger: Logger,
        batchSize: Int = 256,
        idleInterval: Duration = .seconds(1),
        inboxRetention: TimeInterval = 7 * 24 * 3600
    ) {
        self.database = database
        self.bus = bus
        self.logger = logger
        self.batchSize = batchSize
        self.idleInterval = idleInterval
        self.inboxRetention = inboxRetention
    }

    // MARK: Writing

    /// Adds messages to the outbox inside the caller's transaction.
    public static func enqueue(_ messages: [OutgoingMessage], in db: Database) throws {
        for message in messages {
            var record = OutboxRecord(message)
            try record.insert(db)
        }
    }

    /// Records that `consumer` handled `messageID`; false when it already had, so the effect must be skipped.
    public static func claim(messageID: String, consumer: String, in db: Database) throws -> Bool {
        try InboxRecord(messageID: messageID, consumer: consumer, processedAt: Date()).insert(db, onConflict: .ignore)
        return db.changesCount > 0
    }

    /// Applies `body` once per message and consumer: the inbox claim, the state change and the returned messages
    /// commit together, then the relay is woken. Returns false when the message had already been handled.
    @discardableResult
    public func handleOnce(
        _ message: IncomingMessage,
        consumer: String,
        _ body: @escaping @Sendable (Database) throws -> [OutgoingMessage]
    ) async throws -> Bool {
        let applied = try await database.write { db -> Bool in
            guard try Self.claim(messageID: message.header.id.uuidString, consumer: consumer, in: db) else { return false }
            try Self.enqueue(try body(db), in: db)
            return true
        }
        if applied { wake() }
        return applied
    }

    /// Commits a state change together with the messages it publishes (for changes not caused by a message).
    public func commit<Result: Sendable>(
        _ body: @escaping @Sendable (Database) throws -> (Result, [OutgoingMessage])
    ) async throws -> Result {
        let result = try await database.write { db -> Result in
            let (result, messages) = try body(db)
            try Self.enqueue(messages, in: db)
            return result
        }
        wake()
        return result
    }

    // MARK: Relaying

    /// Asks the relay to publish now instead of at its next idle check.
    public func wake() {
        signal.signal()
    }

    /// The number of messages not yet confirmed by the broker.
    public func pendingCount() async throws -> Int {
        try await database.read { db in try OutboxRecord.fetchCount(db) }
    }

    /// Publishes the outbox until graceful shutdown, then publishes what is left once more.
    public func run() async throws {
        var lastPrune = ContinuousClock.now - .seconds(3600)
        try await withGracefulShutdownHandler {
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                let (sent, failed) = try await relayPending()
                if sent == 0 || failed > 0 { await signal.wait(timeout: idleInterval) }
                if ContinuousClock.now - lastPrune > .seconds(600) {
                    try await pruneInbox()
                    lastPrune = .now
                }
            }
        } onGracefulShutdown: {
            self.wake()
        }
        _ = try await relayPending()
    }

    /// Publishes one batch, oldest first; returns how many were confirmed and how many failed.
    @discardableResult
    public func relayPending() async throws -> (sent: Int, failed: Int) {
        let records = try await database.read { [batchSize] db in
            try OutboxRecord.order(OutboxRecord.Columns.id).limit(batchSize).fetchAll(db)
        }
        guard !records.isEmpty else { return (0, 0) }
        let bus = self.bus
        let outcomes = await withTaskGroup(of: (Int64, String?).self) { group in
            for record in records {
                group.addTask {
                    do {
                        try await bus.publish(record.message)
                        return (record.id!, nil)
                    } catch {
                        return (record.id!, "\(error)")
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let confirmed = outcomes.filter { $0.1 == nil }.map(\.0)
        let failed = outcomes.compactMap { id, error in error.map { (id, $0) } }
        try await database.write { db in
            _ = try OutboxRecord.deleteAll(db, keys: confirmed)
            for (id, error) in failed {
                try OutboxRecord.filter(key: id).updateAll(
                    db,
                    [
                        OutboxRecord.Columns.attempts.set(to: OutboxRecord.Columns.attempts + 1),
                        OutboxRecord.Columns.lastError.set(to: error),
                    ]
                )
            }
        }
        published.increment(by: confirmed.count)
        if !failed.isEmpty {
            failures.increment(by: failed.count)
            logger.error(
                "outbox messages not published; will retry", metadata: ["count": "\(failed.count)", "first_error": "\(failed[0].1)"])
        }
        return (confirmed.count, failed.count)
    }

    private func pruneInbox() async throws {
        let cutoff = Date().addingTimeInterval(-inboxRetention)
        let removed = try await database.write { db in
            try InboxRecord.filter(InboxRecord.Columns.processedAt < cutoff).deleteAll(db)
        }
        if removed > 0 { logger.debug("pruned inbox", metadata: ["removed": "\(removed)"]) }
    }
}
