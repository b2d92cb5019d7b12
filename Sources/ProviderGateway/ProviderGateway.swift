import ArgumentParser
import Contracts
import ServiceKit

/// Calls to AI providers under global limits, with retries and fallbacks.
@main
struct ProviderGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ProviderGateway", abstract: "Calls to AI providers under global limits, with retries and fallbacks.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        let host = ServiceHost(configuration: try options.resolve(service: "ProviderGateway", defaultPort: 8083))
        let database = try host.openDatabase()
        let outbox = Outbox(database: database, bus: host.bus, logger: host.logger)
        try await host.run(topology: .workQueue(ServiceQueues.providerCommands), services: [outbox])
    }
}
