import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PostgresNIO
import ServiceTestSupport
import Testing

@testable import Gateway

/// Two Gateway replicas sharing one PostgreSQL account store, behind one port (nginx, round robin): a person signs
/// in once and is served by both in turn; a key made through one works through the other.
@Suite("Gateway replicas, end to end", .serialized, .timeLimit(.minutes(4)))
struct GatewayReplicasEndToEndTests {
    @Test func oneSignInServesAPersonOnEitherReplica() async throws {
        guard let testURL = ProcessInfo.processInfo.environment["AIWF_TEST_POSTGRES_URL"] else {
            throw AccountStoreError("set AIWF_TEST_POSTGRES_URL (scripts/test.sh starts PostgreSQL and sets it)")
        }
        // A database of the test's own, dropped at the end.
        let database = "aiwf_replicas_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = PostgresClient(configuration: try PostgresAccountStore.configuration(url: testURL), backgroundLogger: quiet)
        let adminRun = Task { await admin.run() }
        defer { adminRun.cancel() }
        try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database)"), logger: quiet)
        defer { Task { _ = try? await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(database) WITH (FORCE)"), logger: quiet) } }
        let shared = testURL.replacingOccurrences(of: "/aiwf_test", with: "/\(database)")

        let system = try await TestSystem(repository: repository)
        defer { system.stop() }
        let problems = try await system.startEngine()
        #expect(problems.isEmpty, "\(problems)")
        let password = "a long admin password"
        let environment = ["AIWF_ADMIN_EMAIL": "admin@example.com", "AIWF_ADMIN_PASSWORD": password]
        for replica in ["Gateway-a", "Gateway-b"] {
            let (ready, problem) = try await system.start(
                "Gateway", ["--database-url", shared], environment: environment, instance: replica)
            try #require(ready, "\(problem)")
        }
        let nginx = try NginxFrontend(upstreams: [system.ports["Gateway-a"]!, system.ports["Gateway-b"]!])
        defer { nginx.stop() }
        let base = "http://127.0.0.1:\(nginx.port)"

        // Sign in through the front, once.
        let page = try await Self.get(base + "/portal/sign-in")
        let formCookie = try #require(page.cookies.first { $0.hasPrefix("aiwf_form=") })
        let token = try #require(PortalTests.formToken(page.body))
        let body = "_csrf=\(token)&email=admin%40example.com&password=a+long+admin+password"
        let signedIn = try await Self.send(base + "/portal/sign-in", method: .POST, cookie: formCookie, body: body)
        #expect(signedIn.status == 303)
        let session = try #require(signedIn.cookies.first { $0.hasPrefix("aiwf_session=") })

        var servedBy: Set<String> = []
        for _ in 0..<6 {
            let dashboard = try await Self.send(base + "/portal", method: .GET, cookie: session)
            #expect(dashboard.status == 200 && dashboard.body.contains("Your projects"), "signed in on every replica")
            servedBy.insert(dashboard.upstream)
        }
        #expect(servedBy.count == 2, "both replicas served the person: \(servedBy)")

        // An API key made through one replica works through both.
        var make = HTTPClientRequest(url: base + "/api/v1/keys")
        make.method = .POST
        make.headers.add(name: "Authorization", value: "Basic " + Data("admin@example.com:\(password)".utf8).base64EncodedString())
        make.headers.add(name: "Content-Type", value: "application/json")
        make.body = .bytes(ByteBuffer(string: #"{"name": "replicas"}"#))
        let made = try await Self.client.execute(make, timeout: .seconds(20))
        let key = try #require(
            (try JSONSerialization.jsonObject(with: Data(buffer: try await made.body.collect(upTo: 1 << 20))) as? [String: Any])?["key"]
                as? String)
        var answeredBy: Set<String> = []
        for _ in 0..<4 {
            var me = HTTPClientRequest(url: base + "/api/v1/me")
            me.headers.add(name: "Authorization", value: "Bearer \(key)")
            let answer = try await Self.client.execute(me, timeout: .seconds(20))
            #expect(answer.status.code == 200)
            answeredBy.insert(answer.headers.first(name: "X-Upstream") ?? "")
        }
        #expect(answeredBy.count == 2, "\(answeredBy)")
    }

    struct Answer {
        var status: UInt
        var body: String
        /// `name=value` of each `Set-Cookie`.
        var cookies: [String]
        var upstream: String
    }

    /// A client that shows redirects instead of following them (a sign-in answers with one, and its cookie).
    static let client = HTTPClient(
        eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))

    static func get(_ url: String) async throws -> Answer { try await send(url, method: .GET, cookie: nil) }

    static func send(_ url: String, method: HTTPMethod, cookie: String?, body: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let cookie { request.headers.add(name: "Cookie", value: cookie) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(20))
        let text = String(buffer: try await response.body.collect(upTo: 4 << 20))
        let cookies = response.headers["Set-Cookie"].map { String($0.prefix { $0 != ";" }) }
        return Answer(
            status: response.status.code, body: text, cookies: cookies, upstream: response.headers.first(name: "X-Upstream") ?? "")
    }
}

/// nginx from Debian in front of some local ports, round robin, on a free port of its own; it says in
/// `X-Upstream` which one answered.
final class NginxFrontend: @unchecked Sendable {
    let port = ServiceProcess.freePort()
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aiwf-nginx-\(UUID().uuidString.prefix(8))")
    private let process = Process()

    init(upstreams: [Int]) throws {
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("logs"), withIntermediateDirectories: true)
        let servers = upstreams.map { "server 127.0.0.1:\($0);" }.joined(separator: " ")
        let configuration = """
            pid \(folder.path)/nginx.pid;
            error_log \(folder.path)/logs/error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(folder.path)/body; proxy_temp_path \(folder.path)/proxy;
                fastcgi_temp_path \(folder.path)/fastcgi; uwsgi_temp_path \(folder.path)/uwsgi; scgi_temp_path \(folder.path)/scgi;
                upstream gateways { \(servers) }
                server {
                    listen 127.0.0.1:\(port);
                    location / {
                        proxy_pass http://gateways;
                        proxy_set_header Host $host:$server_port;
                        add_header X-Upstream $upstream_addr always;
                    }
                }
            }
            """
        let file = folder.appendingPathComponent("nginx.conf")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        process.arguments = ["-c", file.path, "-p", folder.path, "-g", "daemon off;"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if (try? Data(contentsOf: folder.appendingPathComponent("nginx.pid"))) != nil { return }
            usleep(50_000)
        }
        throw AccountStoreError(
            "nginx did not start: \((try? String(contentsOf: folder.appendingPathComponent("logs/error.log"), encoding: .utf8)) ?? "")")
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }
}
