import AsyncHTTPClient
import Contracts
import Foundation
import GRDB
import Logging
import Metrics
import ServiceKit

/// The gateway's parts: one lane (queue and consumer) per provider, and the outbox its results leave through.
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

    /// One lane per provider, bound to `aiwf.commands` with the provider's routing key; the default provider's lane
    /// also takes requests that name no provider. A request for a provider nobody serves is unroutable at once.
    var topology: Topology {
        configuration.providers.keys.sorted().reduce(Topology()) { topology, name in
            var bindings = [(Exchange.commands, GenerateContent.routingKey(provider: name))]
            if name == configuration.defaultProvider { bindings.append((Exchange.commands, GenerateContent.type)) }
            return topology + .workQueue(Self.laneQueue(name), bindings: bindings)
        } + limitPlans.values.sorted { $0.provider < $1.provider }.map(\.topology).reduce(Topology(), +)
    }

    /// The global limits of every provider that has any.
    var limitPlans: [String: LaneLimitPlan] { LaneLimitPlan.plans(for: configuration) }

    /// Serves one lane with the provider's concurrency; a request already answered is not sent again.
    func serveLane(_ provider: String) async throws {
        let concurrency = configuration.providers[provider]?.limits.maxConcurrency ?? 1
        let options = ConsumeOptions(prefetch: UInt16(concurrency), concurrency: concurrency)
        try await bus.consume(queue: Self.laneQueue(provider), options: options) { message in
            guard try await !Outbox.wasHandled(messageID: message.header.id.uuidString, consumer: "provider-lanes", in: database) else {
                return
            }
            var request = try message.decode(GenerateContent.self).payload
            request.provider = request.provider ?? provider
            let inFlight = Meter(label: "aiwf_provider_in_flight", dimensions: [("lane", provider)])
            inFlight.increment()
            let outcome = await generator.generate(request)
            inFlight.decrement()
            try await outbox.handleOnce(message, consumer: "provider-lanes") { _ in [try result(outcome, causedBy: message)] }
        }
    }

    /// Reports each lane's depth (requests waiting) every `interval`, for `/metrics` and the admin page.
    func watchLaneDepths(every interval: Duration = .seconds(5)) async {
        while !Task.isCancelled {
            for name in configuration.providers.keys {
                if let depth = try? await bus.messageCount(queue: Self.laneQueue(name)) {
                    Gauge(label: "aiwf_provider_lane_depth", dimensions: [("lane", name)]).record(depth)
                }
            }
            try? await Task.sleep(for: interval)
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
