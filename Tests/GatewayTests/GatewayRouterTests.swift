import Contracts
import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceStorage
import ServiceTestSupport
import Testing
import Yams

@testable import Gateway

/// The REST API through its router, no socket: accounts and keys, isolation between users, idempotent create,
/// pagination, and every kind of bad input answered with a clear 4xx in the API's error format.
@Suite("Gateway API", .timeLimit(.minutes(2)))
struct GatewayRouterTests {
    let site = """
        {"template": "website", "name": "Acme site", "params": {"company_name": "Acme Bakery", "industry": "bakery", \
        "website_type": "business", "page_count": 3, "target_audience": "families nearby", \
        "description": "A neighbourhood bakery that sells bread and cakes every day."}}
        """

    @Test func aKeyMadeWithThePasswordIsShownOnceAndWorksUntilRevoked() async throws {
        let bed = try await GatewayBed()
        defer { bed.stop() }
        try await bed.test { client in
            let anonymous = try await client.json(.get, "/api/v1/me")
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.body["error"]?["code"] == "unauthenticated")
            #expect(anonymous.headers[.wwwAuthenticate] != nil)
            let wrong = try await client.json(.get, "/api/v1/me", Credentials.basic(GatewayBed.adminEmail, "not the password"))
            #expect(wrong.status == .unauthorized)

            let key = try await client.adminKey()
            #expect(key.hasPrefix("aiwf_") && key.count > 40)
            let me = try await client.json(.get, "/api/v1/me", Credentials.bearer(key))
            #expect(me.status == .ok)
            #expect(me.body["email"] == .string(GatewayBed.adminEmail))
            #expect(me.body["role"] == "admin")
            let keys = try await client.json(.get, "/api/v1/keys", Credentials.bearer(key))
            #expect(keys.body.arrayValue?.count == 1)
            #expect(keys.body.arrayValue?.first?["key"] == nil, "the secret is shown only when the key is made")
            let id = try #require(keys.body.arrayValue?.first?["id"]?.stringValue)
            #expect(try await client.json(.delete, "/api/v1/keys/\(id)", Credentials.bearer(key)).status == .noContent)
            #expect(try await client.json(.get, "/api/v1/me", Credentials.bearer(key)).status == .unauthorized)
            #expect(try await client.json(.get, "/api/v1/me", Credentials.bearer("aiwf_made-up")).status == .unauthorized)
        }
    }

    @Test func withNothingSetTheFirstAdminHasTheDefaultAddressAndAOneTimePasswordThatWorks() async throws {
        let accounts = Accounts(
            store: SQLiteAccountStore(database: try ServiceDatabase.inMemory(migrations: SQLiteAccountStore.migrate)), bcryptCost: 4)
        let password = try #require(try await accounts.ensureFirstAdmin(email: nil, password: nil, logger: quiet))
        #expect(password.count >= 40)
        let admin = try await accounts.identify(email: Accounts.defaultAdmin, password: password)
        #expect(admin?.role == .admin)
        #expect(try await accounts.ensureFirstAdmin(email: nil, password: nil, logger: quiet) == nil, "made once only")
        #expect(EmailAddress.isValid(Accounts.defaultAdmin), "ApprovalService takes it as an assignee")
    }

    @Test func aUserSeesAndActsOnOnlyTheirOwnProjects() async throws {
        let bed = try await GatewayBed()
        defer { bed.stop() }
        try await bed.test { [site] client in
            let admin = Credentials.bearer(try await client.adminKey())
            let ana = Credentials.bearer(try await client.user("ana@example.com", admin: admin))
            let bo = Credentials.bearer(try await client.user("bo@example.com", admin: admin))
            #expect(try await client.json(.get, "/api/v1/users", ana).status == .forbidden, "only admins list users")
            #expect(try await client.json(.get, "/api/v1/admin/providers", ana).status == .forbidden)
            #expect(try await client.json(.get, "/api/v1/admin/dead-letters", ana).status == .forbidden)

            let created = try await client.json(.post, "/api/v1/projects", ana, body: site)
            #expect(created.status == .created, "\(created.body)")
            #expect(created.body["state"] == "draft")
            let id = try #require(created.body["id"]?.stringValue)

            for path in ["", "/tasks", "/stage-runs", "/artifacts", "/usage", "/approvals", "/events?follow=false"] {
                let seen = try await client.json(.get, "/api/v1/projects/\(id)\(path)", bo)
                #expect(seen.status == .notFound, "bo reads \(path): \(seen.status)")
            }
            #expect(try await client.json(.post, "/api/v1/projects/\(id)/start", bo).status == .notFound)
            #expect(try await client.json(.get, "/api/v1/projects", bo).body["projects"]?.arrayValue?.isEmpty == true)
            #expect(try await client.json(.get, "/api/v1/projects", ana).body["projects"]?.arrayValue?.count == 1)
            #expect(try await client.json(.get, "/api/v1/projects/\(id)", admin).status == .ok, "an admin sees every project")
            #expect(try await client.json(.get, "/api/v1/projects?owner=x", ana).status == .forbidden)

            let events = try await client.execute(uri: "/api/v1/projects/\(id)/events?follow=false", method: .get, headers: ana) {
                ($0.headers[.contentType], String(buffer: $0.body))
            }
            #expect(events.0 == "text/event-stream")
            #expect(events.1.hasPrefix("id: 1\nevent: project.created\ndata: {"), "\(events.1)")
            let later = try await client.execute(
                uri: "/api/v1/projects/\(id)/events?follow=false", method: .get, headers: ana.merging([.lastEventID: "1"])
            ) { String(buffer: $0.body) }
            #expect(later.isEmpty, "nothing after the last event seen")
            let cancelled = try await client.json(.post, "/api/v1/projects/\(id)/cancel", ana)
            #expect(cancelled.status == .ok)
            #expect(cancelled.body["state"] == "failed")
            let again = try await client.json(.post, "/api/v1/projects/\(id)/start", ana)
            #expect(again.status == .conflict, "a command in the wrong state: \(again.body)")
        }
    }

    @Test func theSameIdempotencyKeyGivesTheSameProjectAndADifferentBodyIsAConflict() async throws {
        let bed = try await GatewayBed()
        defer { bed.stop() }
        try await bed.test { [site] client in
            let ana = Credentials.bearer(try await client.user("ana@example.com", admin: Credentials.bearer(try await client.adminKey())))
            let keyed = ana.merging([.idempotencyKey: "order-17"])
            let first = try await client.json(.post, "/api/v1/projects", keyed, body: site)
            let second = try await client.json(.post, "/api/v1/projects", keyed, body: site)
            #expect(first.status == .created)
            #expect(second.status == .ok)
            #expect(second.headers[.idempotentReplayed] == "true")
            #expect(first.body["id"] == second.body["id"])
            let other = try await client.json(
                .post, "/api/v1/projects", keyed, body: site.replacingOccurrences(of: "Acme site", with: "Other"))
            #expect(other.status == .conflict)
            #expect(other.body["error"]?["code"] == "idempotency-key-reused")
            #expect(try await client.json(.get, "/api/v1/projects", ana).body["projects"]?.arrayValue?.count == 1)
        }
    }

    @Test func listsArePagedByCursorWithNothingSeenTwice() async throws {
        let bed = try await GatewayBed()
        defer { bed.stop() }
        try await bed.test { [site] client in
            let ana = Credentials.bearer(try await client.user("ana@example.com", admin: Credentials.bearer(try await client.adminKey())))
            for _ in 0..<5 { try await client.json(.post, "/api/v1/projects", ana, body: site) }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await client.json(.get, "/api/v1/projects?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), ana)
                #expect(page.status == .ok)
                seen += page.body["projects"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                cursor = page.body["next"]?.stringValue
            } while cursor != nil && seen.count < 10
            #expect(seen.count == 5)
            #expect(Set(seen).count == 5)
        }
    }

    @Test func badInputIsAClearClientErrorNamingWhatToFix() async throws {
        let bed = try await GatewayBed()
        defer { bed.stop() }
        try await bed.test { [site] client in
            let ana = Credentials.bearer(try await client.user("ana@example.com", admin: Credentials.bearer(try await client.adminKey())))
            let malformed = try await client.json(.post, "/api/v1/projects", ana, body: #"{"template": "#)
            #expect(malformed.status == .badRequest)
            #expect(malformed.body["error"]?["code"] == "bad-request")

            let typo = try await client.json(.post, "/api/v1/projects", ana, body: #"{"template": "website", "nmae": "x"}"#)
            #expect(typo.status == .unprocessableContent)
            #expect(typo.body["error"]?["details"]?.arrayValue?.first?["pointer"] == "/nmae")

            let wrongType = try await client.json(.post, "/api/v1/projects", ana, body: #"{"template": "website", "name": 5}"#)
            #expect(wrongType.status == .unprocessableContent)
            #expect(wrongType.body["error"]?["details"]?.arrayValue?.first?["pointer"] == "/name")

            let unknown = try await client.json(
                .post, "/api/v1/projects", ana, body: site.replacingOccurrences(of: "\"website\"", with: "\"nope\""))
            #expect(unknown.status == .notFound)

            let params = try await client.json(
                .post, "/api/v1/projects", ana, body: #"{"template": "website", "name": "x", "params": {"company_name": 7}}"#)
            #expect(params.status == .unprocessableContent)
            #expect(params.body["error"]?["message"]?.stringValue?.contains("params/company_name") == true, "\(params.body)")

            let huge = String(repeating: "a", count: 1_100_000)
            let tooLarge = try await client.json(.post, "/api/v1/projects", ana, body: #"{"template": "\#(huge)"}"#)
            #expect(tooLarge.status == .contentTooLarge)

            let route = try await client.json(.get, "/api/v1/nothing-here", ana)
            #expect(route.status == .notFound)
            #expect(route.body["error"]?["code"] == "not-found")

            let id = try #require(try await client.json(.post, "/api/v1/projects", ana, body: site).body["id"]?.stringValue)
            let lastEvent = try await client.json(
                .get, "/api/v1/projects/\(id)/events", ana.merging([.lastEventID: "99999999999999999999999"]))
            #expect(lastEvent.status == .badRequest)
            #expect(try await client.json(.get, "/api/v1/projects?state=sleeping", ana).status == .badRequest)
            #expect(try await client.json(.get, "/api/v1/projects?limit=0", ana).status == .badRequest)
            #expect(try await client.json(.post, "/api/v1/projects/\(id)/restart", ana).status == .unprocessableContent)
        }
    }

    @Test func aKeyOverItsRateGetsA429WithRetryAfterInEitherAPIsShape() async throws {
        let bed = try await GatewayBed(requestsPerMinute: 6)
        defer { bed.stop() }
        try await bed.test { client in
            let key = Credentials.bearer(try await client.adminKey())
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<11 { statuses.append(try await client.json(.get, "/api/v1/me", key).status) }
            #expect(statuses.prefix(10).allSatisfy { $0 == .ok }, "a burst of 10 is let through: \(statuses)")
            let refused = try await client.json(.get, "/api/v1/me", key)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.body["error"]?["code"] == "rate-limited")
            #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
            let compat = try await client.json(.post, "/v1/messages", key, body: #"{"model": "x", "max_tokens": 5, "messages": []}"#)
            #expect(compat.status == .tooManyRequests)
            #expect(compat.body["type"] == "error" && compat.body["error"]?["type"] == "rate_limit_error")
        }
    }

    @Test func byteRangesAreReadAsHTTPSaysAndOthersRefused() {
        #expect(ArtifactRoutes.range("bytes=0-9", size: 100) == 0..<10)
        #expect(ArtifactRoutes.range("bytes=90-", size: 100) == 90..<100)
        #expect(ArtifactRoutes.range("bytes=-5", size: 100) == 95..<100)
        #expect(ArtifactRoutes.range("bytes=95-500", size: 100) == 95..<100)
        #expect(ArtifactRoutes.range("bytes=100-", size: 100) == nil)
        #expect(ArtifactRoutes.range("bytes=5-2", size: 100) == nil)
        #expect(ArtifactRoutes.range("bytes=0-1,5-6", size: 100) == nil)
        #expect(ArtifactRoutes.range("items=0-1", size: 100) == nil)
    }

    @Test func theBucketRefillsAtTheRate() {
        let limiter = RateLimiter(perMinute: 60, burst: 2)
        let start = Date()
        #expect(limiter.admit("k", at: start) == nil)
        #expect(limiter.admit("k", at: start) == nil)
        #expect(limiter.admit("k", at: start) == 1)
        #expect(limiter.admit("other", at: start) == nil, "keys are counted apart")
        #expect(limiter.admit("k", at: start.addingTimeInterval(1.01)) == nil, "one a second comes back")
        #expect(limiter.admit("k", at: start.addingTimeInterval(1.02)) == 1)
    }

    @Test func templatesAreListedReadAndCheckedWithLineAndField() async throws {
        let bed = try await GatewayBed()
        defer { bed.stop() }
        try await bed.test { client in
            let ana = Credentials.bearer(try await client.user("ana@example.com", admin: Credentials.bearer(try await client.adminKey())))
            let list = try await client.json(.get, "/api/v1/templates", ana)
            #expect(list.body.arrayValue?.compactMap { $0["code"]?.stringValue }.contains("website") == true)
            #expect(try await client.json(.get, "/api/v1/templates/website", ana).status == .ok)
            #expect(try await client.json(.get, "/api/v1/templates/website?version=x", ana).status == .badRequest)
            let broken = try await client.execute(
                uri: "/api/v1/templates", method: .post, headers: ana, body: ByteBuffer(string: "code: x\nname: X\nstages: []\n")
            ) { ($0.status, try? JSONValue.parse(Data(buffer: $0.body))) }
            #expect(broken.0 == .unprocessableContent)
            #expect(broken.1?["error"]?["details"]?.arrayValue?.isEmpty == false, "\(String(describing: broken.1))")
        }
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var fields = self
        for field in other { fields[field.name] = field.value }
        return fields
    }
}

/// The served OpenAPI document and the router agree: every route is described, and nothing else is.
@Suite("Docs at /docs")
struct DocsPagesTests {
    @Test func everyDocsPageRendersAsStrictHTML5WithLinksBetweenPages() async throws {
        let bed = try await GatewayBed()
        defer { bed.stop() }
        let library = bed.app.docs
        #expect(
            library.pages.map(\.name).starts(with: ["getting-started", "concepts", "workflows", "custom-workflows", "api", "deliverables"]),
            "in reading order: \(library.pages.map(\.name))")
        let index = try await bed.test { client in
            try await client.execute(uri: "/docs", method: .get) { ($0.status, String(buffer: $0.body)) }
        }
        #expect(index.0 == .ok && index.1.contains("<a href=\"/docs/deliverables\">Deliverables: what each workflow ends in</a>"))
        let api = try await bed.test { client in
            try await client.execute(uri: "/docs/api", method: .get) { ($0.status, String(buffer: $0.body)) }
        }
        #expect(api.0 == .ok)
        #expect(api.1.contains("<h1>The Gateway&#39;s HTTP API</h1>") || api.1.contains("<h1>The Gateway's HTTP API</h1>"))
        #expect(api.1.contains("<table>") && api.1.contains("<td>"), "Markdown tables are kept")
        #expect(api.1.contains("href=\"/docs/deliverables\""), "links to other pages point at their /docs page")
        let start = try await bed.test { client in
            try await client.execute(uri: "/docs/getting-started", method: .get) { String(buffer: $0.body) }
        }
        #expect(start.contains("<a href=\"/docs/api\">API</a>") && start.contains("<a href=\"/docs/workflows\">Workflows</a>"))
        for missing in ["/docs/nope", "/docs/..%2FREADME"] {
            let status = try await bed.test { client in try await client.execute(uri: missing, method: .get) { $0.status } }
            #expect(status == .notFound, "\(missing)")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("docs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var files: [String] = []
        for page in library.pages {
            let html = try await bed.test { client in
                try await client.execute(uri: "/docs/\(page.name)", method: .get) { String(buffer: $0.body) }
            }
            let file = folder.appendingPathComponent("\(page.name).html")
            try Data(html.utf8).write(to: file)
            files.append(file.path)
        }
        let script = repository.appendingPathComponent("Tests/DeliverablesTests/Scripts/check_html.py").path
        let parse = try await runProcess(URL(fileURLWithPath: "/usr/bin/python3"), [script] + files)
        #expect(parse.status == 0, "\(parse.output)")
    }
}

@Suite("OpenAPI document")
struct OpenAPIDocumentTests {
    @Test func theDocumentDescribesEveryRouteOfTheRouterAndNoOther() async throws {
        let bed = try await GatewayBed()
        defer { bed.stop() }
        let routes = Set(
            bed.app.router().routes.map { route in
                let path = "\(route.path)".split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
                return "\(route.method.rawValue) /" + path.joined(separator: "/")
            }
        ).subtracting(["GET /api/v1/openapi.yaml", "GET /api/docs", "GET /"]).filter {
            // The HTML pages for people (published sites, surveys, docs, the portal, review links) are not the API.
            !$0.contains(" /sites/") && !$0.contains(" /s/") && !$0.contains(" /docs") && !$0.contains(" /portal")
                && !$0.contains(" /review/")
        }
        let served = try await bed.test { client in
            try await client.execute(uri: "/api/v1/openapi.yaml", method: .get) { String(buffer: $0.body) }
        }
        let document = try #require(try Yams.load(yaml: served) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let described = Set(paths.flatMap { path, operations in operations.keys.map { "\($0.uppercased()) \(path)" } })
        #expect(routes.subtracting(described).sorted() == [], "routes the document does not describe")
        #expect(described.subtracting(routes).sorted() == [], "operations the router does not have")
        let page = try await bed.test { client in
            try await client.execute(uri: "/api/docs", method: .get) { String(buffer: $0.body) }
        }
        #expect(page.contains("createProject") && page.contains("/api/v1/projects/{id}/events"))
    }
}
