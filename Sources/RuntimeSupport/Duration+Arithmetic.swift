import Foundation

extension Duration {
    /// Whole milliseconds, rounded down; saturates instead of overflowing.
    public var milliseconds: Int64 { Self.whole(components, unitsPerSecond: 1000) }

    /// Whole microseconds, rounded down; saturates instead of overflowing.
    public var microseconds: Int64 { Self.whole(components, unitsPerSecond: 1_000_000) }

    /// Whole nanoseconds; saturates instead of overflowing.
    public var nanoseconds: Int64 { Self.whole(components, unitsPerSecond: 1_000_000_000) }

    /// Seconds with their fraction.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// A duration from a number of seconds that may come from outside (a header, a message): negative, NaN and
    /// infinite values, and anything past `limit`, are held within `0...limit` instead of trapping.
    public static func clamped(seconds: Double, limit: Duration) -> Duration {
        guard seconds.isFinite, seconds > 0 else { return seconds == .infinity ? limit : .zero }
        guard seconds < limit.seconds else { return limit }
        return .nanoseconds(Int64(seconds * 1e9))
    }

    private static func whole(_ components: (seconds: Int64, attoseconds: Int64), unitsPerSecond: Int64) -> Int64 {
        let (scaled, overflow) = components.seconds.multipliedReportingOverflow(by: unitsPerSecond)
        if overflow { return components.seconds < 0 ? .min : .max }
        let (sum, overflowAgain) = scaled.addingReportingOverflow(components.attoseconds / (1_000_000_000_000_000_000 / unitsPerSecond))
        return overflowAgain ? (scaled < 0 ? .min : .max) : sum
    }
}
