import AMQPClient
import Contracts
import Foundation
import Hummingbird
import HummingbirdTesting
import Messaging
import Testing

@testable import Gateway

/// The API keys page and the admin pages through the router: a key shown once that works until revoked, people
/// added with their problems beside the fields, a custom template uploaded with its problems by line and then
/// usable in the generic wizard, prompts previewed, dead letters counted and replayed, and none of it for a user
/// who is not an admin.
struct PortalAdminTests {
    static let customYAML = """
        code: thank-you-note
        name: Thank-you note
        description: A short note to thank a customer.
        default_provider: local
        default_model: local-writer
        params_schema:
          type: object
          required: [customer, reason]
          properties:
            customer: {type: string, title: Who to thank, minLength: 2, maxLength: 80}
            reason: {type: string, title: What for, minLength: 5, maxLength: 400}
            warmth: {type: integer, title: How warm, minimum: 1, maximum: 5, x-widget: slider}
            formal: {type: boolean, title: Formal}
        stages:
          - code: note
            name: Write the note
            sequence: 10
            execution_mode: ai
            prompt:
              user: "Thank {{params.customer}} for {{params.reason}}."
        """

    @Test func aKeyIsShownOnceAndWorksUntilItIsRevoked() async throws {
        let bed = try await GatewayBed()
        defer { bed.stop() }
        try await bed.test { client in
            let cookie = try await client.signInAsNewUser("bo@example.com")
            let page = try await client.get("/portal/keys", cookie: cookie)
            #expect(page.body.contains(#"<a href="/portal/keys" aria-current="page">API keys</a>"#))
            #expect(!page.body.contains(#"href="/portal/admin""#), "no admin link for a user")
            let token = try #require(PortalTests.formToken(page.body))

            let unnamed = try await client.post("/portal/keys", ["_csrf": token, "name": "  "], cookie: cookie)
            #expect(unnamed.status == .unprocessableContent && unnamed.body.contains("Give the key a name"))
            let made = try await client.post("/portal/keys", ["_csrf": token, "name": "laptop"], cookie: cookie)
            #expect(made.status == .created && made.body.contains("it is not shown again"))
            let range = try #require(made.body.range(of: #"<code class="secret">([^<]+)</code>"#, options: .regularExpression))
            let secret = String(made.body[range].dropFirst(#"<code class="secret">"#.count).dropLast("</code>".count))
            #expect(try await client.json(.get, "/api/v1/me", Credentials.bearer(secret)).status == .ok, "the key works")
            let listed = try await client.get("/portal/keys", cookie: cookie)
            #expect(listed.body.contains("laptop") && !listed.body.contains(secret), "listed, and never shown again")

            let keys = try await client.json(.get, "/api/v1/keys", Credentials.bearer(secret))
            let id = try #require(keys.body.arrayValue?.first { $0["name"]?.stringValue == "laptop" }?["id"]?.stringValue)
            let revoked = try await client.post("/portal/keys/\(id)/revoke", ["_csrf": token], cookie: cookie)
            #expect(revoked.status == .seeOther)
            #expect(try await client.json(.get, "/api/v1/me", Credentials.bearer(secret)).status == .unauthorized, "revoked")

            for path in ["/portal/admin", "/portal/admin/users", "/portal/admin/templates"] {
                let refused = try await client.get(path, cookie: cookie)
                #expect(refused.status == .forbidden && refused.body.contains("Not allowed"), "\(path) is for admins")
            }
        }
    }

    @Test func anAdminAddsPeopleAndUploadsATemplateThatGetsAWizard() async throws {
        let bed = try await GatewayBed()
        defer { bed.stop() }
        try await bed.test { client in
            let cookie = try await client.signIn(GatewayBed.adminEmail, GatewayBed.adminPassword).cookie
            let users = try await client.get("/portal/admin/users", cookie: cookie)
            let token = try #require(PortalTests.formToken(users.body))
            let short = try await client.post(
                "/portal/admin/users", ["_csrf": token, "email": "cy@example.com", "password": "short"], cookie: cookie)
            #expect(short.status == .unprocessableContent)
            #expect(short.body.contains(#"id="user-password-error">A password has 10 to 72 characters."#), "\(short.body)")
            #expect(short.body.contains(#"value="cy@example.com""#))
            let added = try await client.post(
                "/portal/admin/users", ["_csrf": token, "email": "cy@example.com", "password": "a long password"], cookie: cookie)
            #expect(added.status == .ok && added.body.contains("<td>cy@example.com</td><td>User</td>"))
            _ = try await client.signIn("cy@example.com", "a long password")

            let broken = Self.customYAML.replacingOccurrences(of: "execution_mode: ai", with: "execution_mode: magic")
            let refused = try await client.post("/portal/admin/templates", ["_csrf": token, "yaml": broken], cookie: cookie)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.body.contains("<strong>line 18</strong>"), "the problem names its line")
            #expect(refused.body.contains(#"<li class="problem" value="18"><code>    execution_mode: magic</code></li>"#))

            let stored = try await client.post(
                "/portal/admin/templates", ["_csrf": token, "yaml": Self.customYAML], cookie: cookie)
            #expect(stored.status == .seeOther && stored.headers[.location] == "/portal/admin/templates/thank-you-note?uploaded")
            let detail = try await client.get("/portal/admin/templates/thank-you-note?uploaded", cookie: cookie)
            #expect(detail.body.contains("<td>Write the note</td><td><code>note</code></td><td>ai</td>"))
            let preview = try await client.post(
                "/portal/admin/templates/thank-you-note/preview",
                ["_csrf": token, "stage": "note", "params": #"{"customer": "Ana", "reason": "ten years of orders"}"#],
                cookie: cookie)
            #expect(preview.body.contains("Thank Ana for ten years of orders."), "\(preview.body.suffix(1500))")
            let badJSON = try await client.post(
                "/portal/admin/templates/thank-you-note/preview", ["_csrf": token, "stage": "note", "params": "{customer"],
                cookie: cookie)
            #expect(badJSON.status == .unprocessableContent && badJSON.body.contains("not valid JSON"))

            // The generic wizard, from the uploaded schema.
            let wizard = try await client.get("/portal/create/thank-you-note", cookie: cookie)
            #expect(wizard.body.contains(#"type="range" step="1" min="1" max="5" value="1""#), "x-widget: slider")
            #expect(wizard.body.contains(#"name="p.formal" type="checkbox" value="true""#))
            let picker = try await client.get("/portal/create", cookie: cookie)
            #expect(picker.body.contains("Thank-you note") && picker.body.contains(#"<span class="tag">custom</span>"#))
        }
    }

    @Test func aProvidersLimitsReadAsASentence() {
        let status = { (rpm: Int?, tpm: Int?, concurrency: Int?) in
            ProviderStatus(
                name: "openai", kind: "openai", models: [], cooling: false, laneDepth: 0, interactiveDepth: 0, requestsPerMinute: rpm,
                tokensPerMinute: tpm, maxConcurrency: concurrency)
        }
        #expect(AdminPages.limits(status(500, 200_000, 8)) == "500 requests and 200000 tokens a minute, 8 at once")
        #expect(AdminPages.limits(status(nil, nil, 16)) == "16 at once")
        #expect(AdminPages.limits(status(nil, nil, nil)) == "none")
    }

    @Test func deadLettersAreCountedAndReplayedIntoTheirQueue() async throws {
        let bed = try await GatewayBed()
        defer { bed.stop() }
        // No ApprovalService in this bed: nothing consumes its queue, so what is replayed stays there to be counted.
        let dead = ServiceQueues.approvalCommands + ".dead"
        try await bed.bus.declare(.workQueue(ServiceQueues.approvalCommands))
        try await bed.bus.publish([OutgoingMessage(exchange: Exchange.default, routingKey: dead, body: Data("{}".utf8))])
        try await bed.test { client in
            let cookie = try await client.signIn(GatewayBed.adminEmail, GatewayBed.adminPassword).cookie
            let overview = try await client.get("/portal/admin", cookie: cookie)
            #expect(overview.status == .ok)
            #expect(overview.body.contains("No ProviderGateway answered"), "this bed runs none, and the page says so")
            #expect(overview.body.contains("<td><code>\(dead)</code></td><td>1</td>"))
            let token = try #require(PortalTests.formToken(overview.body))
            let unknown = try await client.post(
                "/portal/admin/dead-letters/replay", ["_csrf": token, "queue": "something.else"], cookie: cookie)
            #expect(unknown.status == .notFound)
            let replayed = try await client.post(
                "/portal/admin/dead-letters/replay", ["_csrf": token, "queue": dead], cookie: cookie)
            #expect(replayed.headers[.location] == "/portal/admin?replayed=1")
            #expect(try await bed.bus.messageCount(queue: dead) == 0)
            #expect(try await bed.bus.messageCount(queue: ServiceQueues.approvalCommands) == 1, "back in the queue it died in")
        }
    }
}
