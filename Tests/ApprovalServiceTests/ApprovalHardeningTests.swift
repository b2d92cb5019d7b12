import Contracts
import Crypto
import Foundation
import GRDB
import Messaging
import ServiceKit
import ServiceTestSupport
import Testing

@testable import ApprovalService

/// Who decides is who the Gateway authenticated; addresses, keys and links cannot be abused.
@Suite("Approval hardening", .timeLimit(.minutes(1)))
struct ApprovalHardeningTests {
    @Test func onePersonFillsOnePlaceUnderAllHoweverManyRolesTheyHold() async throws {
        let bed = try TestBed()
        defer { bed.remove() }
        let service = try await bed.start()
        let request = pagesApproval(assignees: [.role("legal"), .role("brand")], policy: .all)
        _ = try await service.approvals.database.write { db in try service.approvals.create(request, context: MessageContext(), in: db) }
        let id = try #require(try await service.approvals.pending(ListPendingApprovals(projectID: "project-1")).first?.id)
        let both = Actor(userID: "lee", roles: ["legal", "brand"])
        let decide = DecideApproval(approvalID: id, decider: Decider(), decision: .approve, contentHash: "h0")
        let first = try await service.approvals.decide(decide, actor: both)
        #expect(first.state == .pending, "one of two places is filled")
        let again = await #expect(throws: ApprovalRefusal.self) { try await service.approvals.decide(decide, actor: both) }
        #expect(again?.code == "already-decided")
        let last = try await service.approvals.decide(decide, actor: Actor(userID: "kim", roles: ["brand"]))
        #expect(last.state == .approved)
    }

    @Test func rolesInTheRequestBodyAreNotTrustedOnlyTheEnvelopesActor() async throws {
        let bed = try TestBed()
        defer { bed.remove() }
        let service = try await bed.start()
        let serving = Task { try await service.serveDecisions() }
        defer { serving.cancel() }
        _ = try await service.approvals.database.write { db in
            try service.approvals.create(pagesApproval(assignees: [.role("legal")]), context: MessageContext(), in: db)
        }
        let id = try #require(try await service.approvals.pending(ListPendingApprovals(projectID: "project-1")).first?.id)
        let claim = DecideApproval(approvalID: id, decider: .user("mallory", roles: ["legal"]), decision: .approve, contentHash: "h0")
        // Sent straight to the bus with roles in the body but no authenticated actor: refused.
        let anonymous = await #expect(throws: RemoteError.self) { try await bed.bus.request(claim, context: MessageContext()) }
        #expect(anonymous?.code == "not-allowed")
        // Signed in as mallory without the role: the body's role does not count.
        let unprivileged = await #expect(throws: RemoteError.self) {
            try await bed.bus.request(claim, context: MessageContext(actor: Actor(userID: "mallory")))
        }
        #expect(unprivileged?.code == "not-allowed")
        // Signed in as someone else than the body claims: refused.
        let impersonating = await #expect(throws: RemoteError.self) {
            try await bed.bus.request(claim, context: MessageContext(actor: Actor(userID: "lee", roles: ["legal"])))
        }
        #expect(impersonating?.code == "not-allowed")
        let view = try await bed.bus.request(claim, context: MessageContext(actor: Actor(userID: "mallory", roles: ["legal"])))
        #expect(view.state == .approved)
    }

    @Test(arguments: [
        "client@example.com\r\nBcc: everyone@example.com", "a b@example.com", "<x@example.com>", "x@example.com, y@example.com",
        "no-at-sign", "x@nodot", String(repeating: "a", count: 300) + "@example.com",
    ])
    func anAddressThatCouldBreakAHeaderIsRefusedBeforeAnythingIsStored(_ address: String) async throws {
        #expect(!EmailAddress.isValid(address))
        let bed = try TestBed()
        defer { bed.remove() }
        let service = try await bed.start()
        let consuming = Task { try await service.consumeRequests() }
        defer { consuming.cancel() }
        try await bed.bus.send(pagesApproval(assignees: [.email(address)]), context: MessageContext())
        #expect(try await eventually { bed.bus.messages(in: "\(ServiceQueues.approvalCommands).dead").count == 1 })
        #expect(try await service.approvals.pending(ListPendingApprovals(projectID: "project-1")).isEmpty)
        #expect(EmailAddress.isValid("client+site@mail.example.com"))
    }

    @Test func aMailIsNotDotStuffedTwice() {
        let mail = Mail(
            from: "a@example.com", to: "b@example.com", subject: "s", body: ".\n..leading dots\nend", messageID: "m", date: Date())
        #expect(mail.rfc5322.hasSuffix("\r\n.\r\n..leading dots\r\nend\r\n"), "libcurl stuffs dots on the SMTP upload")
    }

    @Test func theKeyFileIsCreatedPrivateAndABrokenOneStopsTheStart() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("review-link.key")
        let key = try ReviewLinks.loadKey(file: file, environment: [:])
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try ReviewLinks.loadKey(file: file, environment: [:]) == key, "the same key after a restart")
        try Data("short".utf8).write(to: file)
        let error = #expect(throws: ConfigurationError.self) { try ReviewLinks.loadKey(file: file, environment: [:]) }
        #expect(error?.description.contains("at least 32") == true)
        #expect(try Data(contentsOf: file) == Data("short".utf8), "never silently replaced")
    }

    @Test func aResentMailLeavesOneLiveLinkAndOldRowsArePruned() async throws {
        let bed = try TestBed()
        defer { bed.remove() }
        let service = try await bed.start()
        let links = service.approvals.links
        let database = service.approvals.database
        let expiry = Date().addingTimeInterval(3600)
        let first = try await database.write { db in try links.issue(approvalID: "a1", email: "c@example.com", expiresAt: expiry, in: db) }
        let second = try await database.write { db in try links.issue(approvalID: "a1", email: "c@example.com", expiresAt: expiry, in: db) }
        await #expect(throws: ApprovalRefusal.self) { try await database.read { db in try links.link(for: first, in: db) } }
        _ = try await database.read { db in try links.link(for: second, in: db) }

        let later = Date().addingTimeInterval(400 * 86_400)
        #expect(try await service.retention.prune(now: later) >= 1)
        #expect(try await database.read { db in try ReviewLinkRecord.fetchCount(db) } == 0)
    }
}

@Suite struct WebhookSignatureVectorTests {
    /// Computed outside this code base: `hmac.new(secret, b'1700000000.{"a":1}', hashlib.sha256).hexdigest()` in Python.
    @Test func theSignatureMatchesAVectorComputedElsewhere() {
        let signature = WebhookSender.signature(
            timestamp: "1700000000", body: Data(#"{"a":1}"#.utf8), secret: SymmetricKey(data: Data("a-test-secret-of-32-characters!!".utf8))
        )
        #expect(signature == "f4a7df396302ec59378a0e50fc45048c8d963c8b108c06f96d407e9bbb58c7cf")
    }
}
