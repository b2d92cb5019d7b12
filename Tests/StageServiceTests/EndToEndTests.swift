import AMQPClient
import Contracts
import Foundation
import Messaging
import OfflineDrafts
import ServiceTestSupport
import Testing

@testable import ProviderGateway

/// The whole system as separate processes on real RabbitMQ (a virtual host of its own), driven by the `aiwf` CLI as
/// a developer would: every built-in workflow from create to done, its approvals decided through ApprovalService.
@Suite("End to end on RabbitMQ", .serialized, .timeLimit(.minutes(6)))
struct EndToEndTests {
    /// The system with its Gateway: the CLI's way in, as the admin whose key it has.
    struct Running {
        let system: TestSystem
        let base: String
        let key: String
        /// The admin as the services see them.
        let owner: Actor
    }

    /// Runs the CLI with the admin's key; returns what it printed.
    static func cli(_ running: Running, _ arguments: [String]) async throws -> String {
        let result = try await runProcess(
            try ServiceProcess.binary("aiwf"), arguments,
            environment: ProcessInfo.processInfo.environment.merging(["AIWF_URL": running.base, "AIWF_API_KEY": running.key]) { $1 })
        guard result.status == 0 else {
            throw CLIFailure(description: "aiwf \(arguments.joined(separator: " ")): \(result.output)\(result.errors)")
        }
        return result.output
    }

    /// The four services the engine needs and the Gateway, on a virtual host of their own.
    static func startSystem() async throws -> Running {
        let system = try await TestSystem(repository: repository)
        let problems = try await system.startEngine()
        #expect(problems.isEmpty, "\(problems)")
        let (base, key, userID) = try await system.startGateway()
        return Running(system: system, base: base, key: key, owner: Actor(userID: userID, roles: ["admin"]))
    }

    /// SIGKILL StageService as the design approval comes in and the pages are to be written, start it again: the project finishes, no task
    /// is generated twice (the provider's call count equals the generations the tasks record) and no approval is
    /// requested twice.
    @Test func aStageServiceKilledMidWorkflowFinishesItWithNothingDoneTwice() async throws {
        let running = try await Self.startSystem()
        let system = running.system
        defer { system.stop() }
        let bus = AMQPBus(url: try AMQPURL(system.url), serviceName: "e2e-crash", logger: quiet)
        defer { Task { await bus.close() } }
        let context = MessageContext(actor: running.owner)
        let arguments = websiteParams.sorted { $0.key < $1.key }.flatMap { ["--param", "\($0.key)=\($0.value.jsonString())"] }
        let id =
            try await Self.cli(running, ["create", "website", "--name", "Crash", "--start"] + arguments).split(separator: "\n").first.map(
                String.init)
            ?? ""
        var killed = false
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let project = try await bus.request(GetProject(projectID: id), context: context, timeout: .seconds(5)).project
            if project.state == .done || project.state == .failed { break }
            if project.state == .approvalPending,
                try await !bus.request(ListPendingApprovals(userID: running.owner.userID, projectID: id), context: context).isEmpty
            {
                _ = try await Self.cli(running, ["approve", id])
                if !killed {
                    // The design is approved: the decision is on its way and the pages are about to be written.
                    system.kill("StageService")
                    killed = true
                    #expect(try await system.start("StageService").0)
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(killed, "StageService was killed in the middle of the workflow")
        let detail = try await bus.request(GetProject(projectID: id), context: context)
        #expect(detail.project.state == .done, "\(detail.project.message ?? "")")
        let events = try await bus.request(GetProjectEvents(projectID: id, limit: 1000), context: context)
        #expect(events.contains { $0.kind == "task.streaming" }, "ProviderGateway streamed answers to StageService")
        let generations = detail.tasks.reduce(0) { $0 + $1.attempts }
        let metrics = try String(
            contentsOf: URL(string: "http://127.0.0.1:\(system.ports["ProviderGateway"] ?? 0)/metrics")!, encoding: .utf8)
        let calls = metrics.split(separator: "\n").first { $0.hasPrefix("aiwf_provider_requests_total{provider=\"local\"}") }
            .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
        #expect(calls == Double(generations), "provider calls \(calls ?? -1) for \(generations) generations")
        let history = try await bus.request(GetApprovalHistory(projectID: id), context: context)
        #expect(Set(history.map(\.stageRunID)).count == history.count, "one approval per stage run")
        #expect(history.count == 2, "the design and the content review")
    }

    /// `aiwf admin`: dead letters listed and replayed through the API (a message that died in a queue goes back to
    /// it), and an online backup of a running service's database that is complete and passes its integrity check.
    @Test func theAdminCommandsReplayDeadLettersAndBackUpRunningDatabases() async throws {
        let running = try await Self.startSystem()
        let system = running.system
        defer { system.stop() }
        let bus = AMQPBus(url: try AMQPURL(system.url), serviceName: "e2e-admin", logger: quiet)
        defer { Task { await bus.close() } }
        let dead = ServiceQueues.approvalCommands + ".dead"
        // A message as one waits after failing; replayed, it goes back to its queue (where this one, not being an
        // envelope, is dead-lettered again: replay is for after the fix).
        try await bus.publish([OutgoingMessage(exchange: Exchange.default, routingKey: dead, body: Data("{\"not\": \"an envelope\"}".utf8))]
        )
        #expect(try await Self.cli(running, ["admin", "dead-letters"]).contains("\(dead)"))
        let replayed = try await Self.cli(running, ["admin", "replay-dead-letters", dead])
        #expect(replayed.contains("1 message(s) moved back into \(ServiceQueues.approvalCommands)"), "\(replayed)")
        await #expect(throws: CLIFailure.self) { _ = try await Self.cli(running, ["admin", "replay-dead-letters", "no.such.dead"]) }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aiwf-backup-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = system.folder.appendingPathComponent("StageService")
        let printed = try await Self.cli(running, ["admin", "backup", "--data-dir", data.path, "--to", folder.path])
        #expect(printed.contains("backed up 1 database(s)"), "\(printed)")
        let copies = try FileManager.default.subpathsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sqlite") }
        #expect(copies.count == 1 && copies[0].hasSuffix("StageService.sqlite"), "\(copies)")
        await #expect(throws: CLIFailure.self) {
            _ = try await Self.cli(running, ["admin", "backup", "--data-dir", folder.path + "/nothing", "--to", folder.path])
        }
    }

    @Test func everyBuiltInWorkflowRunsToDoneDrivenByTheCLI() async throws {
        let running = try await Self.startSystem()
        let system = running.system
        defer { system.stop() }

        let bus = AMQPBus(url: try AMQPURL(system.url), serviceName: "e2e-test", logger: quiet)
        defer { Task { await bus.close() } }
        let context = MessageContext(actor: running.owner)
        for code in ["website", "ebook", "course", "survey", "video"] {
            let template = try await bus.request(GetTemplate(code: code), context: context)
            var generator = DraftWriter(prompt: "Business: A family bakery")
            let params = generator.instance(of: template.definition["params_schema"] ?? [:], name: code).objectValue ?? [:]
            let arguments = params.sorted { $0.key < $1.key }.flatMap { ["--param", "\($0.key)=\($0.value.jsonString())"] }
            let id =
                try await Self.cli(running, ["create", code, "--name", "E2E \(code)", "--start"] + arguments).split(separator: "\n").first
                ?? ""
            var changesRequested = false
            var decisions = 0
            let deadline = ContinuousClock.now + .seconds(90)
            while ContinuousClock.now < deadline {
                let project = try await bus.request(GetProject(projectID: String(id)), context: context).project
                if project.state == .done || project.state == .failed { break }
                if project.state == .approvalPending,
                    try await !bus.request(ListPendingApprovals(userID: running.owner.userID, projectID: project.id), context: context)
                        .isEmpty
                {
                    if code == "website", project.stage == "content_review", !changesRequested {
                        _ = try await Self.cli(running, ["request-changes", project.id, "--feedback", "Mention the sourdough"])
                        changesRequested = true
                    } else {
                        _ = try await Self.cli(running, ["approve", project.id])
                    }
                    decisions += 1
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let detail = try await bus.request(GetProject(projectID: String(id)), context: context)
            #expect(detail.project.state == .done, "\(code): \(detail.project.state) \(detail.project.message ?? "")")
            #expect(decisions >= 1, "\(code) passed its approval gates")
            if code == "website" {
                #expect(changesRequested)
                #expect(detail.stageRuns.filter { $0.stage == "page_content" }.count == 2, "the pages were written again after the request")
            }
            // Each workflow ends in its real files, each stored as an artifact.
            let names = Set(detail.artifacts.map(\.name))
            let expected: [String: (String) -> Bool] = [
                "website": { $0 == "site.zip" || $0 == "site/index.html" || $0 == "site/sitemap.xml" },
                "ebook": { $0.hasSuffix(".epub") || $0.hasSuffix(".pdf") || $0.hasSuffix(".md") },
                "course": { ["course.json", "course-scorm.zip", "course-html.zip", "course-handbook.pdf"].contains($0) },
                "survey": { $0 == "survey.json" },
                "video": { $0.hasSuffix(".mp4") || $0.hasSuffix(".srt") || $0.hasSuffix(".vtt") || $0 == "storyboard.json" },
            ]
            let wanted = ["website": 3, "ebook": 3, "course": 4, "survey": 1, "video": 4][code] ?? 0
            #expect(names.filter(expected[code]!).count == wanted, "\(code): \(names.sorted())")
            if code == "ebook", let epub = detail.artifacts.first(where: { $0.name.hasSuffix(".epub") }) {
                let bytes = try await bus.request(ReadArtifact(projectID: String(id), artifactID: epub.id), context: context)
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-\(id).epub")
                try bytes.data.write(to: file)
                let check = try await runProcess(
                    URL(fileURLWithPath: "/usr/bin/java"), ["-jar", "/usr/share/java/epubcheck.jar", file.path])
                #expect(check.status == 0, "the offline book passes epubcheck: \(check.output)")
            }
            let status = try await Self.cli(running, ["status", String(id)])
            #expect(status.contains("done  100%"), "\(status)")
        }
    }
}

struct CLIFailure: Error, CustomStringConvertible {
    let description: String
}
