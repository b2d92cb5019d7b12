import Contracts
import Foundation
import GRDB
import Messaging
import ServiceTestSupport
import Testing

@testable import ApprovalService

@Suite("ApprovalService over the bus", .timeLimit(.minutes(1)))
struct ApprovalServiceTests {
    @Test func aRepeatedRequestIsTheSameApproval() async throws {
        let bed = try TestBed()
        defer { bed.remove() }
        let service = try await bed.start()
        let consuming = Task { try await service.consumeRequests() }
        defer { consuming.cancel() }
        try await bed.bus.send(pagesApproval(), context: MessageContext())
        try await bed.bus.send(pagesApproval(), context: MessageContext())  // a second message, same run and hash
        // Both messages handled (each claimed in the inbox), and still one approval.
        #expect(
            try await eventually {
                try await service.approvals.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox") } == 2
            })
        #expect(try await service.approvals.history(of: "project-1").count == 1)
        try await service.outbox.relayPending()
        #expect(try bed.events(ApprovalRequested.self).count == 1)
        try await bed.bus.send(pagesApproval(hash: "h1"), context: MessageContext())  // new content: a new approval
        #expect(try await eventually { try await service.approvals.history(of: "project-1").count == 2 })
    }

    @Test func decisionsOverRequestReplyAreValidatedAndEmitOneEvent() async throws {
        let bed = try TestBed()
        defer { bed.remove() }
        let service = try await bed.start()
        let tasks = [Task { try await service.consumeRequests() }, Task { try await service.serveDecisions() }]
        defer { tasks.forEach { $0.cancel() } }
        try await bed.bus.send(pagesApproval(), context: MessageContext())
        #expect(try await eventually { try await !service.approvals.pending(ListPendingApprovals(userID: "ana")).isEmpty })
        let pending = try await bed.bus.request(ListPendingApprovals(userID: "ana"))
        let id = try #require(pending.first?.id)
        #expect(try await bed.bus.request(ListPendingApprovals(userID: "bob")).isEmpty)

        await #expect(throws: RemoteError.self) {
            try await bed.bus.request(DecideApproval(approvalID: id, decider: .user("bob"), decision: .approve, contentHash: "h0"))
        }
        do {
            _ = try await bed.bus.request(DecideApproval(approvalID: id, decider: .user("ana"), decision: .approve, contentHash: "stale"))
            Issue.record("a stale hash was accepted")
        } catch let error as RemoteError {
            #expect(error.code == "stale-content")
        }
        let view = try await bed.bus.request(
            DecideApproval(approvalID: id, decider: .user("ana"), decision: .requestChanges, contentHash: "h0", feedback: "Warmer tone"))
        #expect(view.state == .changesRequested)
        do {
            _ = try await bed.bus.request(DecideApproval(approvalID: id, decider: .user("ana"), decision: .approve, contentHash: "h0"))
            Issue.record("a second decision was accepted")
        } catch let error as RemoteError {
            #expect(error.code == "not-pending")
        }
        try await service.outbox.relayPending()
        let decided = try bed.events(ApprovalDecided.self)
        #expect(decided.count == 1)
        #expect(decided.first?.feedback == "Warmer tone" && decided.first?.decidedBy == ["user:ana"])
        let history = try await bed.bus.request(GetApprovalHistory(projectID: "project-1"))
        #expect(history.first?.decisions.map(\.decision) == [.requestChanges])
        let feed = try await bed.bus.request(ListApprovalActivity(userID: "ana"))
        #expect(feed.map(\.kind) == ["requested"])
        #expect(feed.first?.text == "Waiting for approval: pages (content) — Three pages")
        let projectFeed = try await bed.bus.request(ListApprovalActivity(projectID: "project-1"))
        #expect(projectFeed.map(\.kind) == ["decided", "requested"])
        #expect(projectFeed.first?.text == "Approval of pages decided: changes requested")
    }

    @Test func anEmailReviewerDecidesOnceThroughTheLinkInTheirMail() async throws {
        let bed = try TestBed()
        defer { bed.remove() }
        let service = try await bed.start()
        let tasks = [Task { try await service.consumeRequests() }, Task { await service.dispatcher.run() }]
        defer { tasks.forEach { $0.cancel() } }
        try await bed.bus.send(pagesApproval(), context: MessageContext())

        // No SMTP server configured: the mail is an .eml file in the data folder.
        var mails: [URL] = []
        #expect(
            try await eventually {
                mails = (try? FileManager.default.contentsOfDirectory(at: bed.mailFolder, includingPropertiesForKeys: nil)) ?? []
                return !mails.isEmpty
            })
        let mail = try String(contentsOf: try #require(mails.first), encoding: .utf8)
        #expect(mail.contains("To: client@example.com"))
        #expect(mail.contains("Subject: Approval needed: pages of project project-1"))
        let link = try #require(mail.split(separator: "\r\n").first { $0.hasPrefix("http://portal.test/review/") })
        let token = String(link.dropFirst("http://portal.test/review/".count))

        let stored = try await service.approvals.database.read { db in try ReviewLinkRecord.fetchAll(db) }
        #expect(stored.count == 1 && stored[0].tokenHash == ReviewLinks.hash(token) && !stored[0].tokenHash.contains(token))

        let opened = try await service.approvals.open(token)
        #expect(opened.state == .pending)
        let decided = try await service.approvals.decide(
            DecideApproval(approvalID: nil, decider: .reviewLink(token), decision: .approve, contentHash: opened.contentHash))
        #expect(decided.state == .approved && decided.decisions.first?.decidedBy == "email:client@example.com")
        await #expect(throws: ApprovalRefusal(code: "link-used", message: "this review link was already used to decide")) {
            try await service.approvals.decide(
                DecideApproval(approvalID: nil, decider: .reviewLink(token), decision: .approve, contentHash: opened.contentHash))
        }
        var forged = Array(token)
        forged[5] = forged[5] == "A" ? "B" : "A"
        await #expect(throws: ApprovalRefusal.self) { try await service.approvals.open(String(forged)) }
    }

    @Test func everyAcceptedVoteEmitsAnEventAndTheLastOneDecides() async throws {
        let bed = try TestBed()
        defer { bed.remove() }
        let service = try await bed.start()
        let request = pagesApproval(assignees: [.user("ana"), .role("legal")], policy: .all)
        _ = try await service.outbox.commit { db in ((), try service.approvals.create(request, context: MessageContext(), in: db)) }
        let id = try #require(try await service.approvals.history(of: "project-1").first?.id)
        let first = try await service.approvals.decide(
            DecideApproval(approvalID: id, decider: .user("ana"), decision: .approve, contentHash: "h0"))
        #expect(first.state == .pending)
        let last = try await service.approvals.decide(
            DecideApproval(approvalID: id, decider: .user("lee", roles: ["legal"]), decision: .approve, contentHash: "h0"))
        #expect(last.state == .approved)
        try await service.outbox.relayPending()
        #expect(try bed.events(ApprovalVoteRecorded.self).map(\.waitingFor) == [[.role("legal")]])
        #expect(try bed.events(ApprovalDecided.self).map(\.decidedBy) == [["user:ana", "user:lee"]])
    }

    @Test func aRequestWithoutAssigneesIsDeadLetteredNotRetried() async throws {
        let bed = try TestBed()
        defer { bed.remove() }
        let service = try await bed.start()
        let consuming = Task { try await service.consumeRequests() }
        defer { consuming.cancel() }
        try await bed.bus.send(pagesApproval(assignees: []), context: MessageContext())
        #expect(try await eventually { try await bed.bus.messageCount(queue: ServiceQueues.approvalCommands + ".dead") == 1 })
        #expect(try await service.approvals.history(of: "project-1").isEmpty)
    }
}
