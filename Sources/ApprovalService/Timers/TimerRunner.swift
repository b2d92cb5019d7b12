import Foundation
import GRDB
import Logging
import RuntimeSupport

/// Fires durable timers when they are due. They are rows, so a timer due while the service was down fires as soon
/// as it is back; a timer fires once, in the same transaction as its effect.
struct TimerRunner: Sendable {
    let database: any DatabaseWriter
    let approvals: Approvals
    let signal: WakeSignal
    let logger: Logger
    var idleCheck: Duration = .seconds(30)

    func run() async {
        await DueLoop("firing timers", idleCheck: idleCheck, signal: signal, logger: logger).run { try await fireDue() }
    }

    /// Fires what is due; returns when the next timer is.
    @discardableResult
    func fireDue(now: Date = Date()) async throws -> Date? {
        let due = try await database.read { db in
            try TimerRecord.filter(Column("firedAt") == nil && Column("dueAt") <= now).order(Column("dueAt")).limit(64).fetchAll(db)
        }
        for timer in due {
            try await approvals.fire(timer, now: now)
            logger.info("timer fired", metadata: ["approval_id": "\(timer.approvalID)", "kind": "\(timer.kind.rawValue)"])
        }
        return try await database.read { db in
            try Date.fetchOne(db, TimerRecord.filter(Column("firedAt") == nil).select(min(Column("dueAt"))))
        }
    }
}
