import Foundation
import Logging

/// The one loop the runtime uses for stored work that comes due: outbox records, timers, notifications, pruning.
///
/// A pass does what is due now and says when the next work is due (`nil`: nothing is stored). Between passes the
/// loop waits until then, at most `idleCheck`, and wakes early on `signal` (new work was stored). A pass that throws
/// is logged and tried again after a backoff that grows with each failure in a row, so a broken database is neither
/// hammered nor fatal.
public struct DueLoop: Sendable {
    /// What the loop does, for its log lines ("relaying the outbox").
    public let what: String
    public let idleCheck: Duration
    public let signal: WakeSignal?
    public let retry: Backoff
    /// The shortest pause between passes, so work that stays due (a row a pass cannot settle) never spins a core.
    public let minimumWait: Duration
    public let logger: Logger

    public init(
        _ what: String, idleCheck: Duration, signal: WakeSignal? = nil,
        retry: Backoff = Backoff(initial: .seconds(1), maximum: .seconds(30)), minimumWait: Duration = .milliseconds(10),
        logger: Logger
    ) {
        self.what = what
        self.idleCheck = idleCheck
        self.signal = signal
        self.retry = retry
        self.minimumWait = minimumWait
        self.logger = logger
    }

    /// Runs `pass` until the task is cancelled or `proceed` says to stop (checked before every pass and wait).
    public func run(while proceed: () -> Bool = { true }, _ pass: () async throws -> Date?) async {
        var failures = 0
        while !Task.isCancelled, proceed() {
            let wait: Duration
            do {
                wait = max(Self.wait(until: try await pass(), idleCheck: idleCheck), minimumWait)
                failures = 0
            } catch {
                failures += 1
                wait = retry.delay(after: failures)
                logger.error("\(what) failed; will retry", metadata: ["error": "\(error)", "failures": "\(failures)"])
            }
            guard wait > .zero, !Task.isCancelled, proceed() else { continue }
            if let signal {
                await signal.wait(timeout: wait)
            } else {
                try? await Task.sleep(for: wait)
            }
        }
    }

    /// How long to wait for work due at `next`: none when it is due already, at most `idleCheck`.
    public static func wait(until next: Date?, idleCheck: Duration, now: Date = Date()) -> Duration {
        guard let next else { return idleCheck }
        let seconds = next.timeIntervalSince(now)
        return seconds <= 0 ? .zero : Duration.clamped(seconds: seconds, limit: idleCheck)
    }
}
