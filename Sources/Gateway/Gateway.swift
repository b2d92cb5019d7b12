import ArgumentParser
import Contracts
import ServiceKit

/// The REST API, the portal, the admin pages and the docs.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Gateway", abstract: "The REST API, the portal, the admin pages and the docs.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        let host = ServiceHost(configuration: try options.resolve(service: "Gateway", defaultPort: 8080))
        let database = try host.openDatabase()
        let outbox = Outbox(database: database, bus: host.bus, logger: host.logger)
        try await host.run(topology: .workQueue(ServiceQueues.gatewayEvents), services: [outbox])
    }
}
