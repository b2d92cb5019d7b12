import Contracts
import Foundation
import Messaging
import Synchronization

/// The providers' prices, to reserve the most a task may cost before it is sent.
protocol PriceSource: Sendable {
    /// The price list if one is known; never waits on the network.
    func current() -> PriceList?
}

/// The price list from any ProviderGateway replica, asked for in the background and kept for a minute.
final class BusPriceSource: PriceSource {
    private struct State {
        var list: PriceList?
        var fetchedAt: ContinuousClock.Instant?
        var fetching = false
    }

    private let bus: any MessageBus
    private let state = Mutex(State())
    private let lifetime: Duration

    init(bus: any MessageBus, lifetime: Duration = .seconds(60)) {
        self.bus = bus
        self.lifetime = lifetime
    }

    func current() -> PriceList? {
        let (list, refresh) = state.withLock { state -> (PriceList?, Bool) in
            let stale = state.fetchedAt.map { ContinuousClock.now - $0 > lifetime } ?? true
            let refresh = stale && !state.fetching
            if refresh { state.fetching = true }
            return (state.list, refresh)
        }
        if refresh {
            Task {
                let fresh = try? await bus.request(GetPriceList(), timeout: .seconds(5))
                state.withLock { state in
                    state.fetching = false
                    if let fresh {
                        state.list = fresh
                        state.fetchedAt = .now
                    }
                }
            }
        }
        return list
    }
}

/// A fixed list (tests, and installations without budgets).
struct FixedPrices: PriceSource {
    let list: PriceList?

    func current() -> PriceList? { list }
}
