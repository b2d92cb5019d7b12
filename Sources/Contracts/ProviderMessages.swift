import Foundation

/// Asks the provider gateway for one model completion. Its `requestID` is the idempotency key of the result.
public struct GenerateContent: Command {
    public static let type = "provider.generate-content.v1"

    /// Straight to the lane of the named provider; without one, to the default provider's lane.
    public var routingKey: String { provider.map { Self.routingKey(provider: $0) } ?? Self.type }

    /// The routing key of requests for `provider`, which its lane queue is bound with.
    public static func routingKey(provider: String) -> String { "\(type).\(provider)" }

    /// Identifies the request; the result events carry it, and a redelivered request is answered once.
    public var requestID: String
    /// The provider to use first (a name from `providers.yaml`); the configured default when absent.
    public var provider: String?
    public var model: String?
    public var system: String?
    public var user: String
    /// When present, the answer must be a JSON value matching this schema.
    public var responseSchema: JSONValue?
    public var maxTokens: Int?
    public var temperature: Double?
    /// No attempt starts after this moment.
    public var deadline: Date?
    /// A queue that receives ``GenerationChunk`` messages while the answer streams in.
    public var streamTo: String?

    public init(
        requestID: String,
        provider: String? = nil,
        model: String? = nil,
        system: String? = nil,
        user: String,
        responseSchema: JSONValue? = nil,
        maxTokens: Int? = nil,
        temperature: Double? = nil,
        deadline: Date? = nil,
        streamTo: String? = nil
    ) {
        self.requestID = requestID
        self.provider = provider
        self.model = model
        self.system = system
        self.user = user
        self.responseSchema = responseSchema
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.deadline = deadline
        self.streamTo = streamTo
    }
}

/// A completion that succeeded.
public struct ContentGenerated: Event {
    public static let type = "provider.content-generated.v1"

    public var requestID: String
    public var content: String
    public var tokensIn: Int
    public var tokensOut: Int
    /// In US dollars, from the price table of `providers.yaml`.
    public var cost: Double
    public var provider: String
    public var model: String
    public var latencyMilliseconds: Int
    public var attempts: Int

    public init(
        requestID: String, content: String, tokensIn: Int, tokensOut: Int, cost: Double, provider: String, model: String,
        latencyMilliseconds: Int, attempts: Int
    ) {
        self.requestID = requestID
        self.content = content
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.cost = cost
        self.provider = provider
        self.model = model
        self.latencyMilliseconds = latencyMilliseconds
        self.attempts = attempts
    }
}

/// A completion that failed for good (after retries and fallbacks where they could help).
public struct GenerationFailed: Event {
    public static let type = "provider.generation-failed.v1"

    /// Why: `rate_limit`, `overloaded`, `server`, `timeout`, `auth`, `bad_request`, `context_length`, `malformed`,
    /// `deadline` or `configuration`.
    public var requestID: String
    public var kind: String
    public var message: String
    /// Whether sending the same request later could succeed.
    public var retryable: Bool
    public var attempts: Int

    public init(requestID: String, kind: String, message: String, retryable: Bool, attempts: Int) {
        self.requestID = requestID
        self.kind = kind
        self.message = message
        self.retryable = retryable
        self.attempts = attempts
    }
}

/// A piece of a streamed answer, sent to the request's `streamTo` queue in order; the request's result event follows
/// the last piece on the same queue.
public struct GenerationChunk: Message {
    public static let type = "provider.generation-chunk.v1"

    public var requestID: String
    /// 0, 1, 2, … across the whole request.
    public var index: Int
    /// The provider call this text came from. A higher number than before means the earlier call failed part way
    /// and was retried (or fell back): the text gathered so far is to be dropped.
    public var attempt: Int
    public var text: String

    public init(requestID: String, index: Int, attempt: Int, text: String) {
        self.requestID = requestID
        self.index = index
        self.attempt = attempt
        self.text = text
    }
}

/// Asks any ProviderGateway replica for the providers, their models and prices (to estimate and bound costs).
public struct GetPriceList: Request {
    public typealias Reply = PriceList
    public static let type = "provider.price-list.v1"

    public init() {}
}

/// The providers a ProviderGateway serves, as `providers.yaml` says.
public struct PriceList: Codable, Sendable, Equatable {
    public var defaultProvider: String
    public var providers: [ProviderPrices]

    public init(defaultProvider: String, providers: [ProviderPrices]) {
        self.defaultProvider = defaultProvider
        self.providers = providers
    }

    /// The price of `model` (or the provider's default model) of `provider` (or the default provider).
    public func price(provider: String?, model: String?) -> ModelPrices? {
        guard let entry = providers.first(where: { $0.name == (provider ?? defaultProvider) }) else { return nil }
        return entry.models.first { $0.name == (model ?? entry.defaultModel) }
    }
}

public struct ProviderPrices: Codable, Sendable, Equatable {
    public var name: String
    public var defaultModel: String
    public var models: [ModelPrices]

    public init(name: String, defaultModel: String, models: [ModelPrices]) {
        self.name = name
        self.defaultModel = defaultModel
        self.models = models
    }
}

/// US dollars per million tokens, and the most output one request may ask for.
public struct ModelPrices: Codable, Sendable, Equatable {
    public var name: String
    public var inputPerMillion: Double
    public var outputPerMillion: Double
    public var maxOutputTokens: Int

    public init(name: String, inputPerMillion: Double, outputPerMillion: Double, maxOutputTokens: Int) {
        self.name = name
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
        self.maxOutputTokens = maxOutputTokens
    }

    /// The most a request can cost: its prompt (estimated at four characters a token, rounded up) and the longest
    /// answer it may get.
    public func mostCost(promptCharacters: Int, maxTokens: Int) -> Double {
        let input = Double(promptCharacters / 4 + 1)
        return (input * inputPerMillion + Double(maxTokens) * outputPerMillion) / 1_000_000
    }
}

/// A generation someone waits for over HTTP (the OpenAI- and Anthropic-compatible endpoints): transient, on the
/// provider's interactive lane, answered over request/reply, under the same global limits, retries and fallbacks
/// as the durable path. With `streamTo` the text goes to that queue as it is written, ended by the result.
public struct CompleteNow: Request {
    public typealias Reply = GenerationAnswer
    public static let type = "provider.complete.v1"
    public var routingKey: String { generate.provider.map { Self.routingKey(provider: $0) } ?? Self.type }
    public static func routingKey(provider: String) -> String { "\(type).\(provider)" }

    public var generate: GenerateContent

    public init(_ generate: GenerateContent) { self.generate = generate }
}

/// The answer to ``CompleteNow``: exactly one of the two.
public struct GenerationAnswer: Codable, Sendable {
    public var generated: ContentGenerated?
    public var failed: GenerationFailed?

    public init(generated: ContentGenerated? = nil, failed: GenerationFailed? = nil) {
        self.generated = generated
        self.failed = failed
    }
}

/// Asks a ProviderGateway replica how its providers are doing (for the admin pages).
public struct GetProviderStatus: Request {
    public typealias Reply = [ProviderStatus]
    public static let type = "provider.status.v1"

    public init() {}
}

/// One provider as a replica sees it.
public struct ProviderStatus: Codable, Sendable, Equatable {
    public var name: String
    public var kind: String
    public var models: [String]
    /// Cooling down after failures in a row: requests go to its fallbacks meanwhile.
    public var cooling: Bool
    /// Requests waiting in its durable lane and in its interactive lane (nil when the broker did not say).
    public var laneDepth: Int?
    public var interactiveDepth: Int?
    /// Its limits across every replica, as `providers.yaml` sets them (nil: none, or an older replica).
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
    public var maxConcurrency: Int?

    public init(
        name: String, kind: String, models: [String], cooling: Bool, laneDepth: Int?, interactiveDepth: Int?,
        requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil, maxConcurrency: Int? = nil
    ) {
        self.name = name
        self.kind = kind
        self.models = models
        self.cooling = cooling
        self.laneDepth = laneDepth
        self.interactiveDepth = interactiveDepth
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.maxConcurrency = maxConcurrency
    }
}
