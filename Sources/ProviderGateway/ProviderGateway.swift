import AMQPClient
import ArgumentParser
import Contracts
import Foundation
import ServiceKit
import ServiceLifecycle

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
        let path = ServiceOptions.pick(providersFile, "AIWF_PROVIDERS_FILE") ?? "./providers.yaml"
        let providers = try ProvidersConfiguration.load(path: path)
        let database = try host.openDatabase(migrations: AnswerLedger.migrate)
        let plans = LaneLimitPlan.plans(for: providers)
        // The limits are kept in the broker's own queues, so they need the AMQP client itself, on a connection of
        // their own (a slot is an unacknowledged delivery held for the length of a call).
        var limitsOptions = AMQPConnectionOptions(url: host.configuration.amqpURL, name: "ProviderGateway.limits")
        limitsOptions.alternates = host.configuration.amqpAlternates
        let limits = AMQPConnection(options: limitsOptions, logger: host.logger)
        host.readiness.add("limits") { limits.isConnected }
        let gateway = ProviderGateway(
            configuration: providers, database: database, bus: host.bus, logger: host.logger,
            gate: BrokerGate(connection: limits, plans: plans)
        )
        // Closed after every lane has stopped: slots still held go back to their queue with the connection.
        do {
            try await run(host: host, gateway: gateway, providers: providers, plans: plans)
        } catch {
            await limits.close()
            throw error
        }
        await limits.close()
    }

    private func run(
        host: ServiceHost, gateway: ProviderGateway, providers: ProvidersConfiguration, plans: [String: LaneLimitPlan]
    ) async throws {
        let pacers = plans.values.sorted { $0.provider < $1.provider }.map { plan in
            host.consumer("pacer-\(plan.provider)") {
                // Pacing has no work to finish: it simply stops with the service.
                await cancelWhenGracefulShutdown {
                    await Pacer(
                        plan: plan, url: host.configuration.amqpURL, alternates: host.configuration.amqpAlternates,
                        serviceName: "ProviderGateway", logger: host.logger
                    ).run()
                }
            }
        }
        try await host.run(
            topology: gateway.topology,
            services: [
                host.consumer("requests") { try await gateway.serveRequests() },
                host.consumer("lane-depths") { await cancelWhenGracefulShutdown { await gateway.watchLaneDepths() } },
                host.consumer("ledger-pruning") {
                    await cancelWhenGracefulShutdown { await gateway.ledger.pruneRegularly(logger: host.logger) }
                },
            ]
                + providers.providers.keys.sorted().map { name in host.consumer("lane-\(name)") { try await gateway.serveLane(name) } }
                + providers.providers.keys.sorted().map { name in
                    host.consumer("interactive-\(name)") { try await gateway.serveInteractive(name) }
                }
                + pacers
        )
    }
}
