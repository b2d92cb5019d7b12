import Foundation
import Synchronization

/// Requests per API key: a token bucket per key, refilled at `perMinute` and holding at most `burst`. Held in
/// this replica (with several replicas a key may make up to that many times the rate).
final class RateLimiter: Sendable {
    let perMinute: Double
    let burst: Double
    private let buckets = Mutex<[String: (tokens: Double, at: Date)]>([:])

    init(perMinute: Int, burst: Int? = nil) {
        self.perMinute = Double(max(perMinute, 1))
        self.burst = Double(max(burst ?? max(perMinute / 10, 10), 1))
    }

    /// Takes a request for `key`; nil when admitted, else the seconds until one would be.
    func admit(_ key: String, at now: Date = Date()) -> Int? {
        buckets.withLock { buckets in
            if buckets.count > 100_000 { buckets.removeAll() }  // a bound on memory; full buckets are the default anyway
            var bucket = buckets[key] ?? (burst, now)
            bucket.tokens = min(burst, bucket.tokens + now.timeIntervalSince(bucket.at) * perMinute / 60)
            bucket.at = now
            defer { buckets[key] = bucket }
            guard bucket.tokens >= 1 else { return max(1, Int(((1 - bucket.tokens) * 60 / perMinute).rounded(.up))) }
            bucket.tokens -= 1
            return nil
        }
    }
}
