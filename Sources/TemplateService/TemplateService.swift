import ArgumentParser
import Contracts
import Foundation
import ServiceKit

/// Workflow templates, stages and prompt templates.
@main
struct TemplateServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "TemplateService", abstract: "Workflow templates, stages and prompt templates."
    )

    @OptionGroup var options: ServiceOptions

    @Option(name: .customLong("workflows-dir"), help: "Folder of the built-in workflows (AIWF_WORKFLOWS_DIR; default ./Workflows).")
    var workflowsDirectory: String?

    func run() async throws {
        let host = ServiceHost(configuration: try options.resolve(service: "TemplateService", defaultPort: 8081))
        let directory = ServiceOptions.pick(workflowsDirectory, "AIWF_WORKFLOWS_DIR") ?? "./Workflows"
        let service = try await TemplateService.build(
            host: host, workflowsDirectory: URL(fileURLWithPath: directory), bus: host.bus
        )
        try await host.run(
            topology: service.topology,
            services: [service.outbox, host.consumer("template-requests") { try await service.serve() }]
        )
    }
}
