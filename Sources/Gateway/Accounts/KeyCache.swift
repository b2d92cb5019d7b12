import Foundation
import Synchronization

/// Who a key belongs to, remembered for a few seconds so a busy key is not looked up (and hashed into a query) on
/// every request. A key revoked on this replica is forgotten at once; on another, within `lifetime`.
final class KeyCache: Sendable {
    let lifetime: TimeInterval
    private let entries = Mutex<[String: (identity: Identity, until: Date)]>([:])

    init(lifetime: TimeInterval = 10) { self.lifetime = lifetime }

    func identity(for hash: String, at now: Date) -> Identity? {
        entries.withLock { entries in
            guard let entry = entries[hash] else { return nil }
            guard entry.until > now else {
                entries[hash] = nil
                return nil
            }
            return entry.identity
        }
    }

    func remember(_ identity: Identity, for hash: String, at now: Date) {
        entries.withLock { entries in
            if entries.count > 10_000 { entries.removeAll() }
            entries[hash] = (identity, now.addingTimeInterval(lifetime))
        }
    }

    func forget(keyID: String) {
        entries.withLock { entries in entries = entries.filter { $0.value.identity.keyID != keyID } }
    }
}

/// Usage counted in memory and written to the store once a second, so a generation costs no write of its own.
/// What a crash loses is at most the last second's counts.
final class UsageCounter: Sendable {
    private struct Totals {
        var requests = 0
        var tokensIn = 0
        var tokensOut = 0
        var cost = 0.0

        static func += (lhs: inout Totals, rhs: Totals) {
            lhs.requests += rhs.requests
            lhs.tokensIn += rhs.tokensIn
            lhs.tokensOut += rhs.tokensOut
            lhs.cost += rhs.cost
        }
    }
    private let pending = Mutex<[String: Totals]>([:])

    func add(keyID: String, tokensIn: Int, tokensOut: Int, cost: Double) {
        count(Totals(requests: 1, tokensIn: tokensIn, tokensOut: tokensOut, cost: cost), for: keyID)
    }

    private func count(_ totals: Totals, for keyID: String) {
        pending.withLock { $0[keyID, default: Totals()] += totals }
    }

    /// Writes what was counted; what fails to be written is counted again for the next time.
    func flush(to store: any AccountStore) async {
        let taken = pending.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
        for (keyID, totals) in taken {
            do {
                try await store.recordUsage(
                    keyID: keyID, requests: totals.requests, tokensIn: totals.tokensIn, tokensOut: totals.tokensOut, cost: totals.cost)
            } catch {
                count(totals, for: keyID)
            }
        }
    }

    /// Flushes every `interval` until cancelled, and once more at the end.
    func run(store: any AccountStore, every interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await flush(to: store)
        }
        await flush(to: store)
    }
}
