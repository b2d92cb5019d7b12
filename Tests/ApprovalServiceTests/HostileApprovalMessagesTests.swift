import AMQPClient
import Contracts
import Foundation
import Logging
import Messaging
import ServiceTestSupport
import Testing

/// The real ApprovalService process, sent what an outside AMQP client could send to its queues: hostile commands
/// are dead-lettered, hostile decisions refused with a code, and the service keeps working.
@Suite("Hostile messages against a running ApprovalService", .timeLimit(.minutes(1)))
struct HostileApprovalMessagesTests {
    @Test func hostileCommandsAreDeadLetteredHostileDecisionsRefusedAndTheServiceGoesOn() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-approvals-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let url = try AMQPURL(ProcessInfo.processInfo.environment["AIWF_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/")
        let client = AMQPBus(url: url, serviceName: "test.hostile-approvals", logger: logger)
        let dead = "\(ServiceQueues.approvalCommands).dead"
        try await client.declare(Topology.standardExchanges + .workQueue(ServiceQueues.approvalCommands))
        try await client.purge(queue: dead)

        let port = ServiceProcess.freePort()
        let service = try ServiceProcess(
            "ApprovalService", arguments: ["--http-port", "\(port)", "--data-dir", folder.path, "--log-level", "warning"],
            folder: folder)
        defer { service.kill() }
        #expect(await service.waitUntilReady(port: port), "not ready: \(service.logText.suffix(500))")

        let project = "hostile-\(UUID().uuidString.prefix(8))"
        func command(_ request: RequestApproval) throws -> OutgoingMessage {
            var message = try OutgoingMessage.command(request, context: MessageContext())
            (message.exchange, message.routingKey) = ("", ServiceQueues.approvalCommands)
            return message
        }
        func approval(_ run: String, assignees: [Assignee]) -> RequestApproval {
            RequestApproval(
                projectID: project, stageRunID: run, stage: "pages", approvalType: .content, contentHash: "h0", summary: "Pages",
                assignees: assignees)
        }
        let hostile: [OutgoingMessage] = [
            OutgoingMessage(exchange: "", routingKey: ServiceQueues.approvalCommands, body: Data("not json".utf8)),
            OutgoingMessage(exchange: "", routingKey: ServiceQueues.approvalCommands, body: Data(#"{"id":"x","type":"?"}"#.utf8)),
            try command(approval("no-one", assignees: [])),
            try command(approval("injection", assignees: [.email("a@example.com\r\nBcc: all@example.com")])),
            OutgoingMessage(
                exchange: "", routingKey: ServiceQueues.approvalCommands, body: Data(repeating: 0x20, count: 9 * 1024 * 1024)),
        ]
        try await client.publish(hostile)
        try await client.publish(try command(approval("ordinary", assignees: [.role("editor")])))

        var pending: [ApprovalView] = []
        let deadline = ContinuousClock.now + .seconds(15)
        while pending.isEmpty, ContinuousClock.now < deadline {
            pending = try await client.request(ListPendingApprovals(projectID: project), timeout: .seconds(5))
            if pending.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(pending.map(\.stageRunID) == ["ordinary"])
        var deadLettered = 0
        while deadLettered < hostile.count, ContinuousClock.now < deadline {
            deadLettered = try await client.messageCount(queue: dead)
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(deadLettered == hostile.count)

        // A decision without a signed-in actor, one claiming a role in its body, and one for nothing that exists.
        let id = try #require(pending.first?.id)
        let claim = DecideApproval(approvalID: id, decider: .user("mallory", roles: ["editor"]), decision: .approve, contentHash: "h0")
        for (request, code) in [
            (claim, "not-allowed"),
            (DecideApproval(approvalID: "nothing", decider: Decider(), decision: .approve, contentHash: "h0"), "not-found"),
        ] {
            do {
                _ = try await client.request(request, context: MessageContext(actor: Actor(userID: "mallory")), timeout: .seconds(5))
                Issue.record("accepted: \(request)")
            } catch let error as RemoteError {
                #expect(error.code == code)
            }
        }
        let decided = try await client.request(
            claim, context: MessageContext(actor: Actor(userID: "mallory", roles: ["editor"])), timeout: .seconds(5))
        #expect(decided.state == .approved)
        #expect(service.isRunning, "\(service.logText.suffix(800))")
        try await client.purge(queue: dead)
        await client.close()
    }
}
