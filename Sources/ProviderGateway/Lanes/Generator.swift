import Contracts
import Foundation
import Logging
import Metrics
import ServiceKit
import Synchronization

/// The one retry loop: classified failures, exponential backoff with jitter, the latest `Retry-After`, never past
/// the deadline, a cooldown for a lane that keeps failing, then the provider's fallback chain.
struct Generator: Sendable {
    let configuration: ProvidersConfiguration
    let clients: [String: any ProviderClient]
    let health: LaneHealth
    let gate: any CallGate
    let metrics: [String: LaneMetrics]
    let logger: Logger

    /// Receives a piece of streamed text and the number of the provider call it came from.
    typealias AttemptTextSink = @Sendable (_ attempt: Int, _ text: String) async -> Void

    /// Produces the result event for a request: ``ContentGenerated`` or ``GenerationFailed``. With `onText`, the
    /// provider is asked to stream and every piece of text is passed on as it arrives.
    func generate(_ request: GenerateContent, onText: AttemptTextSink? = nil) async -> GenerationResult {
        let started = ContinuousClock.now
        let first = request.provider ?? configuration.defaultProvider
        guard let primary = configuration.providers[first] else {
            return .failed(
                GenerationFailed(
                    requestID: request.requestID, kind: "configuration",
                    message: "unknown provider '\(first)'; configured: \(configuration.providers.keys.sorted().joined(separator: ", "))",
                    retryable: false, attempts: 0
                )
            )
        }
        if let model = request.model, primary.models[model] == nil {
            return .failed(
                GenerationFailed(
                    requestID: request.requestID, kind: "configuration",
                    message:
                        "provider '\(first)' has no model '\(model)'; configured: \(primary.models.keys.sorted().joined(separator: ", "))",
                    retryable: false, attempts: 0
                )
            )
        }
        let chain = [first] + primary.fallbacks.filter { $0 != first }
        var attempts = 0
        var lastFailure = ProviderFailure(kind: .server, message: "no provider was tried")
        for (position, name) in chain.enumerated() {
            guard let provider = configuration.providers[name], let client = clients[name] else { continue }
            if health.isCooling(name), position < chain.count - 1 {
                logger.warning("provider cooling down; using the next in the chain", metadata: ["provider": "\(name)"])
                continue
            }
            let model = position == 0 ? (request.model ?? provider.defaultModel) : provider.defaultModel
            let releaseSlot: @Sendable () async -> Void
            do {
                releaseSlot = try await gate.slot(name)
            } catch {
                let failure = ProviderFailure(kind: .server, message: "no concurrency slot for \(name): \(error)")
                return .failed(self.failure(request, failure, attempts: attempts, retryable: true))
            }
            let outcome = await attempt(
                request, provider: provider, client: client, model: model, started: started, onText: onText, attempts: &attempts,
                lastFailure: &lastFailure)
            await releaseSlot()
            if let outcome { return outcome }
        }
        return .failed(failure(request, lastFailure, attempts: attempts, retryable: true))
    }

    /// Tries one provider up to its attempt limit; `nil` means: go on with the next in the chain.
    private func attempt(
        _ request: GenerateContent,
        provider: ProviderConfiguration,
        client: any ProviderClient,
        model: String,
        started: ContinuousClock.Instant,
        onText: AttemptTextSink?,
        attempts: inout Int,
        lastFailure: inout ProviderFailure
    ) async -> GenerationResult? {
        let name = provider.name
        let completionRequest = CompletionRequest(
            model: model, system: request.system, user: request.user, responseSchema: request.responseSchema,
            maxTokens: request.maxTokens, temperature: request.temperature
        )
        let estimate = Self.estimateTokens(completionRequest)
        let metrics = self.metrics[name] ?? LaneMetrics(provider: name)
        for attempt in 1...provider.retry.maxAttempts {
            do {
                try await gate.permit(name)
                try await gate.tokens(name, estimate)
            } catch {
                return .failed(
                    failure(
                        request, ProviderFailure(kind: .server, message: "no request permit for \(name): \(error)"), attempts: attempts,
                        retryable: true))
            }
            attempts += 1
            metrics.requests.increment()
            do {
                let completion = try await client.complete(completionRequest, onText: Self.textSink(onText, attempt: attempts))
                health.recordSuccess(name)
                // Settle to the real usage: the overage is paid now, while the slot is still held.
                try? await gate.tokens(name, completion.tokensIn + completion.tokensOut - estimate)
                let elapsed = ContinuousClock.now - started
                let cost = provider.cost(model: model, tokensIn: completion.tokensIn, tokensOut: completion.tokensOut)
                metrics.tokensIn.increment(by: completion.tokensIn)
                metrics.tokensOut.increment(by: completion.tokensOut)
                metrics.cost.increment(by: cost)
                metrics.latency.recordNanoseconds(elapsed.nanoseconds)
                return .generated(
                    ContentGenerated(
                        requestID: request.requestID, content: completion.content, tokensIn: completion.tokensIn,
                        tokensOut: completion.tokensOut, cost: cost,
                        provider: name, model: model,
                        latencyMilliseconds: Int(elapsed.milliseconds),
                        attempts: attempts
                    )
                )
            } catch {
                lastFailure = error
                if error.kind == .rateLimit {
                    metrics.rateLimited.increment()
                }
                logger.warning(
                    "provider call failed",
                    metadata: [
                        "provider": "\(name)", "attempt": "\(attempt)", "kind": "\(error.kind.rawValue)", "error": "\(error.message)",
                    ]
                )
                guard error.kind.isRetryable else {
                    return .failed(failure(request, error, attempts: attempts, retryable: false))
                }
                health.recordFailure(name, policy: provider.retry)
                guard attempt < provider.retry.maxAttempts else { break }
                let delay = max(provider.retry.backoff(after: attempt), error.retryAfter ?? .zero)
                if let deadline = request.deadline, Date().addingTimeInterval(delay.seconds) > deadline {
                    return .failed(
                        GenerationFailed(
                            requestID: request.requestID, kind: "deadline",
                            message: "the deadline passes before the next attempt could start; last failure: \(error.description)",
                            retryable: false, attempts: attempts
                        )
                    )
                }
                metrics.retries.increment()
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    return .failed(failure(request, lastFailure, attempts: attempts, retryable: true))
                }
            }
        }
        return nil
    }

    /// Passes streamed text on with the number of the call it came from.
    private static func textSink(_ sink: AttemptTextSink?, attempt: Int) -> TextSink? {
        guard let sink else { return nil }
        return { text in await sink(attempt, text) }
    }

    /// Input at about four characters a token, plus the most the answer may use (or a typical answer).
    static func estimateTokens(_ request: CompletionRequest) -> Int {
        ((request.system ?? "").utf8.count + request.user.utf8.count) / 4 + (request.maxTokens ?? 512)
    }

    private func failure(_ request: GenerateContent, _ error: ProviderFailure, attempts: Int, retryable: Bool) -> GenerationFailed {
        GenerationFailed(
            requestID: request.requestID, kind: error.kind.rawValue, message: error.message, retryable: retryable, attempts: attempts)
    }
}

/// The result event of one request.
enum GenerationResult: Sendable {
    case generated(ContentGenerated)
    case failed(GenerationFailed)
}

/// Consecutive failures per provider; a provider that keeps failing cools down for a while.
///
/// A lock, not an actor: it is touched twice per call on the hot path, and an actor hop can cost a thread wake-up.
final class LaneHealth: Sendable {
    private struct State {
        var failures: [String: Int] = [:]
        var coolingUntil: [String: ContinuousClock.Instant] = [:]
    }

    private let state = Mutex(State())

    func isCooling(_ provider: String) -> Bool {
        state.withLock { state in state.coolingUntil[provider].map { ContinuousClock.now < $0 } ?? false }
    }

    func recordSuccess(_ provider: String) {
        state.withLock { state in
            state.failures[provider] = 0
            state.coolingUntil[provider] = nil
        }
    }

    func recordFailure(_ provider: String, policy: RetryPolicy) {
        state.withLock { state in
            let count = (state.failures[provider] ?? 0) + 1
            state.failures[provider] = count
            if count >= policy.cooldownAfterFailures {
                state.coolingUntil[provider] = .now + .seconds(policy.cooldownSeconds)
            }
        }
    }
}
