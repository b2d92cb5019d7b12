import AMQPClient
import Foundation
import RuntimeSupport

/// Where one provider's global limits live in the broker, and how they are sized (see `notes/rate-limiter.md`).
///
/// A token bucket lets at most `R·W + B` calls through in any window `W`; for a limit of `L` per minute the pacer
/// issues `R = (L·(1 − margin) − B) / 60` (margin 7 %) permits a second, so delivery jitter never pushes a window over the limit.
struct LaneLimitPlan: Sendable, Equatable {
    let provider: String
    /// Permits issued per second, or `nil` when the provider has no request limit.
    let permitsPerSecond: Double?
    /// How many permits may wait unused (the bucket's size).
    let burst: Int
    /// Calls in flight at once, across every replica.
    let slots: Int
    /// Token permits issued per second (each worth ``tokensPerPermit``), or `nil` without a tokens-per-minute limit.
    let tokenPermitsPerSecond: Double?
    /// How many token permits may wait unused: about one second's worth.
    let tokenBurst: Int
    static let tokensPerPermit = 1_000

    init(provider: ProviderConfiguration, margin: Double = 0.07) {
        self.provider = provider.name
        self.burst = max(1, provider.limits.burst)
        self.slots = provider.limits.maxConcurrency
        self.permitsPerSecond = provider.limits.requestsPerMinute.map { limit in
            max((Double(limit) * (1 - margin) - Double(max(1, provider.limits.burst))) / 60, 0.01)
        }
        let tokenRate = provider.limits.tokensPerMinute.map { limit in
            max(Double(limit) * (1 - margin) / 60 / Double(Self.tokensPerPermit), 0.01)
        }
        self.tokenPermitsPerSecond = tokenRate
        self.tokenBurst = max(1, Int((tokenRate ?? 1).rounded(.down)))
    }

    /// The plans of every provider that calls out (the offline `local` provider needs none).
    static func plans(for configuration: ProvidersConfiguration) -> [String: LaneLimitPlan] {
        configuration.providers.compactMapValues { provider in provider.kind == .local ? nil : LaneLimitPlan(provider: provider) }
    }

    /// Named after the bucket's size (its `x-max-length` follows `burst`), so a changed burst is a new queue
    /// instead of a declaration the broker refuses.
    var permitsQueue: String { "provider.\(provider).permits.b\(burst)" }
    /// Named after the slot count, so a changed limit starts a fresh set of slots instead of adding to the old one.
    var slotsQueue: String { "provider.\(provider).slots.\(slots)" }
    var seededMarker: String { "provider.\(provider).slots.\(slots).seeded" }
    var lockQueue: String { "provider.\(provider).pacer-lock" }
    var tokenPermitsQueue: String { "provider.\(provider).token-permits.b\(tokenBurst)" }

    /// Classic queues on purpose: quorum queues count every requeue toward their delivery limit (eating slots) and
    /// accept several "exclusive" consumers on RabbitMQ 3.10 (every replica would pace).
    ///
    /// A bucket of size `B` keeps `B − 1` permits waiting: the pacer's next permit is the `B`-th. With `B` waiting,
    /// a caller taking the last one just before the pacer's tick would start two calls in one instant, and a window
    /// would hold `B + 1 + R·W` calls, one more than the token bucket allows (see ``mostCalls(in:)``).
    var topology: Topology {
        var permits = QueueSpec(name: permitsQueue, kind: .classic)
        permits.durable = false
        permits.maxLength = burst - 1
        permits.overflow = "drop-head"
        var tokens = QueueSpec(name: tokenPermitsQueue, kind: .classic)
        tokens.durable = false
        tokens.maxLength = tokenBurst - 1
        tokens.overflow = "drop-head"
        return Topology(queues: [
            permits, tokens, QueueSpec(name: slotsQueue, kind: .classic), QueueSpec(name: lockQueue, kind: .classic),
            QueueSpec(name: seededMarker, kind: .classic),
        ])
    }

    /// The most calls that can start in any window of length `window`: the permits waiting in the queue at its
    /// start, plus every permit the pacer issues within it (one per interval, the first possibly at its very start).
    func mostCalls(in window: Duration) -> Int? {
        guard let rate = permitsPerSecond else { return nil }
        let waiting = burst - 1
        return waiting + Int((window.seconds * rate).rounded(.down)) + 1
    }
}
