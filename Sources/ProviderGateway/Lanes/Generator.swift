import Contracts
import Foundation
import Logging
import Metrics
import RuntimeSupport
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
            if let outcome = await attempt(
                request, provider: provider, client: client, model: model, started: started, onText: onText, attempts: &attempts,
                lastFailure: &lastFailure)
            {
                return outcome
            }
        }
        return .failed(failure(request, lastFailure, attempts: attempts, retryable: true))
    }

    /// The longest wait between two attempts that a request sits out here; a provider that asks for more gets the
    /// request back to its sender as a retryable failure, to be sent again later from a durable timer.
    static let maximumRetryWait: Duration = .seconds(60)

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
            // A fallback's model may allow less than the first one: never ask it for more than it writes.
            maxTokens: request.maxTokens.map { min($0, provider.models[model]?.maxOutputTokens ?? $0) },
            temperature: request.temperature.map { $0.clamped(to: provider.kind.temperatureRange) }
        )
        let estimate = Self.estimateTokens(completionRequest)
        let metrics = self.metrics[name] ?? LaneMetrics(provider: name)
        for attempt in 1...provider.retry.maxAttempts {
            // The slot is held for the call alone, never while waiting to try again.
            let releaseSlot: @Sendable () async -> Void
            do {
                releaseSlot = try await withDeadline(request.deadline, "waiting for a concurrency slot of \(name)") {
                    try await gate.slot(name)
                }
            } catch {
                return admissionFailure(request, provider: name, error, attempts: attempts)
            }
            do {
                try await withDeadline(request.deadline, "waiting for a request permit of \(name)") {
                    try await gate.permit(name)
                    try await gate.tokens(name, estimate)
                }
            } catch {
                await releaseSlot()  // taken for a call that does not happen
                return admissionFailure(request, provider: name, error, attempts: attempts)
            }
            attempts += 1
            metrics.requests.increment()
            let result: Result<Completion, ProviderFailure>
            do {
                result = .success(try await client.complete(completionRequest, onText: Self.textSink(onText, attempt: attempts)))
            } catch {
                result = .failure(error)
            }
            if case .success(let completion) = result {
                // Settle to the real usage: the overage is paid now, while the slot is still held.
                let (used, _) = completion.tokensIn.addingReportingOverflow(completion.tokensOut)
                try? await gate.tokens(name, used.subtractingSaturated(estimate))
            }
            await releaseSlot()
            switch result {
            case .success(let completion):
                health.recordSuccess(name)
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
            case .failure(let error):
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
                if delay > Self.maximumRetryWait {
                    return .failed(
                        GenerationFailed(
                            requestID: request.requestID, kind: error.kind.rawValue,
                            message:
                                "\(name) asks to wait \(delay) before the next attempt, longer than the \(Self.maximumRetryWait) waited here; send the request again later. Last failure: \(error.message)",
                            retryable: true, attempts: attempts
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

    /// The answer when a call could not be admitted: past the deadline, or the broker's slots and permits unreachable.
    private func admissionFailure(_ request: GenerateContent, provider: String, _ error: any Error, attempts: Int) -> GenerationResult {
        if let error = error as? DeadlineExceededError {
            return .failed(
                GenerationFailed(requestID: request.requestID, kind: "deadline", message: "\(error)", retryable: false, attempts: attempts))
        }
        return .failed(
            failure(
                request, ProviderFailure(kind: .server, message: "no admission to \(provider): \(error)"), attempts: attempts,
                retryable: true))
    }

    /// Passes streamed text on with the number of the call it came from.
    private static func textSink(_ sink: AttemptTextSink?, attempt: Int) -> TextSink? {
        guard let sink else { return nil }
        return { text in await sink(attempt, text) }
    }

    /// Input at about four characters a token, plus the most the answer may use (or a typical answer).
    /// Saturating: a request's numbers come from outside and must never trap.
    static func estimateTokens(_ request: CompletionRequest) -> Int {
        let input = ((request.system ?? "").utf8.count + request.user.utf8.count) / 4
        let (total, overflow) = input.addingReportingOverflow(max(0, request.maxTokens ?? 512))
        return overflow ? .max : total
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

extension Int {
    /// `self - other`, held at the bounds of `Int` instead of trapping.
    func subtractingSaturated(_ other: Int) -> Int {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }
}

extension Comparable {
    func clamped(to range: ClosedRange<Self>) -> Self { Swift.min(Swift.max(self, range.lowerBound), range.upperBound) }
}
