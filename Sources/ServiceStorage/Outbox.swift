import AMQPClient
import Foundation
import GRDB
import Logging
import Messaging
import Metrics
import RuntimeSupport
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
    private let maximumAttempts: Int
    private let retryBackoff: Backoff
    /// Told of each message once the broker confirmed it (a service's own account of what happened).
    private let onPublished: (@Sendable (OutgoingMessage) -> Void)?
    private let published = Counter(label: "aiwf_outbox_published_total")
    private let failingGauge = Gauge(label: "aiwf_outbox_failing_records")
    private let parkedGauge = Gauge(label: "aiwf_outbox_parked_records")
    private let attemptsGauge = Gauge(label: "aiwf_outbox_most_attempts")

    /// - Parameters:
    ///   - idleInterval: how often the relay looks for work when nobody woke it.
    ///   - inboxRetention: how long consumed message ids are remembered; longer than any redelivery can take.
    ///   - maximumAttempts: how often a message that is itself the problem is tried before it is parked.
    ///   - retryBackoff: how long a failed record (and its stream) waits before the next try.
    ///   - onPublished: called with each message the broker confirmed, after the commit that made it.
    public init(
        database: any DatabaseWriter,
        bus: any MessageBus,
        logger: Logger,
        batchSize: Int = 256,
        idleInterval: Duration = .seconds(1),
        inboxRetention: TimeInterval = 7 * 24 * 3600,
        maximumAttempts: Int = 10,
        retryBackoff: Backoff = Backoff(initial: .seconds(1), maximum: .seconds(60)),
        onPublished: (@Sendable (OutgoingMessage) -> Void)? = nil
    ) {
        self.onPublished = onPublished
        self.maximumAttempts = max(1, maximumAttempts)
        self.retryBackoff = retryBackoff
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

    /// Inside the caller's transaction: claims `messageID` for `consumer` and, unless it was handled before, applies
    /// `body` and enqueues what it returns. Returns whether it applied.
    public static func applyOnce(
        messageID: String, consumer: String, _ body: (Database) throws -> [OutgoingMessage], in db: Database
    ) throws -> Bool {
        guard try claim(messageID: messageID, consumer: consumer, in: db) else { return false }
        try enqueue(try body(db), in: db)
        return true
    }

    /// Applies `body` once per message and consumer: the inbox claim, the state change and the returned messages
    /// commit together, then the relay is woken. Returns false when the message had already been handled.
    @discardableResult
    public func handleOnce(
        _ message: IncomingMessage,
        consumer: String,
        _ body: @escaping @Sendable (Database) throws -> [OutgoingMessage]
    ) async throws -> Bool {
        let applied = try await database.write { db in
            try Self.applyOnce(messageID: message.header.id.uuidString, consumer: consumer, body, in: db)
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
        let loop = DueLoop("relaying the outbox", idleCheck: idleInterval, signal: signal, minimumWait: .zero, logger: logger)
        await withGracefulShutdownHandler {
            await loop.run(while: { !Task.isShuttingDownGracefully }) {
                let (sent, failed) = try await relayPending()
                if ContinuousClock.now - lastPrune > .seconds(600) {
                    try await pruneInbox()
                    lastPrune = .now
                }
                // A full pass may have left more behind: go again at once. Otherwise wait to be woken by a commit,
                // or for the idle check that also picks up records whose backoff ran out.
                return sent > 0 && failed == 0 ? Date() : nil
            }
        } onGracefulShutdown: {
            self.wake()
        }
        _ = try await relayPending()
    }

    /// Publishes one batch, oldest first; returns how many were confirmed and how many failed.
    ///
    /// Records are grouped by stream (one project, one approval): a stream's records go out in the order they were
    /// committed, pipelined; the streams go out side by side. A record that failed makes its stream wait out the
    /// record's backoff and then go one record at a time, so nothing of that stream overtakes it, while the other
    /// streams carry on. A failure that is the message's own (unroutable, refused, invalid) counts toward
    /// ``maximumAttempts``; after that the record is parked for an operator and its stream moves on. A broker that is
    /// down is nobody's failure: it is retried without counting.
    @discardableResult
    public func relayPending(now: Date = Date()) async throws -> (sent: Int, failed: Int) {
        // Records that may go now: not parked, and neither they nor an earlier record of their stream waiting out a
        // backoff (so a stream held back never fills the batch and starves the others).
        let records = try await database.read { [batchSize] db in
            try OutboxRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM outbox AS o WHERE o.parkedAt IS NULL AND NOT EXISTS (
                        SELECT 1 FROM outbox AS e WHERE e.parkedAt IS NULL AND e.nextAttemptAt > ? AND e.id <= o.id
                            AND (e.id = o.id OR e.stream = o.stream))
                    ORDER BY o.id LIMIT ?
                    """, arguments: [now, batchSize])
        }
        guard !records.isEmpty else { return (0, 0) }
        var streams: [String: [OutboxRecord]] = [:]
        var order: [String] = []
        for record in records {
            if streams[record.streamKey] == nil { order.append(record.streamKey) }
            streams[record.streamKey, default: []].append(record)
        }
        let bus = self.bus
        let outcomes = await withTaskGroup(of: [(OutboxRecord, (any Error)?)].self) { group in
            for key in order {
                guard let stream = streams[key], let first = stream.first else { continue }
                group.addTask {
                    guard first.attempts > 0 else {
                        return Array(zip(stream, await bus.publishEach(stream.map(\.message))))
                    }
                    var results: [(OutboxRecord, (any Error)?)] = []
                    for record in stream {
                        let error = await bus.publishEach([record.message]).first ?? nil
                        results.append((record, error))
                        if error != nil { break }
                    }
                    return results
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        let confirmed = outcomes.filter { $0.1 == nil }.compactMap(\.0.id)
        let failed = outcomes.compactMap { record, error in error.map { (record, $0) } }
        let parked = try await database.write { [maximumAttempts, retryBackoff] db -> [OutboxRecord] in
            _ = try OutboxRecord.deleteAll(db, keys: confirmed)
            var parked: [OutboxRecord] = []
            for (record, error) in failed {
                var record = record
                let counts = Self.isTheMessagesFault(error)
                if counts { record.attempts += 1 }
                record.lastError = "\(error)"
                if counts, record.attempts >= maximumAttempts || Self.isPermanent(error) {
                    record.parkedAt = now
                    parked.append(record)
                } else {
                    record.nextAttemptAt = now.addingTimeInterval(retryBackoff.delay(after: max(record.attempts, 1)).seconds)
                }
                try record.update(db)
            }
            return parked
        }
        published.increment(by: confirmed.count)
        if let onPublished {
            for (record, error) in outcomes where error == nil { onPublished(record.message) }
        }
        for (_, error) in failed {
            Counter(label: "aiwf_outbox_publish_failures_total", dimensions: [("reason", Self.reason(error))]).increment()
        }
        for record in parked {
            logger.error(
                "outbox message parked: it keeps failing; publish it by hand or delete it",
                metadata: [
                    "message_id": "\(record.messageID)", "exchange": "\(record.exchange)", "routing_key": "\(record.routingKey)",
                    "attempts": "\(record.attempts)", "last_error": "\(record.lastError ?? "")",
                ])
        }
        if !failed.isEmpty {
            logger.warning(
                "outbox messages not published; will retry", metadata: ["count": "\(failed.count)", "first_error": "\(failed[0].1)"])
        }
        // The gauges change only when something failed, or a record that had failed went out at last.
        if !failed.isEmpty || outcomes.contains(where: { $0.0.attempts > 0 }) { try await reportGauges() }
        return (confirmed.count, failed.count)
    }

    /// The records parked for an operator, oldest first.
    public func parked() async throws -> [(messageID: String, attempts: Int, lastError: String?)] {
        try await database.read { db in
            try OutboxRecord.filter(OutboxRecord.Columns.parkedAt != nil).order(OutboxRecord.Columns.id).fetchAll(db)
                .map { ($0.messageID, $0.attempts, $0.lastError) }
        }
    }

    private func reportGauges() async throws {
        let (failing, parked, worst) = try await database.read { db in
            (
                try OutboxRecord.filter(OutboxRecord.Columns.parkedAt == nil && OutboxRecord.Columns.attempts > 0).fetchCount(db),
                try OutboxRecord.filter(OutboxRecord.Columns.parkedAt != nil).fetchCount(db),
                try Int.fetchOne(db, sql: "SELECT MAX(attempts) FROM outbox WHERE parkedAt IS NULL") ?? 0
            )
        }
        failingGauge.record(failing)
        parkedGauge.record(parked)
        attemptsGauge.record(worst)
    }

    /// Whether `error` is about this message (sending it again unchanged may keep failing) rather than the broker.
    static func isTheMessagesFault(_ error: any Error) -> Bool {
        guard let error = error as? AMQPError else { return true }
        return [.unroutable, .nacked, .invalidMessage, .unknownExchange, .channelClosed].contains(error.code)
    }

    /// Whether `error` can never go away by sending the same message again.
    static func isPermanent(_ error: any Error) -> Bool {
        (error as? AMQPError)?.code == .invalidMessage
    }

    private static func reason(_ error: any Error) -> String {
        (error as? AMQPError)?.code.description ?? "other"
    }

    private func pruneInbox() async throws {
        let cutoff = Date().addingTimeInterval(-inboxRetention)
        let removed = try await database.write { db in
            try InboxRecord.filter(InboxRecord.Columns.processedAt < cutoff).deleteAll(db)
        }
        if removed > 0 { logger.debug("pruned inbox", metadata: ["removed": "\(removed)"]) }
    }
}
