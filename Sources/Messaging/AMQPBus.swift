import AMQPClient
import Foundation
import Logging
import RuntimeSupport
import ServiceLifecycle
import Synchronization

/// The message bus over RabbitMQ.
///
/// Three connections, each owned by its own thread: one publishes (so broker flow control on publishers never
/// stalls acks), one consumes, and one sends requests and receives their replies over direct reply-to, which
/// requires publishing and consuming on the same channel.
public final class AMQPBus: MessageBus {
    // The transport stays behind the bus: services see only `MessageBus`.
    let publisher: AMQPConnection
    let consumer: AMQPConnection
    private let requester: AMQPConnection
    private let logger: Logger
    private let replies = ReplyWaiters()
    private let replyConsumerStarted = Mutex(false)

    /// Opens the three connections; each connects in the background and keeps reconnecting until ``close()``.
    /// `alternates` are the other nodes of a cluster, tried in turn when the one in use is lost.
    public init(url: AMQPURL, alternates: [AMQPURL] = [], serviceName: String, logger: Logger, heartbeatSeconds: Int = 10) {
        func options(_ role: String) -> AMQPConnectionOptions {
            var options = AMQPConnectionOptions(url: url, name: "\(serviceName).\(role)")
            options.alternates = alternates
            options.heartbeatSeconds = heartbeatSeconds
            return options
        }
        self.logger = logger
        self.publisher = AMQPConnection(options: options("publish"), logger: logger)
        self.consumer = AMQPConnection(options: options("consume"), logger: logger)
        self.requester = AMQPConnection(options: options("request"), logger: logger)
    }

    /// Whether every connection is up.
    public var isConnected: Bool {
        publisher.isConnected && consumer.isConnected && requester.isConnected
    }

    /// Declares through the publishing connection; the consuming one declares it again when its queues are gone.
    public func declare(_ topology: Topology) async throws {
        try await publisher.declare(topology)
        consumer.keepDeclared(topology)
    }

    public func publish(_ messages: [OutgoingMessage]) async throws {
        try await publisher.publish(messages)
    }

    public func publishEach(_ messages: [OutgoingMessage]) async -> [(any Error)?] {
        await publisher.publishEach(messages)
    }

    public func messageCount(queue: String) async throws -> Int {
        try await publisher.messageCount(queue: queue)
    }

    /// Deletes a queue with whatever it holds (tests and benchmarks cleaning up after themselves).
    public func delete(queue: String) async throws {
        try await publisher.delete(queue: queue)
    }

    /// Drops every ready message of a queue.
    public func purge(queue: String) async throws {
        try await publisher.purge(queue: queue)
    }

    public func moveMessages(from source: String, to destination: String, limit: Int) async throws -> Int {
        let wanted = min(limit, try await messageCount(queue: source))
        _ = try await messageCount(queue: destination)  // a destination that does not exist fails here, not later
        guard wanted > 0 else { return 0 }
        let subscription = try await consumer.consume(queue: source, prefetch: UInt16(min(wanted, 100)))
        // The count can be stale (another consumer, a message expiring): stop when nothing comes for a while.
        let lastProgress = Mutex(ContinuousClock.now)
        let watchdog = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .milliseconds(250))
                if ContinuousClock.now - lastProgress.withLock({ $0 }) > .seconds(3) {
                    subscription.cancelSoon()
                    return
                }
            }
        }
        defer { watchdog.cancel() }
        var moved = 0
        do {
            for try await delivery in subscription.deliveries {
                let message = OutgoingMessage(
                    exchange: Exchange.default, routingKey: destination, body: delivery.body,
                    messageID: delivery.messageID ?? UUID().uuidString, mandatory: true, replyTo: delivery.replyTo,
                    correlationID: delivery.correlationID, type: delivery.type)
                try await publisher.publish(message)  // confirmed by the broker before the original goes
                consumer.ack(delivery)
                moved += 1
                lastProgress.withLock { $0 = ContinuousClock.now }
                if moved >= wanted { break }
            }
        } catch {
            await subscription.close()  // what was not acknowledged stays in the source
            throw error
        }
        await subscription.close()
        return moved
    }

    public func consume(queue: String, options: ConsumeOptions, handler: @escaping MessageHandler) async throws {
        let subscription = try await consumer.consume(queue: queue, prefetch: options.prefetch)
        let processor = DeliveryProcessor(queue: queue, policy: options.policy, logger: logger, handler: handler)
        let connection = consumer
        @Sendable func handle(_ delivery: AMQPDelivery) async {
            // Buffered before a reconnect: the broker has given it to a consumer again already, so handling it here
            // would do its work twice (and pay a provider twice).
            guard connection.stillHolds(delivery) else {
                logger.debug("delivery dropped: its connection was lost", metadata: ["queue": "\(queue)"])
                return
            }
            let outcome = await processor.process(
                body: delivery.body, routingKey: delivery.routingKey, redelivered: delivery.redelivered,
                replyTo: delivery.replyTo
            )
            switch outcome {
            case .handled: connection.ack(delivery)
            case .deadLetter: connection.reject(delivery, requeue: false)
            case .requeue: connection.reject(delivery, requeue: true)
            }
        }
        logger.info("consuming", metadata: ["queue": "\(queue)", "prefetch": "\(options.prefetch)"])
        // Every handler has finished when the loop ends, so the channel can go; it would otherwise stay open.
        defer { subscription.closeSoon() }
        try await withGracefulShutdownHandler {
            if options.concurrency == 1 {
                for try await delivery in subscription.deliveries { await handle(delivery) }
                return
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                var running = 0
                for try await delivery in subscription.deliveries {
                    if running == options.concurrency {
                        try await group.next()
                        running -= 1
                    }
                    group.addTask { await handle(delivery) }
                    running += 1
                }
                try await group.waitForAll()
            }
        } onGracefulShutdown: {
            // Stop new deliveries; those in flight finish and are acknowledged before the connection closes.
            subscription.cancelSoon()
        }
    }

    public func request(_ message: OutgoingMessage, timeout: Duration) async throws -> Data {
        startReplyConsumer()
        var message = message
        message.replyTo = AMQPNames.directReplyTo
        message.mandatory = true
        message.expirationMilliseconds = Int(timeout.milliseconds)
        let requester = self.requester
        let request = message
        return try await replies.wait(for: message.messageID, routingKey: message.routingKey, timeout: timeout) {
            try await requester.publish(request)
        }
    }

    /// Subscribes to direct reply-to once, without waiting (a request's deadline covers everything it waits for);
    /// the subscription is renewed by the connection after a reconnect.
    private func startReplyConsumer() {
        guard
            replyConsumerStarted.withLock({ started in
                defer { started = true }
                return !started
            })
        else { return }
        let replies = self.replies
        let logger = self.logger
        requester.subscribeToDirectReplies(
            deliver: { delivery in
                if let correlationID = delivery.correlationID { replies.deliver(delivery.body, correlationID: correlationID) }
            },
            finish: { error in
                if let error { logger.error("the broker refused the reply consumer", metadata: ["error": "\(error)"]) }
            }
        )
    }

    /// Closes the consuming connection first (unacknowledged deliveries go back to their queues), then the
    /// others after their unconfirmed publishes settled.
    public func close() async {
        await consumer.close()
        await requester.close()
        await publisher.close()
    }
}
