import Foundation
import GRDB
import Logging
import RuntimeSupport

/// Forgets what is no longer needed, so the database does not grow for ever: review links past their expiry,
/// notifications sent or given up, fired timers, and activity older than the feed shows. Approvals themselves stay.
struct Retention: Sendable {
    let database: any DatabaseWriter
    let logger: Logger
    /// How long spent rows (links, notifications, timers) are kept, for an operator looking into a problem.
    var spentRows: TimeInterval = 30 * 86_400
    /// How long activity entries are kept.
    var activity: TimeInterval = 90 * 86_400

    /// Deletes what is past its retention at `now`; returns how many rows went.
    @discardableResult
    func prune(now: Date = Date()) async throws -> Int {
        let spent = now.addingTimeInterval(-spentRows)
        let old = now.addingTimeInterval(-activity)
        return try await database.write { db in
            try db.execute(sql: "DELETE FROM reviewLink WHERE expiresAt < ? OR usedAt < ?", arguments: [spent, spent])
            var removed = db.changesCount
            try db.execute(sql: "DELETE FROM notification WHERE sentAt < ? OR failedAt < ?", arguments: [spent, spent])
            removed += db.changesCount
            try db.execute(sql: "DELETE FROM timer WHERE firedAt < ?", arguments: [spent])
            removed += db.changesCount
            try db.execute(sql: "DELETE FROM activity WHERE createdAt < ?", arguments: [old])
            return removed + db.changesCount
        }
    }

    /// Prunes once an hour until cancelled.
    func run() async {
        await DueLoop("pruning approval rows", idleCheck: .seconds(3600), logger: logger).run {
            let removed = try await prune()
            if removed > 0 { logger.info("pruned approval rows past their retention", metadata: ["rows": "\(removed)"]) }
            return nil
        }
    }
}
