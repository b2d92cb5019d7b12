/// Polls `condition` until it holds or `timeout` passes; for state a test can only observe from outside.
///
/// The bound is generous on purpose: it costs time only when the condition never holds, while a tight one fails a
/// correct system on a loaded CI machine (the whole suite shares two cores, and one run saw a 10 s bound missed by a
/// mail the service wrote a moment later).
public func eventually(
    timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(25), _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}
