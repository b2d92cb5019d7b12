import Synchronization

/// Named checks that all must pass before a service reports ready.
public final class Readiness: Sendable {
    private let registered = Mutex<[(String, @Sendable () -> Bool)]>([])

    public init() {}

    /// Adds a check, evaluated on every `/ready`.
    public func add(_ name: String, _ check: @escaping @Sendable () -> Bool) {
        registered.withLock { $0.append((name, check)) }
    }

    /// Each check's current result.
    public func checks() -> [String: Bool] {
        let checks = registered.withLock { $0 }
        return Dictionary(checks.map { ($0.0, $0.1()) }, uniquingKeysWith: { $1 })
    }

    public var isReady: Bool { checks().values.allSatisfy { $0 } }
}
