import Foundation
import Yams

/// `providers.yaml`: the providers, their models and prices, limits, retry policy and fallback chains.
struct ProvidersConfiguration: Sendable {
    var defaultProvider: String
    var providers: [String: ProviderConfiguration]

    /// Reads and checks the file; every problem names its field.
    static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProvidersConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ProvidersConfigurationError(
                "\(path): cannot read the providers file (\(error.localizedDescription)); set --providers or AIWF_PROVIDERS_FILE")
        }
        return try parse(yaml: text, file: path, environment: environment)
    }

    static func parse(yaml: String, file: String = "providers.yaml", environment: [String: String]) throws -> ProvidersConfiguration {
        let document: ProvidersDocument
        do {
            document = try YAMLDecoder().decode(ProvidersDocument.self, from: yaml)
        } catch let error as DecodingError {
            throw ProvidersConfigurationError("\(file): \(describe(error))")
        } catch {
            throw ProvidersConfigurationError("\(file): not valid YAML: \(error)")
        }
        var providers: [String: ProviderConfiguration] = [:]
        for (name, entry) in document.providers {
            providers[name] = try ProviderConfiguration(name: name, entry: entry, file: file, environment: environment)
        }
        guard providers[document.defaultProvider] != nil else {
            throw ProvidersConfigurationError(
                "\(file): default_provider: '\(document.defaultProvider)' is not among the providers (\(providers.keys.sorted().joined(separator: ", ")))"
            )
        }
        for (name, provider) in providers {
            for fallback in provider.fallbacks where providers[fallback] == nil {
                throw ProvidersConfigurationError("\(file): providers.\(name).fallbacks: '\(fallback)' is not among the providers")
            }
        }
        return ProvidersConfiguration(defaultProvider: document.defaultProvider, providers: providers)
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])): is required"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// One provider, checked and with its key resolved.
struct ProviderConfiguration: Sendable {
    enum Kind: String, Codable, Sendable {
        case openai, anthropic, local
        case openAICompatible = "openai_compatible"
    }

    var name: String
    var kind: Kind
    var baseURL: String
    var apiKey: Secret?
    var models: [String: ModelPrice]
    var defaultModel: String
    var limits: ProviderLimits
    var retry: RetryPolicy
    var connectTimeout: Duration
    var requestTimeout: Duration
    var fallbacks: [String]

    init(name: String, entry: ProviderEntry, file: String, environment: [String: String]) throws {
        let field = "\(file): providers.\(name)"
        self.name = name
        self.kind = entry.kind
        switch entry.kind {
        case .openai: baseURL = entry.baseURL ?? "https://api.openai.com/v1"
        case .anthropic: baseURL = entry.baseURL ?? "https://api.anthropic.com"
        case .local: baseURL = ""
        case .openAICompatible:
            guard let url = entry.baseURL else {
                throw ProvidersConfigurationError(
                    "\(field).base_url: an openai_compatible provider needs the URL of its server, such as http://127.0.0.1:8000/v1")
            }
            baseURL = url
        }
        if entry.kind != .local, URL(string: baseURL)?.scheme?.hasPrefix("http") != true {
            throw ProvidersConfigurationError("\(field).base_url: '\(baseURL)' is not an http(s) URL")
        }
        if let variable = entry.apiKeyEnv {
            guard let value = environment[variable], !value.isEmpty else {
                throw ProvidersConfigurationError("\(field).api_key_env: the environment variable \(variable) is not set")
            }
            apiKey = Secret(value)
        } else if let path = entry.apiKeyFile {
            guard let value = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
                !value.isEmpty
            else {
                throw ProvidersConfigurationError("\(field).api_key_file: cannot read a key from \(path)")
            }
            apiKey = Secret(value)
        } else if entry.kind == .openai || entry.kind == .anthropic {
            throw ProvidersConfigurationError("\(field): needs api_key_env or api_key_file")
        }
        guard let first = entry.models.keys.sorted().first else {
            throw ProvidersConfigurationError("\(field).models: list at least one model with its prices")
        }
        for (model, price) in entry.models where price.maxOutputTokens < 1 {
            throw ProvidersConfigurationError("\(field).models.\(model).max_output_tokens: must be at least 1")
        }
        for (model, price) in entry.models
        where !(price.inputPerMillion.isFinite && price.inputPerMillion >= 0)
            || !(price.outputPerMillion.isFinite && price.outputPerMillion >= 0)
        {
            throw ProvidersConfigurationError("\(field).models.\(model): prices must be 0 or more")
        }
        models = entry.models
        defaultModel = entry.defaultModel ?? first
        guard models[defaultModel] != nil else {
            throw ProvidersConfigurationError("\(field).default_model: '\(defaultModel)' is not among its models")
        }
        limits = entry.limits ?? ProviderLimits()
        if let rpm = limits.requestsPerMinute, rpm <= 0 {
            throw ProvidersConfigurationError("\(field).limits.requests_per_minute: must be more than 0")
        }
        if limits.maxConcurrency <= 0 || limits.maxConcurrency > 1_000 {
            throw ProvidersConfigurationError("\(field).limits.max_concurrency: must be between 1 and 1000")
        }
        if limits.burst < 1 { throw ProvidersConfigurationError("\(field).limits.burst: must be at least 1") }
        retry = entry.retry ?? RetryPolicy()
        if retry.maxAttempts < 1 { throw ProvidersConfigurationError("\(field).retry.max_attempts: must be at least 1") }
        connectTimeout = .seconds(entry.timeouts?.connectSeconds ?? 10)
        requestTimeout = .seconds(entry.timeouts?.requestSeconds ?? 120)
        fallbacks = entry.fallbacks ?? []
    }

    /// The cost of a call in US dollars.
    func cost(model: String, tokensIn: Int, tokensOut: Int) -> Double {
        guard let price = models[model] else { return 0 }
        return (Double(tokensIn) * price.inputPerMillion + Double(tokensOut) * price.outputPerMillion) / 1_000_000
    }
}

/// Prices per million tokens, in US dollars, and the most a request may ask the model to write.
struct ModelPrice: Codable, Sendable {
    var inputPerMillion: Double
    var outputPerMillion: Double
    /// The largest `maxTokens` a request may ask for (`max_output_tokens`; default 32,768).
    var maxOutputTokens: Int

    static let defaultMaxOutputTokens = 32_768

    enum CodingKeys: String, CodingKey {
        case inputPerMillion = "input_per_million"
        case outputPerMillion = "output_per_million"
        case maxOutputTokens = "max_output_tokens"
    }

    init(inputPerMillion: Double, outputPerMillion: Double, maxOutputTokens: Int = Self.defaultMaxOutputTokens) {
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
        self.maxOutputTokens = maxOutputTokens
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        inputPerMillion = try container.decode(Double.self, forKey: .inputPerMillion)
        outputPerMillion = try container.decode(Double.self, forKey: .outputPerMillion)
        maxOutputTokens = try container.decodeIfPresent(Int.self, forKey: .maxOutputTokens) ?? Self.defaultMaxOutputTokens
    }
}

/// Limits that hold across every replica.
struct ProviderLimits: Codable, Sendable {
    var requestsPerMinute: Int?
    var tokensPerMinute: Int?
    var maxConcurrency: Int = 4
    /// Unused permits that may pile up: how many calls may start at once after a quiet spell.
    var burst: Int = 1

    enum CodingKeys: String, CodingKey {
        case requestsPerMinute = "requests_per_minute"
        case tokensPerMinute = "tokens_per_minute"
        case maxConcurrency = "max_concurrency"
        case burst
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        requestsPerMinute = try container.decodeIfPresent(Int.self, forKey: .requestsPerMinute)
        tokensPerMinute = try container.decodeIfPresent(Int.self, forKey: .tokensPerMinute)
        maxConcurrency = try container.decodeIfPresent(Int.self, forKey: .maxConcurrency) ?? 4
        burst = try container.decodeIfPresent(Int.self, forKey: .burst) ?? 1
    }
}

/// How often and how patiently a failing call is tried again.
struct RetryPolicy: Codable, Sendable {
    var maxAttempts = 4
    var initialBackoffMilliseconds = 500
    var maxBackoffMilliseconds = 30_000
    /// Consecutive failures after which the lane cools down, and for how long.
    var cooldownAfterFailures = 5
    var cooldownSeconds = 30

    enum CodingKeys: String, CodingKey {
        case maxAttempts = "max_attempts"
        case initialBackoffMilliseconds = "initial_backoff_ms"
        case maxBackoffMilliseconds = "max_backoff_ms"
        case cooldownAfterFailures = "cooldown_after_failures"
        case cooldownSeconds = "cooldown_seconds"
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = RetryPolicy()
        maxAttempts = try container.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? defaults.maxAttempts
        initialBackoffMilliseconds =
            try container.decodeIfPresent(Int.self, forKey: .initialBackoffMilliseconds) ?? defaults.initialBackoffMilliseconds
        maxBackoffMilliseconds = try container.decodeIfPresent(Int.self, forKey: .maxBackoffMilliseconds) ?? defaults.maxBackoffMilliseconds
        cooldownAfterFailures = try container.decodeIfPresent(Int.self, forKey: .cooldownAfterFailures) ?? defaults.cooldownAfterFailures
        cooldownSeconds = try container.decodeIfPresent(Int.self, forKey: .cooldownSeconds) ?? defaults.cooldownSeconds
    }

    /// Exponential backoff with full jitter before attempt `attempt + 1`.
    func backoff(after attempt: Int) -> Duration {
        let ceiling = min(Double(initialBackoffMilliseconds) * pow(2, Double(attempt - 1)), Double(maxBackoffMilliseconds))
        return .milliseconds(Int(Double.random(in: ceiling / 2...max(ceiling, ceiling / 2 + 1))))
    }
}

/// The file's shape before checking.
struct ProvidersDocument: Decodable {
    var defaultProvider: String
    var providers: [String: ProviderEntry]

    enum CodingKeys: String, CodingKey {
        case defaultProvider = "default_provider"
        case providers
    }
}

struct ProviderEntry: Decodable {
    var kind: ProviderConfiguration.Kind
    var baseURL: String?
    var apiKeyEnv: String?
    var apiKeyFile: String?
    var models: [String: ModelPrice]
    var defaultModel: String?
    var limits: ProviderLimits?
    var retry: RetryPolicy?
    var timeouts: Timeouts?
    var fallbacks: [String]?

    struct Timeouts: Decodable {
        var connectSeconds: Int?
        var requestSeconds: Int?

        enum CodingKeys: String, CodingKey {
            case connectSeconds = "connect_seconds"
            case requestSeconds = "request_seconds"
        }
    }

    enum CodingKeys: String, CodingKey {
        case kind, models, limits, retry, timeouts, fallbacks
        case baseURL = "base_url"
        case apiKeyEnv = "api_key_env"
        case apiKeyFile = "api_key_file"
        case defaultModel = "default_model"
    }
}

/// A credential that never appears in logs or descriptions.
struct Secret: Sendable, CustomStringConvertible {
    let value: String
    init(_ value: String) { self.value = value }
    var description: String { "***" }
}

/// A providers file that cannot be used.
struct ProvidersConfigurationError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
