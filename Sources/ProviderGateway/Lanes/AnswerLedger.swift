import AMQPClient
import Contracts
import Foundation
import GRDB
import Logging
import Messaging
import RuntimeSupport

/// Every answer this replica published, by the request message it answered: the local usage ledger, and how a
/// redelivered request is answered again from what was stored instead of by a second provider call.
///
/// The answer is recorded while it is being published and the request is acknowledged after both, so the provider
/// call stays off the database's critical path. A crash in that window at worst calls the provider again; the
/// answer carries the request's idempotency key, so its consumer applies it once.
struct AnswerLedger: Sendable {
    let database: any DatabaseWriter
    /// How long answers are kept.
    var retention: TimeInterval = 7 * 24 * 3600

    static func migrate(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("answers-v1") { db in
            try db.create(table: "answer") { table in
                table.primaryKey("requestMessageID", .text)
                table.column("requestID", .text).notNull().indexed()
                table.column("outcome", .text).notNull()
                table.column("provider", .text)
                table.column("model", .text)
                table.column("tokensIn", .integer).notNull()
                table.column("tokensOut", .integer).notNull()
                table.column("cost", .double).notNull()
                table.column("answeredAt", .datetime).notNull().indexed()
                table.column("messageID", .text).notNull()
                table.column("routingKey", .text).notNull()
                table.column("body", .blob).notNull()
                table.column("type", .text)
            }
        }
    }

    /// The answer already published for the request message `messageID`, if any.
    ///
    /// Read on the database's own queue, so a slow disk never blocks a thread of the cooperative pool.
    func answer(to messageID: UUID) async throws -> OutgoingMessage? {
        try await database.read { db in try AnswerRecord.fetchOne(db, key: messageID.uuidString) }?.message
    }

    /// Records `answer` to `request`.
    func record(_ answer: OutgoingMessage, outcome: GenerationResult, answering request: IncomingMessage) async throws {
        let record = AnswerRecord(answer, outcome: outcome, requestMessageID: request.header.id.uuidString)
        try await database.write { db in try record.insert(db, onConflict: .replace) }
    }

    /// Forgets answers older than the retention.
    @discardableResult
    func prune(now: Date = Date()) async throws -> Int {
        let cutoff = now.addingTimeInterval(-retention)
        return try await database.write { db in try AnswerRecord.filter(Column("answeredAt") < cutoff).deleteAll(db) }
    }

    /// Prunes once an hour until cancelled.
    func pruneRegularly(logger: Logger) async {
        await DueLoop("pruning the answer ledger", idleCheck: .seconds(3600), logger: logger).run {
            _ = try await prune()
            return nil
        }
    }
}

/// One published answer and the usage it reports.
struct AnswerRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "answer"

    var requestMessageID: String
    var requestID: String
    var outcome: String
    var provider: String?
    var model: String?
    var tokensIn: Int
    var tokensOut: Int
    var cost: Double
    var answeredAt: Date
    var messageID: String
    var routingKey: String
    var body: Data
    var type: String?

    init(_ answer: OutgoingMessage, outcome: GenerationResult, requestMessageID: String, at date: Date = Date()) {
        self.requestMessageID = requestMessageID
        self.answeredAt = date
        self.messageID = answer.messageID
        self.routingKey = answer.routingKey
        self.body = answer.body
        self.type = answer.type
        switch outcome {
        case .generated(let event):
            (requestID, self.outcome, provider, model) = (event.requestID, "generated", event.provider, event.model)
            (tokensIn, tokensOut, cost) = (event.tokensIn, event.tokensOut, event.cost)
        case .failed(let event):
            (requestID, self.outcome, provider, model) = (event.requestID, "failed", nil, nil)
            (tokensIn, tokensOut, cost) = (0, 0, 0)
        }
    }

    /// The answer as it was published: an event on `aiwf.events`.
    var message: OutgoingMessage {
        OutgoingMessage(exchange: Exchange.events, routingKey: routingKey, body: body, messageID: messageID, type: type)
    }
}
