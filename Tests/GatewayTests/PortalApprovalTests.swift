import Contracts
import Foundation
import Hummingbird
import HummingbirdTesting
import Messaging
import Testing

@testable import Gateway

/// The approval screens with a real ApprovalService behind the Gateway: what is approved shown as it will be, what
/// changed since the last review, per-item decisions checked before they are sent, and the e-mail's review link
/// deciding once without a sign-in.
struct PortalApprovalTests {
    /// A project of the admin's, and two pages of it waiting for the admin and for a client reached by e-mail.
    static func pagesWaiting(_ bed: GatewayBed, _ client: any TestClientProtocol, round: Int = 1, changedAbout: Bool = false)
        async throws -> (projectID: String, approvalID: String)
    {
        let admin = Credentials.basic(GatewayBed.adminEmail, GatewayBed.adminPassword)
        let body = """
            {"template": "survey", "name": "Bakery survey", "params": {"title": "Bakery survey", \
            "purpose": "Learn what customers think of our bread and hours", "respondents": "customers", "question_count": 5}}
            """
        let created = try await client.json(.post, "/api/v1/projects", admin, body: body)
        let projectID = try #require(created.body["id"]?.stringValue)
        let owner = try #require(try await bed.app.accounts.identify(email: GatewayBed.adminEmail, password: GatewayBed.adminPassword))
        let home = ##"{"title": "Home", "body": "Welcome to **Crumb**.\n\n<script>alert(1)</script>", "accent": "#1f5fbf"}"##
        try await bed.bus.send(
            RequestApproval(
                projectID: projectID, stageRunID: "run-\(round)", stage: "pages", approvalType: .content, contentHash: "h\(round)",
                summary: "Two pages",
                items: [
                    ApprovalItem(id: "home", title: "Home", contentHash: "hh", content: home),
                    ApprovalItem(id: "about", title: "About", contentHash: "ha", content: "About us\nSince 1990"),
                ],
                assignees: [.user(owner.userID), .email("client@example.com")], policy: .any, allowFeedback: true),
            context: MessageContext())
        var approvalID: String?
        for _ in 0..<200 where approvalID == nil {
            let pending = try await client.json(.get, "/api/v1/approvals", admin)
            approvalID = pending.body.arrayValue?.first?["id"]?.stringValue
            if approvalID == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        return (projectID, try #require(approvalID))
    }

    @Test func theOwnerSeesEachItemAsItWillBeAndDecidesPerItem() async throws {
        let bed = try await GatewayBed(approvals: true)
        defer { bed.stop() }
        try await bed.test { client in
            let (projectID, approvalID) = try await Self.pagesWaiting(bed, client)
            let session = try await client.signIn(GatewayBed.adminEmail, GatewayBed.adminPassword)
            let inbox = try await client.get("/portal/approvals", cookie: session.cookie)
            #expect(inbox.body.contains(#"href="/portal/approvals/\#(approvalID)""#) && inbox.body.contains("Bakery survey"))

            let page = try await client.get("/portal/approvals/\(approvalID)", cookie: session.cookie)
            #expect(page.status == .ok)
            #expect(page.body.contains("<h3>Home</h3>"), "the item's title as its heading")
            #expect(page.body.contains("<strong>Crumb</strong>"), "its Markdown formatted")
            #expect(!page.body.contains("<script>alert(1)"), "and never a script")
            #expect(page.body.contains(#"class="swatch""#), "a colour as a swatch")
            #expect(page.body.contains(#"name="item.about.decision" value="changes""#))
            let token = try #require(PortalTests.formToken(page.body))

            let noFeedback = try await client.post(
                "/portal/approvals/\(approvalID)",
                ["_csrf": token, "decision": "items", "item.home.decision": "approve", "item.about.decision": "changes"],
                cookie: session.cookie)
            #expect(noFeedback.status == .unprocessableContent && noFeedback.body.contains("Say what to change."))
            #expect(noFeedback.body.contains(#"value="changes" data-decision="changes" checked"#), "the choice stays")

            let decided = try await client.post(
                "/portal/approvals/\(approvalID)",
                [
                    "_csrf": token, "decision": "items", "item.home.decision": "edit", "item.home.content": "Welcome, neighbours",
                    "item.about.decision": "changes", "item.about.feedback": "Say when we opened",
                ], cookie: session.cookie)
            #expect(decided.status == .seeOther && decided.headers[.location] == "/portal/projects/\(projectID)")
            let history = try await bed.bus.request(GetApprovalHistory(projectID: projectID))
            let record = try #require(history.first?.decisions.first)
            #expect(history.first?.state == .changesRequested)
            #expect(record.items.first { $0.itemID == "home" }?.editedContent == "Welcome, neighbours")
            #expect(record.items.first { $0.itemID == "about" }?.feedback == "Say when we opened")

            // The next round shows what changed since.
            let known = try await Self.newReviewLink(bed)
            try await bed.bus.send(
                RequestApproval(
                    projectID: projectID, stageRunID: "run-2", stage: "pages", approvalType: .content, contentHash: "h2",
                    summary: "Two pages again",
                    items: [ApprovalItem(id: "about-2", title: "About", contentHash: "hb", content: "About us\nSince 1987")],
                    assignees: [.email("client@example.com")], policy: .any, allowFeedback: true),
                context: MessageContext())
            let link = try await Self.newReviewLink(bed, besides: [known])
            let round2 = try await client.execute(uri: link, method: .get) { String(buffer: $0.body) }
            #expect(round2.contains("<del>Since 1990</del>") && round2.contains("<ins>Since 1987</ins>"), "\(round2)")
        }
    }

    @Test func aReviewLinkOpensTheSameScreenWithoutASignInAndDecidesOnce() async throws {
        let bed = try await GatewayBed(approvals: true)
        defer { bed.stop() }
        try await bed.test { client in
            _ = try await Self.pagesWaiting(bed, client)
            let link = try await Self.newReviewLink(bed)
            let opened = try await client.execute(uri: link, method: .get) { response in
                (response.status, String(buffer: response.body), response.headers[.setCookie] ?? "")
            }
            #expect(opened.0 == .ok && opened.1.contains("<h3>Home</h3>"))
            #expect(!opened.1.contains("Sign out"), "nobody is signed in")
            let cookie = String(opened.2.prefix { $0 != ";" })
            let token = try #require(PortalTests.formToken(opened.1))

            let forged = try await client.post(link, ["_csrf": "not-the-token", "decision": "reject", "reason": "no"], cookie: cookie)
            #expect(forged.status == .forbidden)
            let noReason = try await client.post(link, ["_csrf": token, "decision": "reject", "reason": " "], cookie: cookie)
            #expect(noReason.status == .unprocessableContent && noReason.body.contains("Say why"))
            let rejected = try await client.post(
                link, ["_csrf": token, "decision": "reject", "reason": "We are closing the shop"], cookie: cookie)
            #expect(rejected.status == .ok && rejected.body.contains("it is rejected"))
            let again = try await client.execute(uri: link, method: .get) { ($0.status, String(buffer: $0.body)) }
            #expect(again.0 == .gone && again.1.contains("This review link no longer works"), "the link is used up")
        }
    }

    /// The review links of the e-mails the ApprovalService wrote, as paths.
    static func reviewLinks(_ bed: GatewayBed) throws -> Set<String> {
        let mails = (try? FileManager.default.contentsOfDirectory(at: bed.mailFolder, includingPropertiesForKeys: nil)) ?? []
        return Set(
            try mails.compactMap { mail in
                try String(contentsOf: mail, encoding: .utf8).split(separator: "\r\n").first { $0.hasPrefix("http://portal.test/review/") }
                    .map { String($0.dropFirst("http://portal.test".count)) }
            })
    }

    /// A review link the ApprovalService writes after the `known` ones.
    static func newReviewLink(_ bed: GatewayBed, besides known: Set<String> = []) async throws -> String {
        for _ in 0..<400 {
            if let link = try reviewLinks(bed).subtracting(known).first { return link }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw CancellationError()
    }
}
