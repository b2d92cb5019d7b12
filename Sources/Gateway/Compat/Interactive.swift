import Contracts
import Foundation
import RuntimeSupport
import Synchronization

/// Why an interactive generation was not answered, in terms both compatible APIs can say.
struct CompatFailure: Error, Sendable {
    enum Kind: Sendable {
        case invalid, unauthenticated, notFound, rateLimited, overloaded, upstream, timeout
    }
    let kind: Kind
    let message: String
    var parameter: String?
    var retryAfter: Int?

    /// The failure ProviderGateway reported, by its kind.
    init(_ failed: GenerationFailed) {
        switch failed.kind {
        case "bad_request", "context_length": kind = .invalid
        case "rate_limit": kind = .rateLimited
        case "overloaded": kind = .overloaded
        case "timeout", "deadline": kind = .timeout
        default: kind = .upstream
        }
        message = failed.message
        retryAfter = failed.retryable ? 2 : nil
    }

    init(_ kind: Kind, _ message: String, parameter: String? = nil, retryAfter: Int? = nil) {
        self.kind = kind
        self.message = message
        self.parameter = parameter
        self.retryAfter = retryAfter
    }
}

/// What either compatible API asks for, in one shape.
struct Completion: Sendable {
    var model: String
    var system: String?
    var user: String
    var maxTokens: Int?
    var temperature: Double?
    var schema: JSONValue?
    var stream: Bool
}

/// Generations someone waits for over HTTP: resolved to a provider and model, sent on the interactive lane, the
/// text streamed back through this replica's live queue; usage counted on the caller's key.
struct Interactive: Sendable {
    let backend: Backend
    let live: LiveEvents
    let accounts: Accounts
    private let catalog = ModelCatalog()

    /// The models there are, by provider (cached for a minute).
    func models(as caller: Identity) async throws -> [(provider: String, model: String)] {
        try await catalog.models { try await backend.ask(GetPriceList(), as: caller) }
    }

    /// `provider/model` or a model name some provider lists.
    func resolve(_ name: String, as caller: Identity) async throws -> (provider: String, model: String) {
        let known = try await models(as: caller)
        if let slash = name.firstIndex(of: "/") {
            let provider = String(name[..<slash])
            let model = String(name[name.index(after: slash)...])
            if let found = known.first(where: { $0.provider == provider && $0.model == model }) { return found }
        }
        guard let found = known.first(where: { $0.model == name }) else {
            throw CompatFailure(
                .notFound, "the model '\(name)' does not exist here; GET /v1/models lists the models", parameter: "model")
        }
        return found
    }

    /// Generates `completion`; `onText` gets the text as it is written when streaming.
    func generate(_ completion: Completion, as caller: Identity, onText: (@Sendable (String) async throws -> Void)? = nil) async throws
        -> ContentGenerated
    {
        let (provider, model) = try await resolve(completion.model, as: caller)
        let requestID = "http-" + UUID().uuidString.lowercased()
        let request = GenerateContent(
            requestID: requestID, provider: provider, model: model, system: completion.system, user: completion.user,
            responseSchema: completion.schema, maxTokens: completion.maxTokens, temperature: completion.temperature,
            deadline: Date().addingTimeInterval(backend.timeout.seconds), streamTo: onText == nil ? nil : live.queue)
        let answer: GenerationAnswer
        if let onText {
            let pieces = live.stream(requestID)
            async let asked = backend.ask(CompleteNow(request), as: caller)
            // Both APIs stream forward only: text of an earlier, failed attempt is already out when a retry starts.
            for await piece in pieces {
                guard case .text(_, let text) = piece else { break }
                try await onText(text)
            }
            answer = try await asked
        } else {
            answer = try await backend.ask(CompleteNow(request), as: caller)
        }
        if let failed = answer.failed { throw CompatFailure(failed) }
        guard let generated = answer.generated else { throw CompatFailure(.upstream, "the provider gateway gave no answer") }
        if let keyID = caller.keyID {
            accounts.usage.add(keyID: keyID, tokensIn: generated.tokensIn, tokensOut: generated.tokensOut, cost: generated.cost)
        }
        return generated
    }
}

/// The provider gateway's models, asked for at most once a minute.
final class ModelCatalog: Sendable {
    private let cached = Mutex<(at: Date, models: [(provider: String, model: String)])?>(nil)

    func models(_ load: () async throws -> PriceList) async throws -> [(provider: String, model: String)] {
        if let cached = cached.withLock({ $0 }), Date().timeIntervalSince(cached.at) < 60 { return cached.models }
        let list = try await load()
        let models = list.providers.flatMap { provider in provider.models.map { (provider.name, $0.name) } }
        cached.withLock { $0 = (Date(), models) }
        return models
    }
}
