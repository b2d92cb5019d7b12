/// An error from the AMQP runtime, with a message that says what happened and what to check.
public struct AMQPError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What kind of failure this is; compare against the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate let rawValue: String
        public var description: String { rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// A readable explanation, including the broker's or the library's own words.
    public let message: String

    public var description: String { "AMQP \(code.rawValue): \(message)" }

    public static func == (lhs: AMQPError, rhs: AMQPError) -> Bool { lhs.code == rhs.code }

    /// The broker's 404 for a queue: there is none of that name, or (in a cluster) its node is down. A queue that
    /// another process declares will be there shortly.
    public var isMissingQueue: Bool { code == .channelClosed && message.contains("refused with 404 ") }

    /// The broker's refusal of a queue declaration that differs from the existing queue in type or durability only.
    var isKindMismatch: Bool {
        code == .channelClosed
            && (message.contains("inequivalent arg 'x-queue-type'") || message.contains("inequivalent arg 'durable'"))
    }

    package static func connectionFailed(_ message: String) -> AMQPError { AMQPError(code: .connectionFailed, message: message) }
    package static func connectionLost(_ message: String) -> AMQPError { AMQPError(code: .connectionLost, message: message) }
    package static func channelClosed(_ message: String) -> AMQPError { AMQPError(code: .channelClosed, message: message) }
    package static func unroutable(exchange: String, routingKey: String) -> AMQPError {
        AMQPError(
            code: .unroutable,
            message:
                "no queue is bound to exchange '\(exchange)' for routing key '\(routingKey)'; is the consuming service running and has it declared its queue?"
        )
    }
    package static func nacked(_ message: String) -> AMQPError { AMQPError(code: .nacked, message: message) }
    package static func consumerCancelled(queue: String) -> AMQPError {
        AMQPError(
            code: .consumerCancelled,
            message: "the broker ended the consumer of '\(queue)': the queue was deleted, or its node of a cluster went down")
    }
    public static var closed: AMQPError { AMQPError(code: .closed, message: "the connection was closed by this process") }
    package static func invalidURL(_ message: String) -> AMQPError { AMQPError(code: .invalidURL, message: message) }
    package static func invalidMessage(_ message: String) -> AMQPError { AMQPError(code: .invalidMessage, message: message) }
    package static func unknownExchange(_ exchange: String) -> AMQPError {
        AMQPError(
            code: .unknownExchange,
            message: "exchange '\(exchange)' does not exist on the broker; declare it first or publish to one that does"
        )
    }
    package static func timedOut(_ message: String) -> AMQPError { AMQPError(code: .timedOut, message: message) }
    package static func transactionUncertain(_ message: String) -> AMQPError { AMQPError(code: .transactionUncertain, message: message) }
}

extension AMQPError.Code {
    /// The broker could not be reached or refused the login.
    public static let connectionFailed = Self(rawValue: "connection-failed")
    /// An established connection broke; the runtime reconnects by itself.
    public static let connectionLost = Self(rawValue: "connection-lost")
    /// The broker closed a channel because an operation was not allowed (for example a declaration that
    /// conflicts with an existing queue).
    public static let channelClosed = Self(rawValue: "channel-closed")
    /// A mandatory message matched no queue.
    public static let unroutable = Self(rawValue: "unroutable")
    /// The broker refused to take responsibility for a message.
    public static let nacked = Self(rawValue: "nacked")
    /// The broker ended an exclusive consumer by itself (its queue is gone); whoever held it holds nothing now.
    public static let consumerCancelled = Self(rawValue: "consumer-cancelled")
    /// The connection was closed by this process.
    public static let closed = Self(rawValue: "closed")
    /// The AMQP URL could not be read.
    public static let invalidURL = Self(rawValue: "invalid-url")
    /// The message cannot be sent as it is (a name longer than AMQP allows, a body over the size limit); sending it
    /// again would fail the same way.
    public static let invalidMessage = Self(rawValue: "invalid-message")
    /// The message names an exchange the broker does not have.
    public static let unknownExchange = Self(rawValue: "unknown-exchange")
    /// The broker did not take the message in time (it is unreachable or blocks publishers).
    public static let timedOut = Self(rawValue: "timed-out")

    /// The connection broke during a transaction: it may or may not have committed. Look before trying again.
    public static let transactionUncertain = Self(rawValue: "transaction-uncertain")
}
