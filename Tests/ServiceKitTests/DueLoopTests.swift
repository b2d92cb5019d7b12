import Foundation
import Logging
import Synchronization
import Testing

@testable import RuntimeSupport

/// The runtime's one loop for stored work that comes due.
@Suite("Due loop", .timeLimit(.minutes(1)))
struct DueLoopTests {
    final class Passes: Sendable {
        private let count = Mutex(0)
        func add() -> Int {
            count.withLock {
                $0 += 1
                return $0
            }
        }
        var value: Int { count.withLock { $0 } }
    }

    @Test func theWaitIsUntilTheNextDueWorkWithinTheIdleCheck() {
        let now = Date()
        let idle = Duration.seconds(30)
        #expect(DueLoop.wait(until: nil, idleCheck: idle, now: now) == idle)
        #expect(DueLoop.wait(until: now.addingTimeInterval(-5), idleCheck: idle, now: now) == .zero)
        #expect(DueLoop.wait(until: now.addingTimeInterval(2), idleCheck: idle, now: now) == .seconds(2))
        #expect(DueLoop.wait(until: now.addingTimeInterval(1e12), idleCheck: idle, now: now) == idle)
        #expect(DueLoop.wait(until: .distantFuture, idleCheck: idle, now: now) == idle)
    }

    /// A failing pass (a locked database) is retried after a backoff; the loop does not end or spin.
    @Test func aFailingPassIsRetriedAndTheLoopGoesOn() async {
        struct Broken: Error {}
        let passes = Passes()
        let loop = DueLoop(
            "testing", idleCheck: .seconds(30), retry: Backoff(initial: .milliseconds(20), maximum: .milliseconds(40), jitter: 0),
            logger: Logger(label: "test"))
        let start = ContinuousClock.now
        await loop.run(while: { passes.value < 4 }) {
            if passes.add() < 4 { throw Broken() }
            return nil
        }
        #expect(passes.value == 4)
        #expect(ContinuousClock.now - start >= .milliseconds(20 + 40 + 40), "each failure waited its backoff")
    }

    @Test func workDueNowRunsAgainAtOnceAndASignalWakesAnIdleLoop() async throws {
        let passes = Passes()
        let signal = WakeSignal()
        let loop = DueLoop("testing", idleCheck: .seconds(60), signal: signal, minimumWait: .zero, logger: Logger(label: "test"))
        let running = Task {
            await loop.run {
                // Three passes find work due at once; after that nothing is stored.
                passes.add() < 3 ? Date() : nil
            }
        }
        defer { running.cancel() }
        let deadline = ContinuousClock.now + .seconds(20)
        while passes.value < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(passes.value == 3, "due work does not wait for the 60 s idle check")
        signal.signal()
        while passes.value < 4, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(passes.value == 4, "the signal woke the loop well before its idle check")
    }
}
