import AMQPClient
import Contracts
import Foundation
import GRDB
import Logging
import Messaging
import ServiceStorage
import ServiceTestSupport

@testable import ApprovalService

let quiet: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}()

/// An ApprovalService over an in-memory bus and a SQLite file in its own folder, which can be built again on the
/// same file as a restart would.
struct TestBed {
    let folder: URL
    let bus = InMemoryBus(logger: quiet)
    var settings: ApprovalSettings

    init(webhooks: [String] = [], smtp: SMTPSettings? = nil) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("aiwf-approvals-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let options = try ApprovalOptions.parse(["--portal-url", "http://portal.test/"] + webhooks.flatMap { ["--webhook-url", $0] })
        settings = try options.resolve(dataDirectory: folder, environment: ["AIWF_WEBHOOK_SECRET": "a-test-secret-of-32-characters!!"])
        settings.smtp = smtp
    }

    /// A service on the bed's database file: calling it again is a restart.
    func start() async throws -> ApprovalService {
        let database = try ServiceDatabase.open(
            at: folder.appendingPathComponent("approvals.sqlite").path, migrations: ApprovalSchema.migrate)
        let service = try ApprovalService.build(database: database, bus: bus, settings: settings, logger: quiet)
        try await bus.declare(
            Topology.standardExchanges + service.topology + .workQueue("test.events", bindings: [(Exchange.events, "approval.#")]))
        return service
    }

    var mailFolder: URL { settings.mailFolder }

    /// Events published so far, by type.
    func events<E: Event>(_: E.Type) throws -> [E] {
        try bus.messages(in: "test.events").compactMap { body in
            guard (try? MessageCoder().decode(EnvelopeHeader.self, from: body))?.type == E.type else { return nil }
            return try MessageCoder().decode(Envelope<E>.self, from: body).payload
        }
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }
}

/// A request for a website's pages, reviewed by Ana (a user) and a client reached by email.
func pagesApproval(
    run: String = "run-1", hash: String = "h0", assignees: [Assignee] = [.user("ana"), .email("client@example.com")],
    policy: ApprovalPolicy = .any, remindAfterHours: Double? = nil, expireAfterDays: Double? = nil, escalateTo: [Assignee] = []
) -> RequestApproval {
    RequestApproval(
        projectID: "project-1", stageRunID: run, stage: "pages", approvalType: .content, contentHash: hash, summary: "Three pages",
        items: [
            ApprovalItem(id: "home", title: "Home", contentHash: "hh", content: "Welcome"),
            ApprovalItem(id: "about", title: "About", contentHash: "ha", content: "About us"),
        ],
        assignees: assignees, policy: policy, remindAfterHours: remindAfterHours, expireAfterDays: expireAfterDays, escalateTo: escalateTo)
}

/// The Gateway's part in tests: it authenticates a user and sends their decision with them as the envelope's actor.
extension DecideApproval {
    /// The signed-in user this test decision is made by, taken from its decider.
    var signedIn: Actor? { decider.userID.map { Actor(userID: $0, roles: decider.roles) } }
}

extension Approvals {
    /// Decides as the decider's user would, signed in through the Gateway.
    func decide(_ request: DecideApproval) async throws -> ApprovalView {
        try await decide(request, actor: request.signedIn)
    }
}

extension InMemoryBus {
    /// Sends a decision as the Gateway does: the decider's user as the envelope's actor.
    func request(_ request: DecideApproval) async throws -> ApprovalView {
        try await self.request(request, context: MessageContext(actor: request.signedIn))
    }
}
