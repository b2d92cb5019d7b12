import Foundation

/// A wait that did not end before its deadline.
public struct DeadlineExceededError: Error, CustomStringConvertible, Sendable {
    public let what: String
    public var description: String { "\(what) did not finish before the deadline" }
}

/// Runs `operation` and cancels it when `deadline` passes first; without a deadline it simply runs.
///
/// The operation must honour cancellation (every wait in the runtime does), or this waits for it all the same.
public func withDeadline<Result: Sendable>(
    _ deadline: Date?,
    _ what: String,
    _ operation: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    guard let deadline else { return try await operation() }
    let remaining = Duration.clamped(seconds: deadline.timeIntervalSinceNow, limit: .seconds(86_400 * 365))
    guard remaining > .zero else { throw DeadlineExceededError(what: what) }
    return try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: remaining)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else { throw DeadlineExceededError(what: what) }
        return result
    }
}
