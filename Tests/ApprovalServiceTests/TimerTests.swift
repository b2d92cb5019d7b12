import Contracts
import Foundation
import GRDB
import Messaging
import Testing

@testable import ApprovalService

@Suite("Durable timers", .timeLimit(.minutes(1)))
struct TimerTests {
    @Test func remindersEscalationAndExpiryFireAfterARestart() async throws {
        let bed = try TestBed()
        defer { bed.remove() }
        let first = try await bed.start()
        // A reminder after one second, expiry after two; escalation to a manager reached by email.
        let request = pagesApproval(
            assignees: [.user("ana")], remindAfterHours: 1.0 / 3600, expireAfterDays: 2.0 / 86_400, escalateTo: [.email("boss@example.com")]
        )
        // A manual clock: the timers are judged at the moments given, not by sleeping through them.
        let start = Date()
        _ = try await first.outbox.commit { db in ((), try first.approvals.create(request, context: MessageContext(), now: start, in: db)) }
        try await first.timers.fireDue(now: start)
        let id = try #require(try await first.approvals.history(of: "project-1").first?.id)
        #expect(
            try await first.approvals.database.read { db in try ActivityRecord.filter(Column("kind") == "reminder").fetchCount(db) } == 0)

        // The service is down while both timers come due, then starts again on the same database.
        let later = start.addingTimeInterval(2.2)
        let second = try await bed.start()
        try await second.timers.fireDue(now: later)
        try await second.outbox.relayPending()

        let database = second.approvals.database
        let reminders = try await database.read { db in try ActivityRecord.filter(Column("kind") == "reminder").fetchAll(db) }
        #expect(reminders.map(\.audience).contains("user:ana"))
        let escalation = try await database.read { db in try NotificationRecord.filter(Column("kind") == "escalated").fetchAll(db) }
        #expect(escalation.map(\.recipient) == ["boss@example.com"])
        let view = try #require(try await second.approvals.history(of: "project-1").first)
        #expect(view.state == .expired && view.escalatedTo == [.email("boss@example.com")])
        #expect(try bed.events(ApprovalExpired.self).map(\.approvalID) == [id])
        do {
            _ = try await second.approvals.decide(
                DecideApproval(approvalID: id, decider: .user("ana"), decision: .approve, contentHash: "h0"))
            Issue.record("a decision after expiry was accepted")
        } catch let refusal as ApprovalRefusal {
            #expect(refusal.code == "not-pending")
        }

        // Each timer fired once: firing again changes nothing.
        try await second.timers.fireDue(now: later.addingTimeInterval(60))
        #expect(try await database.read { db in try ActivityRecord.filter(Column("kind") == "reminder").fetchCount(db) } == reminders.count)
        #expect(try await database.read { db in try TimerRecord.filter(Column("firedAt") == nil).fetchCount(db) } == 0)
    }

    @Test func anApprovalWithoutExpiryWaitsForEver() async throws {
        let bed = try TestBed()
        defer { bed.remove() }
        let service = try await bed.start()
        _ = try await service.outbox.commit { db in ((), try service.approvals.create(pagesApproval(), context: MessageContext(), in: db)) }
        try await service.timers.fireDue(now: Date().addingTimeInterval(10 * 365 * 86_400))
        #expect(try await service.approvals.history(of: "project-1").first?.state == .pending)
        #expect(try await service.approvals.database.read { db in try TimerRecord.fetchCount(db) } == 0)
    }
}
