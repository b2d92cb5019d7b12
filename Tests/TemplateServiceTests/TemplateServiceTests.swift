import AMQPClient
import Contracts
import Foundation
import GRDB
import Logging
import Messaging
import ServiceStorage
import Testing
import WorkflowKit

@testable import TemplateService

/// TemplateService answering over a bus: in memory, and once over RabbitMQ.
@Suite("TemplateService", .timeLimit(.minutes(2)))
struct TemplateServiceTests {
    enum Transport: String, CaseIterable, CustomStringConvertible {
        case inMemory, rabbitMQ
        var description: String { rawValue }
    }

    static let workflows = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Workflows")

    static let custom = """
        code: newsletter
        name: Newsletter
        description: A weekly newsletter issue.
        params_schema:
          type: object
          required: [topic]
          properties:
            topic: {type: string, minLength: 3}
        stages:
          - code: draft
            name: Draft
            sequence: 10
            execution_mode: ai
            prompt:
              system: You write newsletters.
              user: "Write this week's issue about {{params.topic}}."
            output_schema: {type: object, properties: {body: {type: string}}}
        """

    /// Runs `body` against a started TemplateService on a fresh database; the queue is private to the test.
    private func withService(_ transport: Transport, _ body: (any MessageBus, String) async throws -> Void) async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let bus: any MessageBus
        var amqp: AMQPBus?
        switch transport {
        case .inMemory:
            bus = InMemoryBus(logger: logger)
        case .rabbitMQ:
            let url = try AMQPURL(ProcessInfo.processInfo.environment["AIWF_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/")
            amqp = AMQPBus(url: url, serviceName: "test.template-service", logger: logger)
            bus = amqp!
        }
        let queue = "test.templates.\(UUID().uuidString.prefix(8))"
        let database = try ServiceDatabase.inMemory(migrations: TemplateStore.migrate)
        let service = try await TemplateService.build(database: database, workflowsDirectory: Self.workflows, bus: bus, logger: logger)
        try await bus.declare(Topology.standardExchanges + .workQueue(queue, kind: .classic))
        let serving = Task { try await bus.serve(service.handlers, queue: queue) }
        defer { serving.cancel() }
        try await body(bus, queue)
        if let amqp {
            try? await amqp.delete(queue: queue)
            try? await amqp.delete(queue: queue + ".dead")
            await amqp.close()
        }
    }

    @Test(arguments: Transport.allCases)
    func listsBuiltInsUpsertsVersionsAndRefusesInvalidTemplates(transport: Transport) async throws {
        try await withService(transport) { bus, queue in
            let list = try await bus.request(ListTemplates(), queue: queue)
            #expect(list.map(\.code) == ["course", "ebook", "survey", "video", "website"])
            #expect(list.allSatisfy { $0.builtIn && $0.version == 1 })

            let first = try await bus.request(UpsertTemplate(yaml: Self.custom), queue: queue)
            #expect(first.version == 1 && !first.builtIn)
            let same = try await bus.request(UpsertTemplate(yaml: Self.custom), queue: queue)
            #expect(same.version == 1, "an unchanged template is not a new version")
            let changed = Self.custom.replacingOccurrences(of: "weekly", with: "monthly")
            let second = try await bus.request(UpsertTemplate(yaml: changed), queue: queue)
            #expect(second.version == 2)

            // A project pinned to version 1 still gets version 1.
            let pinned = try await bus.request(GetTemplate(code: "newsletter", version: 1), queue: queue)
            #expect(pinned.summary.description == "A weekly newsletter issue.")
            let latest = try await bus.request(GetTemplate(code: "newsletter"), queue: queue)
            #expect(latest.summary.version == 2)
            #expect(latest.definition["stages"]?.arrayValue?.count == 1)

            let broken = Self.custom.replacingOccurrences(of: "{{params.topic}}", with: "{{params.subject}}")
                .replacingOccurrences(of: "sequence: 10", with: "sequence: ten")
            let refusal = await #expect(throws: RemoteError.self) { try await bus.request(UpsertTemplate(yaml: broken), queue: queue) }
            #expect(refusal?.code == "invalid")
            #expect(refusal?.message.contains("stages[0].sequence") == true)

            let validation = try await bus.request(
                ValidateTemplate(yaml: Self.custom.replacingOccurrences(of: "{{params.topic}}", with: "{{params.subject}}")), queue: queue)
            #expect(!validation.valid)
            #expect(validation.issues.first?.path == "stages[0].prompt.user")
            #expect(validation.issues.first?.line == 16)
            #expect(validation.issues.first?.message.contains("params.subject") == true)

            let notFound = await #expect(throws: RemoteError.self) { try await bus.request(GetTemplate(code: "nothing"), queue: queue) }
            #expect(notFound?.code == "not-found")
            let takeover = await #expect(throws: RemoteError.self) {
                try await bus.request(
                    UpsertTemplate(yaml: Self.custom.replacingOccurrences(of: "code: newsletter", with: "code: website")), queue: queue)
            }
            #expect(takeover?.code == "conflict")
        }
    }

    @Test func previewsAStagePromptWithDefaultsAndRefusesBadParameters() async throws {
        try await withService(.inMemory) { bus, queue in
            let preview = try await bus.request(
                PreviewPrompt(
                    code: "website", stage: "analysis",
                    params: [
                        "company_name": "Harbour Dental", "industry": "dental clinic", "target_audience": "families",
                        "description": "A calm family dental practice by the harbour.", "page_count": 3,
                    ]
                ),
                queue: queue
            )
            #expect(preview.user.contains("Business: Harbour Dental"))
            #expect(preview.user.contains("Kind of website: business"), "default params fill what the request leaves out")
            #expect(preview.system?.contains("JSON object") == true)
            let refusal = await #expect(throws: RemoteError.self) {
                try await bus.request(PreviewPrompt(code: "website", stage: "analysis", params: ["page_count": 40]), queue: queue)
            }
            #expect(refusal?.message.contains("/page_count: must be at most 10") == true)
        }
    }

    @Test func aChangedBuiltInFileBecomesANewVersionOnRestart() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("workflows-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("newsletter"), withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("newsletter/workflow.yaml")
        try Self.custom.write(to: file, atomically: true, encoding: .utf8)
        let database = try ServiceDatabase.inMemory(migrations: TemplateStore.migrate)
        let bus = InMemoryBus()
        _ = try await TemplateService.build(database: database, workflowsDirectory: folder, bus: bus, logger: Logger(label: "test"))
        _ = try await TemplateService.build(database: database, workflowsDirectory: folder, bus: bus, logger: Logger(label: "test"))
        #expect(try await TemplateStore(database: database).latest().map(\.version) == [1])
        try Self.custom.replacingOccurrences(of: "weekly", with: "daily").write(to: file, atomically: true, encoding: .utf8)
        _ = try await TemplateService.build(database: database, workflowsDirectory: folder, bus: bus, logger: Logger(label: "test"))
        #expect(try await TemplateStore(database: database).latest().map(\.version) == [2])
        #expect(
            try await TemplateStore(database: database).document(code: "newsletter", version: 1)?.summary.description
                == "A weekly newsletter issue.")
    }
}
