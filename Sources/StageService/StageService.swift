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
        try await ServiceHost.runWithOutbox(
            service: "StageService", defaultPort: 8082, queue: ServiceQueues.stageCommands, options: options)
    }
}
