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
    /// Transient, so that in a cluster they live on one node and go with it, to be declared again on a surviving one
    /// (a durable classic queue would be unusable until its node returns). The lock is declared by every replica
    /// before it competes for it; the rest only by the pacer holding the lock (see ``pacedTopology``).
    var lockTopology: Topology { Topology(queues: [Self.transient(lockQueue)]) }

    /// The permits, the slots and the marker saying the slots are there, declared by the lock's holder on its own
    /// connection (so on its node) whenever it finds them gone.
    ///
    /// The slots and their marker are declared together, so they share a node and go together: a marker left
    /// without its slots would keep every call waiting. Nobody else declares them, as a caller declaring the slots
    /// again on its own node would part them from the marker.
    ///
    /// A bucket of size `B` keeps `B − 1` permits waiting: the pacer's next permit is the `B`-th. With `B` waiting,
    /// a caller taking the last one just before the pacer's tick would start two calls in one instant, and a window
    /// would hold `B + 1 + R·W` calls, one more than the token bucket allows (see ``mostCalls(in:)``).
    var pacedTopology: Topology {
        Topology(queues: [
            Self.transient(permitsQueue, maxLength: burst - 1), Self.transient(tokenPermitsQueue, maxLength: tokenBurst - 1),
            Self.transient(slotsQueue), Self.transient(seededMarker),
        ])
    }

    /// A transient classic queue; one with a `maxLength` drops its oldest message when full (a bucket's overflow).
    private static func transient(_ name: String, maxLength: Int? = nil) -> QueueSpec {
        var queue = QueueSpec(name: name, kind: .classic)
        queue.durable = false
        if let maxLength {
            queue.maxLength = maxLength
            queue.overflow = "drop-head"
        }
        return queue
    }

    /// Every queue of this provider's limits.
    var queues: [String] { (lockTopology + pacedTopology).queues.map(\.name) }

    /// The most calls that can start in any window of length `window`: the permits waiting in the queue at its
    /// start, plus every permit the pacer issues within it (one per interval, the first possibly at its very start).
    func mostCalls(in window: Duration) -> Int? {
        guard let rate = permitsPerSecond else { return nil }
        let waiting = burst - 1
        return waiting + Int((window.seconds * rate).rounded(.down)) + 1
    }
}
