import Foundation
import Logging
import ServiceKit

/// Stored work that comes due (timers, notifications): one pass does what is due and says when the next is.
enum DueWork {
    /// Runs `pass` until cancelled. Between passes it waits for `signal` (new work was stored) or the next due
    /// moment, at most `idleCheck`; a pass that fails is logged and tried again after a second.
    static func run(signal: WakeSignal, idleCheck: Duration, logger: Logger, what: String, _ pass: () async throws -> Date?) async {
        while !Task.isCancelled {
            let wait: Duration
            do {
                wait = self.wait(until: try await pass(), idleCheck: idleCheck)
            } catch {
                logger.error("\(what) failed; will retry", metadata: ["error": "\(error)"])
                wait = .seconds(1)
            }
            await signal.wait(timeout: wait)
        }
    }

    /// How long to sleep for work due at `next`: at least 10 ms, at most `idleCheck`.
    static func wait(until next: Date?, idleCheck: Duration) -> Duration {
        guard let next else { return idleCheck }
        return .milliseconds(Int(max(0.01, min(next.timeIntervalSinceNow, idleCheck.seconds)) * 1000))
    }
}
