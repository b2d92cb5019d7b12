import Contracts
import Foundation

/// One completion to ask a provider for.
struct CompletionRequest: Sendable {
    var model: String
    var system: String?
    var user: String
    var responseSchema: JSONValue?
    var maxTokens: Int?
    var temperature: Double?
}

/// A provider's answer and what it cost in tokens.
struct Completion: Sendable, Equatable {
    var content: String
    var tokensIn: Int
    var tokensOut: Int
}

/// Receives the text of a streamed answer, piece by piece, as it arrives.
typealias TextSink = @Sendable (String) async -> Void

/// Speaks one provider's wire format.
protocol ProviderClient: Sendable {
    /// Asks for one completion; with `onText`, asks the provider to stream and passes each piece of text on as it
    /// arrives. The completion returned holds the whole text either way.
    func complete(_ request: CompletionRequest, onText: TextSink?) async throws(ProviderFailure) -> Completion
}

extension ProviderClient {
    func complete(_ request: CompletionRequest) async throws(ProviderFailure) -> Completion {
        try await complete(request, onText: nil)
    }
}

/// A failed call, classified so the retry loop knows what can succeed later.
struct ProviderFailure: Error, Sendable, Equatable, CustomStringConvertible {
    enum Kind: String, Sendable {
        case rateLimit = "rate_limit"
        case overloaded
        case server
        case timeout
        case auth
        case badRequest = "bad_request"
        case contextLength = "context_length"
        case malformed

        /// Whether the same call can succeed later.
        var isRetryable: Bool {
            switch self {
            case .rateLimit, .overloaded, .server, .timeout, .malformed: true
            case .auth, .badRequest, .contextLength: false
            }
        }
    }

    var kind: Kind
    var message: String
    /// What the provider asked us to wait (`Retry-After`, `retry-after-ms`).
    var retryAfter: Duration?

    var description: String { "\(kind.rawValue): \(message)" }

    /// Classifies an HTTP error status and the provider's own error text.
    static func from(status: Int, body: String, retryAfter: Duration?) -> ProviderFailure {
        let lowered = body.lowercased()
        let kind: Kind
        switch status {
        case 429 where lowered.contains("insufficient_quota"): kind = .auth
        case 429: kind = .rateLimit
        case 401, 403: kind = .auth
        case 408: kind = .timeout
        case 413: kind = .contextLength
        case 400, 404, 422:
            kind =
                lowered.contains("context_length") || lowered.contains("prompt is too long") || lowered.contains("maximum context")
                ? .contextLength : .badRequest
        case 503, 529: kind = .overloaded
        default: kind = status >= 500 ? .server : .badRequest
        }
        return ProviderFailure(kind: kind, message: "HTTP \(status): \(Self.errorMessage(in: body))", retryAfter: retryAfter)
    }

    /// The provider's `error.message`, else the start of the body.
    private static func errorMessage(in body: String) -> String {
        if let value = try? JSONValue.parse(Data(body.utf8)),
            let message = value["error"]?["message"]?.stringValue ?? value["error"]?.stringValue
        {
            return message
        }
        return String(body.prefix(300))
    }
}
