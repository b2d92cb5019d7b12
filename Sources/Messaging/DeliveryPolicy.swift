import Foundation
import Logging
import Metrics
import RuntimeSupport

/// How a consumer treats a handler that fails: bounded retries with exponential backoff, then dead-lettering.
public struct DeliveryPolicy: Sendable {
    /// How often the handler runs for one delivery before the message is dead-lettered.
    public var maxAttempts: Int = 5
    public var initialBackoff: Duration = .milliseconds(100)
    public var maximumBackoff: Duration = .seconds(10)
    /// The largest message body handled; a larger one is dead-lettered unread (no field of any message needs more).
    public var maximumBodyBytes = 8 * 1024 * 1024

    public init(maxAttempts: Int = 5, initialBackoff: Duration = .milliseconds(100), maximumBackoff: Duration = .seconds(10)) {
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
    }

    /// The delay before attempt `attempt + 1`, with jitter.
    func backoff(after attempt: Int) -> Duration {
        Backoff(initial: initialBackoff, maximum: maximumBackoff).delay(after: attempt)
    }
}

/// What to do with a delivery once its handling ended.
enum DeliveryOutcome: Equatable {
    /// Handled: acknowledge it.
    case handled
    /// Never handleable or out of attempts: to the dead-letter queue.
    case deadLetter(reason: String)
    /// Interrupted by shutdown: give it back to the queue for another consumer.
    case requeue
}

/// The one failure policy, shared by the AMQP and the in-memory bus so both behave alike.
struct DeliveryProcessor: Sendable {
    let queue: String
    let policy: DeliveryPolicy
    let logger: Logger
    let handler: MessageHandler
    private let handled: Counter
    private let retried: Counter
    private let deadLettered: Counter
    private let duration: Metrics.Timer

    init(queue: String, policy: DeliveryPolicy, logger: Logger, handler: @escaping MessageHandler) {
        self.queue = queue
        self.policy = policy
        self.logger = logger
        self.handler = handler
        self.handled = Counter(label: "aiwf_messages_handled_total", dimensions: [("queue", queue)])
        self.retried = Counter(label: "aiwf_message_retries_total", dimensions: [("queue", queue)])
        self.deadLettered = Counter(label: "aiwf_messages_dead_lettered_total", dimensions: [("queue", queue)])
        self.duration = Metrics.Timer(
            label: "aiwf_handler_duration_seconds", dimensions: [("queue", queue)], preferredDisplayUnit: .seconds)
    }

    func process(body: Data, routingKey: String, redelivered: Bool, replyTo: String?) async -> DeliveryOutcome {
        guard body.count <= policy.maximumBodyBytes else {
            return deadLetter(
                reason: "the body is \(body.count) bytes; at most \(policy.maximumBodyBytes) are handled",
                metadata: ["routing_key": "\(routingKey.prefix(100))"])
        }
        let message: IncomingMessage
        do {
            message = try IncomingMessage(body: body, queue: queue, routingKey: routingKey, redelivered: redelivered, replyTo: replyTo)
        } catch {
            return deadLetter(reason: error.description, metadata: ["routing_key": "\(routingKey)"])
        }
        var logger = logger
        logger[metadataKey: "correlation_id"] = "\(message.header.correlationID)"
        logger[metadataKey: "message_id"] = "\(message.header.id)"
        logger[metadataKey: "message_type"] = "\(message.header.type)"
        var attempt = 1
        while true {
            let start = ContinuousClock.now
            do {
                try await handler(message)
                duration.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
                handled.increment()
                return .handled
            } catch let error as MessageDecodingError {
                return deadLetter(reason: error.description, metadata: logger.metadataSnapshot)
            } catch  where Task.isCancelled {
                return .requeue
            } catch {
                guard attempt < policy.maxAttempts else {
                    return deadLetter(
                        reason: "handler failed \(attempt) times, last: \(error)", metadata: logger.metadataSnapshot
                    )
                }
                let delay = policy.backoff(after: attempt)
                logger.warning(
                    "handler failed; retrying",
                    metadata: ["attempt": "\(attempt)", "retry_in_ms": "\(delay.milliseconds)", "error": "\(error)"]
                )
                retried.increment()
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    return .requeue
                }
                attempt += 1
            }
        }
    }

    private func deadLetter(reason: String, metadata: Logger.Metadata) -> DeliveryOutcome {
        deadLettered.increment()
        logger.error("message dead-lettered", metadata: metadata.merging(["reason": "\(reason)"]) { $1 })
        return .deadLetter(reason: reason)
    }
}

extension Logger {
    var metadataSnapshot: Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        for key in ["correlation_id", "message_id", "message_type"] {
            if let value = self[metadataKey: key] { metadata[key] = value }
        }
        return metadata
    }
}
