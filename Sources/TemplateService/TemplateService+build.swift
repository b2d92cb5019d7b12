import AMQPClient
import Contracts
import Foundation
import GRDB
import Logging
import Messaging
import ServiceKit
import ServiceStorage
import WorkflowKit

/// The parts of TemplateService, built once by `main` and by the tests.
struct TemplateService: Sendable {
    let store: TemplateStore
    let bus: any MessageBus
    let outbox: Outbox
    let handlers: RequestHandlers
    let logger: Logger

    /// The commands queue, bound to every request type this service answers.
    var topology: Topology {
        .workQueue(ServiceQueues.templateCommands, bindings: handlers.types.map { (Exchange.commands, $0) })
    }

    static func build(host: ServiceHost, workflowsDirectory: URL, bus: any MessageBus) async throws -> TemplateService {
        let database = try host.openDatabase(migrations: TemplateStore.migrate)
        return try await build(database: database, workflowsDirectory: workflowsDirectory, bus: bus, logger: host.logger)
    }

    /// Opens the store, loads the built-in workflows (a changed file becomes a new version) and wires the handlers.
    static func build(database: any DatabaseWriter, workflowsDirectory: URL, bus: any MessageBus, logger: Logger) async throws
        -> TemplateService
    {
        let store = TemplateStore(database: database)
        try await loadBuiltIns(from: workflowsDirectory, into: store, logger: logger)
        return TemplateService(
            store: store, bus: bus, outbox: Outbox(database: database, bus: bus, logger: logger),
            handlers: TemplateHandlers(store: store).handlers, logger: logger
        )
    }

    /// Answers template requests until shutdown.
    func serve() async throws {
        try await bus.serve(handlers, queue: ServiceQueues.templateCommands, options: ConsumeOptions(prefetch: 16, concurrency: 4))
    }

    private static func loadBuiltIns(from directory: URL, into store: TemplateStore, logger: Logger) async throws {
        let folders = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        let workflows = folders.filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent("workflow.yaml").path) }
        if workflows.isEmpty {
            logger.warning("no built-in workflows found", metadata: ["directory": "\(directory.path)"])
        }
        for folder in workflows.sorted(by: { $0.path < $1.path }) {
            let loaded = try WorkflowLoader.load(directory: folder)
            let (summary, created) = try await store.save(loaded, builtIn: true)
            logger.info(
                created ? "built-in workflow stored" : "built-in workflow unchanged",
                metadata: ["template": "\(summary.code)", "version": "\(summary.version)"]
            )
        }
    }
}
