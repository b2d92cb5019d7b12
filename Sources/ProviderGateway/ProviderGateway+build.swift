import AMQPClient
import AsyncHTTPClient
import Contracts
import Foundation
import GRDB
import Logging
import Messaging
import Metrics

/// The gateway's parts: one lane (queue and consumer) per provider, and the ledger of the answers it published.
struct ProviderGateway: Sendable {
    let configuration: ProvidersConfiguration
    let bus: any MessageBus
    let ledger: AnswerLedger
    let generator: Generator
    let metrics: [String: LaneMetrics]
    let check: RequestCheck
    let logger: Logger

    init(
        configuration: ProvidersConfiguration,
        database: any DatabaseWriter,
        bus: any MessageBus,
        logger: Logger,
        /// One client for every provider (tests); by default each connect timeout gets its own shared client.
        httpClient: HTTPClient? = nil,
        gate: any CallGate = OpenGate(),
        clients overrides: [String: any ProviderClient] = [:]
    ) {
        self.configuration = configuration
        self.bus = bus
        self.ledger = AnswerLedger(database: database)
        self.logger = logger
        self.metrics = LaneMetrics.make(for: configuration.providers.keys)
        self.check = RequestCheck(configuration: configuration) { queue in (try? await bus.messageCount(queue: queue)) != nil }
        var clients: [String: any ProviderClient] = [:]
        for (name, provider) in configuration.providers {
            let client = httpClient ?? HTTPClients.shared(connectTimeout: provider.connectTimeout)
            let poster = JSONPoster(client: client, timeout: provider.requestTimeout)
            switch provider.kind {
            case .openai, .openAICompatible:
                clients[name] = OpenAIClient(baseURL: provider.baseURL, apiKey: provider.apiKey, poster: poster)
            case .anthropic: clients[name] = AnthropicClient(baseURL: provider.baseURL, apiKey: provider.apiKey, poster: poster)
            case .local: clients[name] = LocalProvider()
            }
        }
        self.generator = Generator(
            configuration: configuration, clients: clients.merging(overrides) { $1 }, health: LaneHealth(), gate: gate,
            metrics: metrics, logger: logger
        )
    }

    /// The queue of a provider's lane: one slow or limited provider never delays another.
    static func laneQueue(_ provider: String) -> String { "provider.lane.\(provider)" }

    /// One lane per provider, bound to `aiwf.requests` with the provider's routing key; the default provider's lane
    /// also takes requests that name no provider. A request for a provider nobody serves is unroutable at once.
    var topology: Topology {
        configuration.providers.keys.sorted().reduce(Topology()) { topology, name in
            var bindings = [(Exchange.commands, GenerateContent.routingKey(provider: name))]
            if name == configuration.defaultProvider { bindings.append((Exchange.commands, GenerateContent.type)) }
            return topology + .workQueue(Self.laneQueue(name), bindings: bindings)
        }
            + .workQueue(
                Self.requestsQueue, kind: .classic, durable: false,
                bindings: [(Exchange.commands, GetPriceList.type), (Exchange.commands, GetProviderStatus.type)])
            + configuration.providers.keys.sorted().reduce(Topology()) { topology, name in topology + interactiveTopology(name) }
    }

    /// The queue of a provider's interactive lane: transient, as its requester waits and asks again if it must.
    static func interactiveQueue(_ provider: String) -> String { "provider.interactive.\(provider)" }

    private func interactiveTopology(_ name: String) -> Topology {
        var queue = QueueSpec(name: Self.interactiveQueue(name), kind: .classic)
        queue.durable = false
        var keys = [CompleteNow.routingKey(provider: name)]
        if name == configuration.defaultProvider { keys.append(CompleteNow.type) }
        return Topology(
            queues: [queue], bindings: keys.map { BindingSpec(queue: queue.name, exchange: Exchange.commands, routingKey: $0) })
    }

    /// Serves one provider's interactive lane: the answer goes straight back to the waiting requester (no ledger: a
    /// request that is lost is asked again by the person waiting for it).
    func serveInteractive(_ provider: String) async throws {
        let concurrency = configuration.providers[provider]?.limits.maxConcurrency ?? 1
        var handlers = RequestHandlers()
        handlers.on(CompleteNow.self) { envelope, _ in
            var request = envelope.payload.generate
            request.provider = request.provider ?? provider
            if let problem = await check.problem(with: request) {
                return GenerationAnswer(
                    failed: GenerationFailed(
                        requestID: request.requestID, kind: "bad_request", message: problem, retryable: false, attempts: 0))
            }
            let context = MessageContext(correlationID: envelope.correlationID, idempotencyKey: request.requestID)
            let (outcome, streamer) = await generate(request, lane: provider, context: context)
            if let streamer { await streamer.finish(with: try outcome.message(context: context)) }
            switch outcome {
            case .generated(let event): return GenerationAnswer(generated: event)
            case .failed(let event): return GenerationAnswer(failed: event)
            }
        }
        try await bus.serve(
            handlers, queue: Self.interactiveQueue(provider),
            options: ConsumeOptions(prefetch: UInt16(concurrency), concurrency: concurrency))
    }

    /// Queries any replica answers (the price list); classic and transient work, as a lost query is asked again.
    static let requestsQueue = ServiceQueues.providerRequests

    /// The providers, their models and prices, from `providers.yaml`.
    var priceList: PriceList {
        PriceList(
            defaultProvider: configuration.defaultProvider,
            providers: configuration.providers.sorted { $0.key < $1.key }.map { name, provider in
                ProviderPrices(
                    name: name, defaultModel: provider.defaultModel,
                    models: provider.models.sorted { $0.key < $1.key }.map { model, price in
                        ModelPrices(
                            name: model, inputPerMillion: price.inputPerMillion, outputPerMillion: price.outputPerMillion,
                            maxOutputTokens: price.maxOutputTokens)
                    })
            })
    }

    func serveRequests() async throws {
        var handlers = RequestHandlers()
        let prices = priceList
        handlers.on(GetPriceList.self) { _, _ in prices }
        handlers.on(GetProviderStatus.self) { _, _ in await status() }
        try await bus.serve(handlers, queue: Self.requestsQueue, options: ConsumeOptions(prefetch: 16, concurrency: 4))
    }

    /// Each provider: its models, whether it cools down, and the requests waiting in its lanes.
    func status() async -> [ProviderStatus] {
        var statuses: [ProviderStatus] = []
        for (name, provider) in configuration.providers.sorted(by: { $0.key < $1.key }) {
            statuses.append(
                ProviderStatus(
                    name: name, kind: provider.kind.rawValue, models: provider.models.keys.sorted(),
                    cooling: generator.health.isCooling(name),
                    laneDepth: try? await bus.messageCount(queue: Self.laneQueue(name)),
                    interactiveDepth: try? await bus.messageCount(queue: Self.interactiveQueue(name)),
                    requestsPerMinute: provider.limits.requestsPerMinute, tokensPerMinute: provider.limits.tokensPerMinute,
                    maxConcurrency: provider.limits.maxConcurrency))
        }
        return statuses
    }

    /// The global limits of every provider that has any.
    var limitPlans: [String: LaneLimitPlan] { LaneLimitPlan.plans(for: configuration) }

    /// Serves one lane with the provider's concurrency.
    ///
    /// The answer is published with a broker confirm (and recorded in the ledger meanwhile) before the request is
    /// acknowledged, so nothing is lost; a request answered before is answered again from the ledger.
    func serveLane(_ provider: String) async throws {
        let concurrency = configuration.providers[provider]?.limits.maxConcurrency ?? 1
        let options = ConsumeOptions(prefetch: UInt16(concurrency), concurrency: concurrency)
        try await bus.consume(queue: Self.laneQueue(provider), options: options) { message in
            try await answer(message, lane: provider)
        }
    }

    /// Answers one request exactly once: from the ledger when it was answered before, with a `bad_request` failure
    /// when it breaks the bounds (or does not decode but names its request id), else with the provider's result.
    private func answer(_ message: IncomingMessage, lane: String) async throws {
        if var answer = try await ledger.answer(to: message.header.id) {
            answer.shardKey = message.header.shardKey  // the ledger keeps the body; the route is the request's
            try await bus.publish(answer)
            return
        }
        var request: GenerateContent
        do {
            request = try message.decode(GenerateContent.self).payload
        } catch {
            guard let requestID = RequestCheck.requestID(in: message.body) else { throw error }
            return try await refuse(message, requestID: requestID, because: "the request does not decode: \(error.reason)")
        }
        request.provider = request.provider ?? lane
        if let problem = await check.problem(with: request) {
            return try await refuse(message, requestID: request.requestID, because: problem)
        }
        let context = MessageContext(causedBy: message, idempotencyKey: request.requestID)
        let (outcome, streamer) = await generate(request, lane: lane, context: context)
        let answer = try outcome.message(context: context)
        async let recorded: Void = ledger.record(answer, outcome: outcome, answering: message)
        if let streamer { await streamer.finish(with: answer) }
        try await bus.publish(answer)
        do {
            try await recorded
        } catch {
            logger.error(
                "answer published but not recorded in the ledger", metadata: ["request_id": "\(request.requestID)", "error": "\(error)"])
        }
    }

    /// Calls the provider for `request`, its text streamed to `streamTo` when it names a queue; the streamer is
    /// returned for the caller to end with the answer.
    private func generate(_ request: GenerateContent, lane: String, context: MessageContext) async -> (GenerationResult, ChunkStreamer?) {
        let streamer = request.streamTo.map {
            ChunkStreamer(bus: bus, requestID: request.requestID, queue: $0, context: context, logger: logger)
        }
        var onText: Generator.AttemptTextSink?
        if let streamer { onText = { attempt, text in await streamer.add(attempt: attempt, text: text) } }
        metrics[lane]?.inFlight.increment()
        let outcome = await generator.generate(request, onText: onText)
        metrics[lane]?.inFlight.decrement()
        return (outcome, streamer)
    }

    /// Answers `message` with a `bad_request` failure, recorded like any answer, without calling a provider.
    private func refuse(_ message: IncomingMessage, requestID: String, because problem: String) async throws {
        logger.warning("request refused", metadata: ["request_id": "\(requestID)", "reason": "\(problem)"])
        let outcome = GenerationResult.failed(
            GenerationFailed(requestID: requestID, kind: "bad_request", message: problem, retryable: false, attempts: 0))
        let answer = try outcome.message(context: MessageContext(causedBy: message, idempotencyKey: requestID))
        try await bus.publish(answer)
        try await ledger.record(answer, outcome: outcome, answering: message)
    }

    /// Reports each lane's depth (requests waiting) every `interval`, for `/metrics` and the admin page.
    func watchLaneDepths(every interval: Duration = .seconds(5)) async {
        while !Task.isCancelled {
            for (name, lane) in metrics {
                if let depth = try? await bus.messageCount(queue: Self.laneQueue(name)) { lane.depth.record(depth) }
            }
            try? await Task.sleep(for: interval)
        }
    }
}

extension GenerationResult {
    /// The event that answers the request.
    func message(context: MessageContext) throws -> OutgoingMessage {
        switch self {
        case .generated(let event): try .event(event, context: context)
        case .failed(let event): try .event(event, context: context)
        }
    }
}
