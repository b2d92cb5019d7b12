import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// The portal's pages through the router: sign-in with a session cookie, the form token on every POST, user
/// content escaped, nothing without a session, nobody else's projects.
@Suite struct PortalTests {
    static let hostileName = "<script>alert(1)</script>"

    @Test func withoutASessionEveryPageSendsThePersonToSignInAndBack() async throws {
        let bed = try await GatewayBed()
        defer { bed.stop() }
        try await bed.test { client in
            for path in ["/portal", "/portal/approvals", "/portal/events"] {
                let response = try await client.execute(uri: path, method: .get) { $0 }
                #expect(response.status == .seeOther, "\(path)")
                #expect(response.headers[.location]?.hasPrefix("/portal/sign-in?next=%2Fportal") == true, "\(path)")
            }
            let forged = try await client.execute(uri: "/portal/sign-out", method: .post) { $0.status }
            #expect(forged == .forbidden, "a POST without the form token is refused")
            let root = try await client.execute(uri: "/", method: .get) { $0.headers[.location] }
            #expect(root == "/portal")
        }
    }

    @Test func signingInNeedsTheFormTokenAndTheRightPasswordAndGivesAStrictCookie() async throws {
        let bed = try await GatewayBed()
        defer { bed.stop() }
        try await bed.test { client in
            let page = try await client.signInPage()
            #expect(page.html.contains(#"<label for="email">"#))
            #expect(page.cookie.contains("HttpOnly") && page.cookie.contains("SameSite=Lax"), "\(page.cookie)")

            let noToken = try await client.post(
                "/portal/sign-in", ["email": GatewayBed.adminEmail, "password": GatewayBed.adminPassword], cookie: page.cookieValue)
            #expect(noToken.status == .forbidden, "no _csrf")
            let wrong = try await client.post(
                "/portal/sign-in", ["_csrf": page.token, "email": GatewayBed.adminEmail, "password": "not it at all"],
                cookie: page.cookieValue)
            #expect(wrong.status == .unauthorized)
            #expect(wrong.body.contains("The e-mail address or the password is not right."))
            #expect(wrong.body.contains(#"value="admin@example.com""#), "the address stays in the field")

            let session = try await client.signIn(GatewayBed.adminEmail, GatewayBed.adminPassword, next: "/portal/approvals")
            #expect(session.location == "/portal/approvals")
            #expect(session.setCookie.contains("HttpOnly") && session.setCookie.contains("SameSite=Lax"))
            #expect(!session.setCookie.contains("Secure"), "plain HTTP: no Secure")
            let offsite = try await client.signIn(GatewayBed.adminEmail, GatewayBed.adminPassword, next: "//evil.example/")
            #expect(offsite.location == "/portal", "never sent to another host")

            let dashboard = try await client.get("/portal", cookie: session.cookie)
            #expect(dashboard.status == .ok)
            #expect(dashboard.body.contains("Your projects") && dashboard.body.contains(GatewayBed.adminEmail))
            #expect(dashboard.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)

            let token = try #require(Self.formToken(dashboard.body))
            let forged = try await client.post(
                "/portal/sign-out", ["_csrf": (token.first == "x" ? "y" : "x") + token.dropFirst()], cookie: session.cookie)
            #expect(forged.status == .forbidden, "a wrong form token")
            let out = try await client.post("/portal/sign-out", ["_csrf": token], cookie: session.cookie)
            #expect(out.status == .seeOther)
            #expect(try await client.get("/portal", cookie: session.cookie).status == .seeOther, "the session ended")
        }
    }

    @Test func theDashboardShowsOnlyTheCallersProjectsWithTheirNamesAsText() async throws {
        let bed = try await GatewayBed()
        defer { bed.stop() }
        try await bed.test { client in
            let admin = Credentials.bearer(try await client.adminKey())
            let ana = Credentials.bearer(try await client.user("ana@example.com", admin: admin))
            _ = try await client.user("bo@example.com", admin: admin)
            let body = """
                {"template": "survey", "name": "\(Self.hostileName)", "params": {"title": "Bakery survey", \
                "purpose": "Learn what customers think of our bread and hours", "respondents": "customers", "question_count": 5}}
                """
            let created = try await client.json(.post, "/api/v1/projects", ana, body: body)
            #expect(created.status == .created, "\(created.body)")

            let anaSession = try await client.signIn("ana@example.com", "a long password")
            let page = try await client.get("/portal", cookie: anaSession.cookie)
            #expect(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the name shows as text")
            #expect(!page.body.contains(Self.hostileName), "and never as markup")

            let projectID = try #require(created.body["id"]?.stringValue)
            let projectPage = try await client.get("/portal/projects/\(projectID)", cookie: anaSession.cookie)
            #expect(projectPage.status == .ok && projectPage.body.contains("<h1>&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(!projectPage.body.contains(Self.hostileName), "nor on the project's own page")

            let boSession = try await client.signIn("bo@example.com", "a long password")
            let notBos = try await client.get("/portal/projects/\(projectID)", cookie: boSession.cookie)
            #expect(notBos.status == .notFound, "another person's project is not found")
            let bos = try await client.get("/portal", cookie: boSession.cookie)
            #expect(bos.body.contains("Nothing here yet"), "bo sees none of ana's projects")
            #expect(!bos.body.contains("alert(1)"))
            // This bed runs no ApprovalService: the inbox says so as a page instead of failing.
            let inbox = try await client.get("/portal/approvals", cookie: boSession.cookie)
            #expect(inbox.status == .serviceUnavailable && inbox.body.contains("not running"), "\(inbox.status)")
        }
    }

    static func formToken(_ html: String) -> String? {
        guard let range = html.range(of: #"name="_csrf" value="([^"]+)""#, options: .regularExpression) else { return nil }
        return String(html[range].dropFirst(#"name="_csrf" value=""#.count).dropLast())
    }
}

extension TestClientProtocol {
    func get(_ path: String, cookie: String) async throws -> (status: HTTPResponse.Status, body: String, headers: HTTPFields) {
        try await execute(uri: path, method: .get, headers: [.cookie: cookie]) { ($0.status, String(buffer: $0.body), $0.headers) }
    }

    func post(_ path: String, _ fields: [String: String], cookie: String? = nil) async throws -> (
        status: HTTPResponse.Status, body: String, headers: HTTPFields
    ) {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookie { headers[.cookie] = cookie }
        let body = fields.map { key, value in
            "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        }.joined(separator: "&")
        return try await execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body)) {
            ($0.status, String(buffer: $0.body), $0.headers)
        }
    }

    /// The sign-in page: its HTML, its form cookie (as sent and as a `Cookie` value) and its form token.
    func signInPage() async throws -> (html: String, cookie: String, cookieValue: String, token: String) {
        try await execute(uri: "/portal/sign-in", method: .get) { response in
            let cookie = response.headers[.setCookie] ?? ""
            let html = String(buffer: response.body)
            return (html, cookie, String(cookie.prefix { $0 != ";" }), PortalTests.formToken(html) ?? "")
        }
    }

    /// A new user (not an admin), made with the first admin's key, and signed in: the session's `Cookie` value.
    func signInAsNewUser(_ email: String) async throws -> String {
        let admin = Credentials.bearer(try await adminKey())
        _ = try await user(email, admin: admin)
        return try await signIn(email, "a long password").cookie
    }

    /// Signs in; the session's `Cookie` value, the cookie as set and where the browser is sent.
    func signIn(_ email: String, _ password: String, next: String = "") async throws -> (
        cookie: String, setCookie: String, location: String?
    ) {
        let page = try await signInPage()
        let response = try await post(
            "/portal/sign-in", ["_csrf": page.token, "email": email, "password": password, "next": next], cookie: page.cookieValue)
        #expect(response.status == .seeOther, "signing in as \(email): \(response.status)")
        let setCookie = response.headers[.setCookie] ?? ""
        return (String(setCookie.prefix { $0 != ";" }), setCookie, response.headers[.location])
    }
}
