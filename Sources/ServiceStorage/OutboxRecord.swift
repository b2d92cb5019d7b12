import AMQPClient
import Foundation
import GRDB

/// A message committed with a state change and not yet confirmed by the broker.
struct OutboxRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "outbox"

    var id: Int64?
    var messageID: String
    var exchange: String
    var routingKey: String
    var body: Data
    var mandatory: Bool
    var persistent: Bool
    var type: String?
    var correlationID: String?
    var createdAt: Date
    var attempts: Int
    var lastError: String?
    var stream: String?
    var shardKey: String?
    /// Not before this moment (a record that failed waits out its backoff).
    var nextAttemptAt: Date?
    /// Given up on after too many failures; left for an operator, no longer sent.
    var parkedAt: Date?

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let attempts = Column(CodingKeys.attempts)
        static let lastError = Column(CodingKeys.lastError)
        static let nextAttemptAt = Column(CodingKeys.nextAttemptAt)
        static let parkedAt = Column(CodingKeys.parkedAt)
    }

    init(_ message: OutgoingMessage, at date: Date = Date()) {
        self.messageID = message.messageID
        self.exchange = message.exchange
        self.routingKey = message.routingKey
        self.body = message.body
        self.mandatory = message.mandatory
        self.persistent = message.persistent
        self.type = message.type
        self.correlationID = message.correlationID
        self.createdAt = date
        self.attempts = 0
        self.stream = message.stream
        self.shardKey = message.shardKey
    }

    var message: OutgoingMessage {
        OutgoingMessage(
            exchange: exchange, routingKey: routingKey, body: body, messageID: messageID, mandatory: mandatory,
            persistent: persistent, correlationID: correlationID, type: type, shardKey: shardKey
        )
    }

    /// Records of one stream keep their order; a record without a stream is a stream of its own.
    var streamKey: String { stream ?? "message:\(messageID)" }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// Which consumed messages already had their effect, per consumer.
struct InboxRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "inbox"

    var messageID: String
    var consumer: String
    var processedAt: Date

    enum Columns {
        static let processedAt = Column(CodingKeys.processedAt)
    }
}
