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
        try await ServiceHost.runWithOutbox(
            service: "ProviderGateway", defaultPort: 8083, queue: ServiceQueues.providerCommands, options: options)
    }
}
