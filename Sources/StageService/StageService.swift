import ArgumentParser
import Contracts
import ServiceKit

/// Projects moving through their workflow's stages.
@main
struct StageServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "StageService", abstract: "Projects moving through their workflow's stages.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        let host = ServiceHost(configuration: try options.resolve(service: "StageService", defaultPort: 8082))
        let database = try host.openDatabase()
        let outbox = Outbox(database: database, bus: host.bus, logger: host.logger)
        try await host.run(topology: .workQueue(ServiceQueues.stageCommands), services: [outbox])
    }
}
