import Metrics

/// The metrics of one provider, made once: looking a metric up by label on every call costs more than the call.
struct LaneMetrics: Sendable {
    let requests: Counter
    let tokensIn: Counter
    let tokensOut: Counter
    let cost: FloatingPointCounter
    let retries: Counter
    let rateLimited: Counter
    let latency: Metrics.Timer
    let inFlight: Meter
    /// Requests waiting in the lane's queue.
    let depth: Gauge

    init(provider: String) {
        let dimensions = [("provider", provider)]
        requests = Counter(label: "aiwf_provider_requests_total", dimensions: dimensions)
        tokensIn = Counter(label: "aiwf_provider_tokens_total", dimensions: dimensions + [("direction", "in")])
        tokensOut = Counter(label: "aiwf_provider_tokens_total", dimensions: dimensions + [("direction", "out")])
        cost = FloatingPointCounter(label: "aiwf_provider_cost_dollars_total", dimensions: dimensions)
        retries = Counter(label: "aiwf_provider_retries_total", dimensions: dimensions)
        rateLimited = Counter(label: "aiwf_provider_rate_limited_total", dimensions: dimensions)
        latency = Metrics.Timer(label: "aiwf_provider_latency_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
        inFlight = Meter(label: "aiwf_provider_in_flight", dimensions: dimensions)
        depth = Gauge(label: "aiwf_provider_lane_depth", dimensions: [("lane", provider)])
    }

    /// One set per provider name.
    static func make(for providers: some Sequence<String>) -> [String: LaneMetrics] {
        Dictionary(uniqueKeysWithValues: providers.map { ($0, LaneMetrics(provider: $0)) })
    }
}
