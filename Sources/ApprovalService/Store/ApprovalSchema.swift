import Contracts
import Foundation
import GRDB

/// The ApprovalService tables: approvals (with their decisions, the audit trail), review links (hashed), durable
/// timers, the notification outbox, and the portal's activity feed.
enum ApprovalSchema {
    static func migrate(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("approvals-v1") { db in
            try db.create(table: "approval") { table in
                table.primaryKey("id", .text)
                table.column("projectID", .text).notNull().indexed()
                table.column("stageRunID", .text).notNull()
                table.column("requestedHash", .text).notNull()
                table.uniqueKey(["stageRunID", "requestedHash"])
                table.column("stage", .text).notNull()
                table.column("approvalType", .text).notNull()
                table.column("state", .text).notNull().indexed()
                table.column("contentHash", .text).notNull()
                table.column("summary", .text).notNull()
                table.column("items", .jsonText).notNull()
                table.column("assignees", .jsonText).notNull()
                table.column("policy", .text).notNull()
                table.column("allowFeedback", .boolean).notNull()
                table.column("escalateTo", .jsonText).notNull()
                table.column("escalatedTo", .jsonText).notNull()
                table.column("requestedAt", .datetime).notNull()
                table.column("remindAt", .datetime)
                table.column("expiresAt", .datetime)
                table.column("decidedAt", .datetime)
                table.column("decisions", .jsonText).notNull()
            }
            try db.create(table: "reviewLink") { table in
                table.primaryKey("tokenHash", .text)
                table.column("approvalID", .text).notNull().indexed()
                table.column("email", .text).notNull()
                table.column("expiresAt", .datetime).notNull()
                table.column("createdAt", .datetime).notNull()
                table.column("usedAt", .datetime)
            }
            try db.create(table: "timer") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("approvalID", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("dueAt", .datetime).notNull()
                table.column("firedAt", .datetime)
            }
            try db.create(index: "timer_due", on: "timer", columns: ["firedAt", "dueAt"])
            try db.create(table: "notification") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("approvalID", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("channel", .text).notNull()
                table.column("recipient", .text).notNull()
                table.column("createdAt", .datetime).notNull()
                table.column("attempts", .integer).notNull().defaults(to: 0)
                table.column("nextAttemptAt", .datetime).notNull()
                table.column("sentAt", .datetime)
                table.column("failedAt", .datetime)
                table.column("lastError", .text)
            }
            try db.create(index: "notification_due", on: "notification", columns: ["sentAt", "failedAt", "nextAttemptAt"])
            try db.create(table: "activity") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("approvalID", .text).notNull()
                table.column("projectID", .text).notNull()
                table.column("audience", .text).notNull().indexed()
                table.column("kind", .text).notNull()
                table.column("text", .text).notNull()
                table.column("createdAt", .datetime).notNull()
            }
        }
    }
}

extension Approval: FetchableRecord, PersistableRecord {
    static let databaseTableName = "approval"
}

/// A review link, known only by the hash of its token.
struct ReviewLinkRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "reviewLink"
    var tokenHash: String
    var approvalID: String
    var email: String
    var expiresAt: Date
    var createdAt: Date
    var usedAt: Date?
}

/// A durable timer: it fires once, after `dueAt`, even when the service was down at that moment.
struct TimerRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "timer"
    enum Kind: String, Codable { case reminder, expiry }
    var id: Int64?
    var approvalID: String
    var kind: Kind
    var dueAt: Date
    var firedAt: Date?

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// What happened that people are told about.
enum NotificationKind: String, Codable, Sendable, CaseIterable {
    case requested, reminder, escalated, decided, expired
}

/// One notification to send, with its retry state. Its text is rendered when it is sent, from the approval as it
/// is then; an email's review link is issued then too, so no usable token is ever stored.
struct NotificationRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "notification"
    enum Channel: String, Codable { case email, webhook }
    var id: Int64?
    var approvalID: String
    var kind: NotificationKind
    var channel: Channel
    var recipient: String
    var createdAt: Date
    var attempts: Int = 0
    var nextAttemptAt: Date
    var sentAt: Date?
    var failedAt: Date?
    var lastError: String?

    init(approvalID: String, kind: NotificationKind, channel: Channel, recipient: String, at now: Date) {
        self.approvalID = approvalID
        self.kind = kind
        self.channel = channel
        self.recipient = recipient
        self.createdAt = now
        self.nextAttemptAt = now
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// An entry of the portal's activity feed for one audience (`user:<id>`, `role:<name>` or `project:<id>`).
struct ActivityRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "activity"
    var id: Int64?
    var approvalID: String
    var projectID: String
    var audience: String
    var kind: NotificationKind
    var text: String
    var createdAt: Date

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
