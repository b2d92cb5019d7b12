import Testing

@testable import RuntimeSupport

@Suite("Wake signal", .timeLimit(.minutes(1)))
struct WakeSignalTests {
    @Test func aSignalEndsTheWaitAndIsKeptWhenNobodyWaits() async {
        let signal = WakeSignal()
        signal.signal()
        let start = ContinuousClock.now
        await signal.wait(timeout: .seconds(30))
        #expect(ContinuousClock.now - start < .seconds(10), "well short of the 30 s timeout, even on a loaded machine")
    }

    /// The regression: a timeout cut short by a signal must not leave a signal behind, or the loop spins.
    @Test func waitsAfterAnEarlyWakeStillLastTheirTimeout() async {
        let signal = WakeSignal()
        signal.signal()
        await signal.wait(timeout: .seconds(30))
        let start = ContinuousClock.now
        for _ in 0..<3 { await signal.wait(timeout: .milliseconds(100)) }
        #expect(ContinuousClock.now - start >= .milliseconds(300))
    }

    @Test func aZeroTimeoutReturns() async {
        let signal = WakeSignal()
        for _ in 0..<100 { await signal.wait(timeout: .zero) }
    }
}
