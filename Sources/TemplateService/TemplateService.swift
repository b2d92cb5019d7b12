import ArgumentParser
import Contracts
import ServiceKit

/// Workflow templates, stages and prompt templates.
@main
struct TemplateServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "TemplateService", abstract: "Workflow templates, stages and prompt templates.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        let host = ServiceHost(configuration: try options.resolve(service: "TemplateService", defaultPort: 8081))
        let database = try host.openDatabase()
        let outbox = Outbox(database: database, bus: host.bus, logger: host.logger)
        try await host.run(topology: .workQueue(ServiceQueues.templateCommands), services: [outbox])
    }
}
