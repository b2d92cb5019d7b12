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
        try await ServiceHost.runWithOutbox(service: "Gateway", defaultPort: 8080, queue: ServiceQueues.gatewayEvents, options: options)
    }
}
