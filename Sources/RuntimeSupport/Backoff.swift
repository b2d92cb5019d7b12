import Foundation

/// The runtime's one backoff: delays that double from `initial` up to `maximum`, spread by jitter so many clients
/// do not retry in step. Reconnects, handler retries, the outbox and notifications all wait by it.
public struct Backoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    /// How far a delay is spread either way, as a fraction of it (0.2: ±20 %).
    public var jitter: Double

    public init(initial: Duration, maximum: Duration, jitter: Double = 0.2) {
        self.initial = initial
        self.maximum = max(initial, maximum)
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The delay before attempt `attempt + 1` (so `delay(after: 1)` is about `initial`); never overflows.
    public func delay(after attempt: Int) -> Duration {
        let doublings = Double(min(max(attempt - 1, 0), 62))
        let seconds = min(initial.seconds * pow(2, doublings), maximum.seconds)
        let spread = jitter == 0 ? 1 : Double.random(in: (1 - jitter)...(1 + jitter))
        return .clamped(seconds: seconds * spread, limit: maximum * (1 + jitter))
    }
}
