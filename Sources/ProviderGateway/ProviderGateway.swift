import ArgumentParser
import Contracts
import Foundation
import ServiceKit

/// Calls to AI providers under global limits, with retries and fallbacks.
@main
struct ProviderGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ProviderGateway", abstract: "Calls to AI providers under global limits, with retries and fallbacks."
    )

    @OptionGroup var options: ServiceOptions

    @Option(name: .customLong("providers"), help: "The providers file (AIWF_PROVIDERS_FILE; default ./providers.yaml).")
    var providersFile: String?

    func run() async throws {
        let host = ServiceHost(configuration: try options.resolve(service: "ProviderGateway", defaultPort: 8083))
        let path = providersFile ?? ProcessInfo.processInfo.environment["AIWF_PROVIDERS_FILE"] ?? "./providers.yaml"
        let providers = try ProvidersConfiguration.load(path: path)
        let database = try host.openDatabase()
        let gateway = ProviderGateway(configuration: providers, database: database, bus: host.bus, logger: host.logger)
        try await host.run(
            topology: gateway.topology,
            services: [gateway.outbox, host.consumer("provider-dispatch") { try await gateway.dispatch() }]
                + providers.providers.keys.sorted().map { name in host.consumer("lane-\(name)") { try await gateway.serveLane(name) } }
        )
    }
}
