import Contracts
import Foundation
import GRDB
import Logging
import Metrics
import RuntimeSupport

/// Sends the notification outbox: each email and webhook until it succeeds, with exponential backoff between
/// attempts, and gives up (marked failed, logged, counted) after `maxAttempts`. A notification is marked sent only
/// after its delivery succeeded, so a restart in between sends it again rather than never.
struct NotificationDispatcher: Sendable {
    let database: any DatabaseWriter
    let links: ReviewLinks
    let mailer: any Mailer
    let webhooks: WebhookSender
    let portalURL: String
    let mailFrom: String
    let signal: WakeSignal
    let logger: Logger
    var maxAttempts = 12
    var firstBackoff: Duration = .seconds(2)
    var longestBackoff: Duration = .seconds(600)
    var idleCheck: Duration = .seconds(5)
    var linkLifetime: TimeInterval = 7 * 86_400

    private static let sent = Counter(label: "aiwf_notifications_sent_total")
    private static let failedAttempts = Counter(label: "aiwf_notification_attempts_failed_total")
    private static let abandoned = Counter(label: "aiwf_notifications_failed_total")

    /// Sends until cancelled.
    func run() async {
        await DueLoop("sending notifications", idleCheck: idleCheck, signal: signal, logger: logger).run { try await sendDue() }
    }

    /// Sends every notification that is due; returns when the next one is.
    @discardableResult
    func sendDue(now: Date = Date()) async throws -> Date? {
        let (due, approvals) = try await database.read { db in
            let due = try NotificationRecord.filter(Column("sentAt") == nil && Column("failedAt") == nil && Column("nextAttemptAt") <= now)
                .order(Column("nextAttemptAt")).limit(32).fetchAll(db)
            let approvals = try Approval.fetchAll(db, keys: Set(due.map(\.approvalID)))
            return (due, Dictionary(approvals.map { ($0.id, $0) }, uniquingKeysWith: { $1 }))
        }
        for notification in due { await attempt(notification, about: approvals[notification.approvalID]) }
        return try await database.read { db in
            try Date.fetchOne(
                db,
                NotificationRecord.filter(Column("sentAt") == nil && Column("failedAt") == nil).select(min(Column("nextAttemptAt"))))
        }
    }

    private func attempt(_ notification: NotificationRecord, about approval: Approval?) async {
        var notification = notification
        do {
            try await deliver(notification, about: approval)
            notification.sentAt = Date()
            notification.lastError = nil
            Self.sent.increment()
        } catch {
            notification.attempts += 1
            notification.lastError = "\(error)"
            Self.failedAttempts.increment()
            if notification.attempts >= maxAttempts {
                notification.failedAt = Date()
                Self.abandoned.increment()
                logger.error(
                    "notification given up",
                    metadata: ["channel": "\(notification.channel.rawValue)", "attempts": "\(notification.attempts)", "error": "\(error)"])
            } else {
                notification.nextAttemptAt = Date().addingTimeInterval(backoff(after: notification.attempts).seconds)
                logger.warning(
                    "notification not sent; will retry",
                    metadata: ["channel": "\(notification.channel.rawValue)", "attempt": "\(notification.attempts)", "error": "\(error)"])
            }
        }
        let settled = notification
        do {
            try await database.write { db in try settled.update(db) }
        } catch {
            logger.error("notification state not saved", metadata: ["error": "\(error)"])
        }
    }

    /// The same dispatcher with another first backoff (tests wait less).
    func withBackoff(_ first: Duration) -> NotificationDispatcher {
        var copy = self
        copy.firstBackoff = first
        return copy
    }

    /// Exponential with jitter: 2 s, 4 s, 8 s … up to 10 minutes.
    func backoff(after attempts: Int) -> Duration {
        Backoff(initial: firstBackoff, maximum: longestBackoff, jitter: 0.1).delay(after: attempts)
    }

    private func deliver(_ notification: NotificationRecord, about approval: Approval?) async throws {
        guard let approval else { throw ApprovalRefusal.notFound("approval \(notification.approvalID) no longer exists") }
        let delivery = "\(notification.approvalID)-\(notification.id ?? 0)"
        switch notification.channel {
        case .email:
            let lifetime = linkLifetime
            let token = try await database.write { db in
                try links.issue(
                    approvalID: approval.id, email: notification.recipient,
                    expiresAt: min(approval.expiresAt ?? .distantFuture, Date().addingTimeInterval(lifetime)), in: db)
            }
            let mail = Mail(
                from: mailFrom, to: notification.recipient, subject: NotificationTexts.subject(notification.kind, approval),
                body: NotificationTexts.body(notification.kind, approval, link: "\(portalURL)/review/\(token)"),
                messageID: "\(delivery)@aiwf", date: notification.createdAt)
            try await mailer.send(mail)
        case .webhook:
            let payload = WebhookPayload(
                id: delivery, type: "approval.\(notification.kind.rawValue)", occurredAt: notification.createdAt, approval: approval.view)
            try await webhooks.send(
                to: notification.recipient, event: payload.type, delivery: delivery, body: try MessageCoder().encode(payload))
        }
    }
}

/// The JSON body of a webhook.
struct WebhookPayload: Codable, Equatable {
    var id: String
    var type: String
    var occurredAt: Date
    var approval: ApprovalView
}
