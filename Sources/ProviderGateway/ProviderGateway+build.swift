import AsyncHTTPClient
import Contracts
import Foundation
import GRDB
import Logging
import ServiceKit

/// The gateway's parts: the dispatcher that puts each request in its provider's lane, and one consumer per lane.
struct ProviderGateway: Sendable {
    let configuration: ProvidersConfiguration
    let bus: any MessageBus
    let outbox: Outbox
    let generator: Generator
    let database: any DatabaseWriter
    let logger: Logger

    init(
        configuration: ProvidersConfiguration,
        database: any DatabaseWriter,
        bus: any MessageBus,
        logger: Logger,
        httpClient: HTTPClient = .shared,
        gate: any CallGate = OpenGate(),
        clients overrides: [String: any ProviderClient] = [:]
    ) {
        self.configuration = configuration
        self.bus = bus
        self.database = database
        self.logger = logger
        self.outbox = Outbox(database: database, bus: bus, logger: logger)
        var clients: [String: any ProviderClient] = [:]
        for (name, provider) in configuration.providers {
            let poster = JSONPoster(client: httpClient, timeout: provider.requestTimeout)
            switch provider.kind {
            case .openai, .openAICompatible:
                clients[name] = OpenAIClient(baseURL: provider.baseURL, apiKey: provider.apiKey, poster: poster)
            case .anthropic: clients[name] = AnthropicClient(baseURL: provider.baseURL, apiKey: provider.apiKey, poster: poster)
            case .local: clients[name] = LocalProvider()
            }
        }
        self.generator = Generator(
            configuration: configuration, clients: clients.merging(overrides) { $1 }, health: LaneHealth(), gate: gate, logger: logger
        )
    }

    /// The queue of a provider's lane: one slow or limited provider never delays another.
    static func laneQueue(_ provider: String) -> String { "provider.lane.\(provider)" }

    var topology: Topology {
        configuration.providers.keys.sorted().reduce(
            .workQueue(ServiceQueues.providerCommands, bindings: [(Exchange.commands, GenerateContent.type)])
        ) { topology, name in topology + .workQueue(Self.laneQueue(name)) } + limitPlans.values.map(\.topology).reduce(Topology(), +)
    }

    /// The global limits of every provider that has any.
    var limitPlans: [String: LaneLimitPlan] {
        configuration.providers.compactMapValues { provider in provider.kind == .local ? nil : LaneLimitPlan(provider: provider) }
    }

    /// Moves each request to the lane of the provider it asks for (or the default one).
    func dispatch() async throws {
        try await bus.consume(queue: ServiceQueues.providerCommands, options: ConsumeOptions(prefetch: 64, concurrency: 8)) { message in
            let request = try message.decode(GenerateContent.self).payload
            let provider = request.provider ?? configuration.defaultProvider
            guard configuration.providers[provider] != nil else {
                try await outbox.handleOnce(message, consumer: "provider-lanes") { _ in
                    try [
                        result(
                            .failed(
                                GenerationFailed(
                                    requestID: request.requestID, kind: "configuration", message: "unknown provider '\(provider)'",
                                    retryable: false, attempts: 0)), causedBy: message)
                    ]
                }
                return
            }
            try await bus.publish(
                OutgoingMessage(
                    exchange: Exchange.default, routingKey: Self.laneQueue(provider), body: message.body,
                    messageID: message.header.id.uuidString, mandatory: true, type: GenerateContent.type
                )
            )
        }
    }

    /// Serves one lane with the provider's concurrency; a request already answered is not sent again.
    func serveLane(_ provider: String) async throws {
        let concurrency = configuration.providers[provider]?.limits.maxConcurrency ?? 1
        let options = ConsumeOptions(prefetch: UInt16(concurrency), concurrency: concurrency)
        try await bus.consume(queue: Self.laneQueue(provider), options: options) { message in
            guard try await !Outbox.wasHandled(messageID: message.header.id.uuidString, consumer: "provider-lanes", in: database) else {
                return
            }
            let request = try message.decode(GenerateContent.self).payload
            let outcome = await generator.generate(request)
            try await outbox.handleOnce(message, consumer: "provider-lanes") { _ in [try result(outcome, causedBy: message)] }
        }
    }

    private func result(_ outcome: GenerationResult, causedBy message: IncomingMessage) throws -> OutgoingMessage {
        switch outcome {
        case .generated(let event):
            return try .event(event, context: MessageContext(causedBy: message, idempotencyKey: event.requestID))
        case .failed(let event):
            return try .event(event, context: MessageContext(causedBy: message, idempotencyKey: event.requestID))
        }
    }
}
