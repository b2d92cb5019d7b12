import AMQPClient
import Contracts
import Foundation

/// The bounds a `GenerateContent` must keep before it may reach a provider. A request outside them is answered at
/// once with `GenerationFailed` of kind `bad_request`, and the message names the field to fix.
struct RequestCheck: Sendable {
    let configuration: ProvidersConfiguration
    /// Whether a queue exists (the stream target); the bus answers it with a passive declare.
    let queueExists: @Sendable (String) async -> Bool

    /// The largest prompt (system and user text together) sent to a provider.
    static let maximumPromptBytes = 1024 * 1024
    /// The longest request id: it travels as the answer's idempotency key.
    static let maximumRequestIDBytes = 200

    /// What is wrong with `request`, or `nil` when it may be served.
    func problem(with request: GenerateContent, now: Date = Date()) async -> String? {
        if request.requestID.isEmpty || request.requestID.utf8.count > Self.maximumRequestIDBytes {
            return "requestID: must be 1 to \(Self.maximumRequestIDBytes) bytes (got \(request.requestID.utf8.count))"
        }
        let name = request.provider ?? configuration.defaultProvider
        guard let provider = configuration.providers[name] else {
            return
                "provider: '\(name.prefix(100))' is not configured; configured: \(configuration.providers.keys.sorted().joined(separator: ", "))"
        }
        let modelName = request.model ?? provider.defaultModel
        guard let model = provider.models[modelName] else {
            return
                "model: provider '\(name)' has no model '\(modelName.prefix(100))'; configured: \(provider.models.keys.sorted().joined(separator: ", "))"
        }
        if let maxTokens = request.maxTokens, !(1...model.maxOutputTokens).contains(maxTokens) {
            return "maxTokens: must be between 1 and \(model.maxOutputTokens) for \(name)/\(modelName) (got \(maxTokens))"
        }
        if let temperature = request.temperature, !provider.kind.temperatureRange.contains(temperature) {
            let range = provider.kind.temperatureRange
            return "temperature: must be between \(range.lowerBound) and \(range.upperBound) for \(name) (got \(temperature))"
        }
        let promptBytes = (request.system?.utf8.count ?? 0) + request.user.utf8.count
        if promptBytes > Self.maximumPromptBytes {
            return "system, user: the prompt is \(promptBytes) bytes; at most \(Self.maximumPromptBytes) are sent to a provider"
        }
        if let deadline = request.deadline, deadline <= now {
            return "deadline: \(deadline) has passed already"
        }
        if let queue = request.streamTo {
            if queue.isEmpty || queue.utf8.count > AMQPNames.maximumLength {
                return "streamTo: a queue name is 1 to \(AMQPNames.maximumLength) bytes (got \(queue.utf8.count))"
            }
            if queue.hasPrefix("amq.") {
                return "streamTo: '\(queue.prefix(100))' is a name the broker reserves; stream to a queue of your own"
            }
            if !(await queueExists(queue)) {
                return "streamTo: queue '\(queue)' does not exist; declare it before sending the request"
            }
        }
        return nil
    }

    /// The request id of a message whose payload does not decode, when it can still be read, so the sender can be
    /// told what was wrong instead of waiting for an answer that never comes.
    static func requestID(in body: Data) -> String? {
        guard let envelope = try? JSONValue.parse(body), let requestID = envelope["payload"]?["requestID"]?.stringValue,
            !requestID.isEmpty, requestID.utf8.count <= maximumRequestIDBytes
        else { return nil }
        return requestID
    }
}

extension ProviderConfiguration.Kind {
    /// The sampling temperatures the provider's API accepts.
    var temperatureRange: ClosedRange<Double> {
        switch self {
        case .anthropic: 0...1
        case .openai, .openAICompatible, .local: 0...2
        }
    }
}
