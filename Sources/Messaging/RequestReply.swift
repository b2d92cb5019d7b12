import Foundation
import Synchronization

/// An error a request handler means for its caller: sent back with its code instead of being retried.
public protocol ReplyableError: Error {
    /// A stable machine-readable code, such as `not-found` or `invalid`.
    var code: String { get }
    /// What the caller should know or do.
    var message: String { get }
}

/// A request's refusal or failure, as the responding service reported it.
public struct RemoteError: Error, Codable, Equatable, CustomStringConvertible, Sendable {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// Nobody answered a request before its deadline.
public struct RequestTimeoutError: Error, CustomStringConvertible, Sendable {
    public let routingKey: String
    public let timeout: Duration
    public var description: String {
        "no reply to \(routingKey) within \(timeout); is the responding service running?"
    }
}

/// The body of a reply: the result or the responder's error.
struct ReplyEnvelope<Reply: Codable & Sendable>: Codable, Sendable {
    var result: Result<Reply, RemoteError>

    init(result: Result<Reply, RemoteError>) {
        self.result = result
    }

    private enum CodingKeys: String, CodingKey {
        case ok, error
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let error = try container.decodeIfPresent(RemoteError.self, forKey: .error) {
            result = .failure(error)
        } else {
            result = .success(try container.decode(Reply.self, forKey: .ok))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch result {
        case .success(let reply): try container.encode(reply, forKey: .ok)
        case .failure(let error): try container.encode(error, forKey: .error)
        }
    }
}

/// Callers waiting for replies, keyed by correlation id; shared by both bus implementations.
final class ReplyWaiters: Sendable {
    private enum Entry {
        /// Registered before the request was sent; nothing arrived yet.
        case reserved
        /// The reply arrived before its caller started waiting.
        case arrived(Data)
        case waiting(CheckedContinuation<Data, any Error>)
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// Registers a waiter, runs `send`, and waits for ``deliver(_:correlationID:)`` or the deadline.
    func wait(
        for correlationID: String,
        routingKey: String,
        timeout: Duration,
        send: @escaping @Sendable () async throws -> Void
    ) async throws -> Data {
        entries.withLock { $0[correlationID] = .reserved }
        // The deadline covers sending too: a publish that waits for an unreachable broker counts against it.
        return try await withThrowingTaskGroup(of: Data?.self) { group in
            group.addTask {
                try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { continuation in
                        let arrived = self.entries.withLock { entries -> Data? in
                            switch entries[correlationID] {
                            case .arrived(let body):
                                entries[correlationID] = nil
                                return body
                            case .reserved:
                                entries[correlationID] = .waiting(continuation)
                                return nil
                            case .waiting, .none:
                                continuation.resume(throwing: CancellationError())
                                return nil
                            }
                        }
                        if let arrived { continuation.resume(returning: arrived) }
                    }
                } onCancel: {
                    self.fail(correlationID, with: CancellationError())
                }
            }
            group.addTask {
                try await send()
                return nil
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw RequestTimeoutError(routingKey: routingKey, timeout: timeout)
            }
            defer { group.cancelAll() }
            do {
                while let next = try await group.next() {
                    if let reply = next { return reply }
                }
                throw CancellationError()
            } catch {
                self.fail(correlationID, with: error)
                throw error
            }
        }
    }

    /// Hands a reply to its waiter; a reply nobody waits for any more is dropped.
    func deliver(_ body: Data, correlationID: String) {
        let waiter = entries.withLock { entries -> CheckedContinuation<Data, any Error>? in
            switch entries[correlationID] {
            case .reserved:
                entries[correlationID] = .arrived(body)
                return nil
            case .waiting(let continuation):
                entries[correlationID] = nil
                return continuation
            case .arrived, .none:
                return nil
            }
        }
        waiter?.resume(returning: body)
    }

    private func fail(_ correlationID: String, with error: any Error) {
        let entry = entries.withLock { $0.removeValue(forKey: correlationID) }
        if case .waiting(let continuation) = entry { continuation.resume(throwing: error) }
    }
}
