import AMQPClient
import Contracts
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Logging
import Messaging
import ServiceStorage
import Synchronization
import Testing

@testable import ApprovalService
@testable import Gateway
@testable import StageService
@testable import TemplateService

let quiet: Logger = {
    var logger = Logger(label: "gateway-tests")
    logger.logLevel = .critical
    return logger
}()

let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The Gateway over an in-memory bus with TemplateService and StageService answering behind it, as in production but
/// in one process; a first admin `admin@example.com`. With `approvals`, an ApprovalService too, whose e-mails are
/// files in ``mailFolder``.
final class GatewayBed: Sendable {
    static let adminEmail = "admin@example.com"
    static let adminPassword = "correct horse battery"

    let bus = InMemoryBus(logger: quiet)
    let app: GatewayApp
    private let background = Mutex<[Task<Void, any Error>]>([])

    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-\(UUID().uuidString)")
    var mailFolder: URL { folder.appendingPathComponent("mail") }

    init(requestsPerMinute: Int = 6000, approvals: Bool = false) async throws {
        let accounts = Accounts(
            store: SQLiteAccountStore(database: try ServiceDatabase.inMemory(migrations: SQLiteAccountStore.migrate)), bcryptCost: 4)
        try await accounts.ensureFirstAdmin(email: Self.adminEmail, password: Self.adminPassword, logger: quiet)
        app = try GatewayApp(
            accounts: accounts, bus: bus, requestTimeout: .seconds(5), requestsPerMinute: requestsPerMinute,
            docs: DocsLibrary(directory: repository.appendingPathComponent("docs")))
        let templates = try await TemplateService.build(
            database: try ServiceDatabase.inMemory(migrations: TemplateStore.migrate),
            workflowsDirectory: repository.appendingPathComponent("Workflows"), bus: bus, logger: quiet)
        var settings = EngineSettings()
        settings.artifactsDirectory = folder
        let stages = StageService.build(
            database: try ServiceDatabase.inMemory(migrations: StageSchema.migrate), bus: bus, templates: BusTemplateSource(bus: bus),
            prices: FixedPrices(list: nil), settings: settings, logger: quiet)
        var topology = Topology.standardExchanges + templates.topology + stages.topology + app.live.topology
        if approvals {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let approvalSettings = try ApprovalOptions.parse(["--portal-url", "http://portal.test"]).resolve(
                dataDirectory: folder, environment: ["AIWF_WEBHOOK_SECRET": "a-test-secret-of-32-characters!!"])
            let service = try ApprovalService.build(
                database: try ServiceDatabase.inMemory(migrations: ApprovalSchema.migrate), bus: bus, settings: approvalSettings,
                logger: quiet)
            topology = topology + service.topology
            start { try await service.consumeRequests() }
            start { try await service.serveDecisions() }
            start { await service.dispatcher.run() }
        }
        try await bus.declare(topology)
        let bus = self.bus
        let live = app.live
        start { try await templates.serve() }
        start { try await stages.serveCommands() }
        start { try await stages.serveQueries() }
        start { try await live.consume(bus) }
    }

    private func start(_ body: @escaping @Sendable () async throws -> Void) {
        let task = Task { try await body() }
        background.withLock { $0.append(task) }
    }

    func stop() {
        background.withLock { tasks in tasks.forEach { $0.cancel() } }
        try? FileManager.default.removeItem(at: folder)
    }

    /// Runs `body` with a client of the router (no socket).
    func test<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await Application(router: app.router()).test(.router, body)
    }
}

/// Headers for HTTP Basic or a Bearer key.
enum Credentials {
    static func basic(_ email: String, _ password: String) -> HTTPFields {
        [.authorization: "Basic " + Data("\(email):\(password)".utf8).base64EncodedString()]
    }

    static func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)"] }
}

extension TestClientProtocol {
    /// A JSON request; returns the status and the parsed body.
    @discardableResult
    func json(
        _ method: HTTPRequest.Method, _ path: String, _ headers: HTTPFields = [:], body: String? = nil
    ) async throws -> (status: HTTPResponse.Status, body: JSONValue, headers: HTTPFields) {
        var headers = headers
        if body != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            let data = Data(buffer: response.body)
            return (response.status, (try? JSONValue.parse(data)) ?? .string(String(decoding: data, as: UTF8.self)), response.headers)
        }
    }

    /// A new user with a key of their own; returns the key.
    func user(_ email: String, admin: HTTPFields) async throws -> String {
        let made = try await json(.post, "/api/v1/users", admin, body: #"{"email": "\#(email)", "password": "a long password"}"#)
        #expect(made.status == .created, "\(made.body)")
        let key = try await json(.post, "/api/v1/keys", Credentials.basic(email, "a long password"), body: #"{"name": "tests"}"#)
        return key.body["key"]?.stringValue ?? ""
    }

    func adminKey() async throws -> String {
        let key = try await json(
            .post, "/api/v1/keys", Credentials.basic(GatewayBed.adminEmail, GatewayBed.adminPassword), body: #"{"name": "admin"}"#)
        return key.body["key"]?.stringValue ?? ""
    }
}
