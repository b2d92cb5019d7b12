import CRabbit
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How an ``AMQPConnection`` connects and behaves.
public struct AMQPConnectionOptions: Sendable {
    public var url: AMQPURL
    /// Other nodes of the same cluster: when the node in use cannot be reached or its connection is lost, the next
    /// one is tried (then the next, round and round), and topology and consumers are declared again there.
    public var alternates: [AMQPURL] = []
    /// Shown in the broker's connection list; name it after the service and role (`StageService.publish`).
    public var name: String
    /// The broker drops a connection that misses two heartbeats; the driver services the socket at a quarter of it.
    public var heartbeatSeconds: Int = 10
    /// How many publishes may await their confirm at once; more wait in order.
    public var publishWindow: Int = 512
    /// Reconnect delays grow from `minimumBackoff` to `maximumBackoff`, with jitter.
    public var minimumBackoff: Duration = .milliseconds(100)
    public var maximumBackoff: Duration = .seconds(5)
    /// How long `close()` waits for unconfirmed publishes.
    public var closeTimeout: Duration = .seconds(5)
    /// How long opening the TCP connection may take.
    public var connectTimeout: Duration = .seconds(5)
    /// How long a `publish` waits for the broker's confirm (also while the broker is unreachable) before it throws
    /// ``AMQPError/Code/timedOut``.
    public var publishTimeout: Duration = .seconds(30)
    /// How often one message is sent before it fails, when each time the channel is lost before its confirm.
    public var maximumPublishAttempts = 5
    /// The largest body sent; larger ones fail with ``AMQPError/Code/invalidMessage`` (RabbitMQ's default limit).
    public var maximumMessageBytes = 128 * 1024 * 1024
    /// Reconnect after the connection broke. Without it a broken connection ends like a closed one: for holders of
    /// an exclusive consumer (a lock), which must learn that they lost it.
    public var reconnects = true

    public init(url: AMQPURL, name: String) {
        self.url = url
        self.name = name
    }

    /// `url`, then the alternates.
    var nodes: [AMQPURL] { [url] + alternates }
}

/// A RabbitMQ connection owned by one dedicated thread, usable from any task.
///
/// librabbitmq connections are not thread-safe, so every operation is handed to the owning thread as a job and
/// the thread is woken through an eventfd. The connection reconnects by itself with backoff, declares again
/// every topology declared through it, resumes its consumers, and sends again every publish that was not yet
/// confirmed, so an awaited ``publish(_:)`` returns only once the broker took responsibility for the message.
/// Use separate connections for publishing and consuming, so broker flow control on publishers never stalls acks.
public final class AMQPConnection: Sendable {
    /// The options the connection was created with.
    public let options: AMQPConnectionOptions
    let logger: Logger
    let mailbox: Mutex<Mailbox>
    let wakeDescriptor: Int32
    private let status: Mutex<Status>

    struct Mailbox {
        var jobs: [Job] = []
        var stopRequested = false
        var stopped = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
        var nextConsumerID = 1
    }

    private struct Status {
        var connected = false
        var generation: UInt64 = 0
        var publishChannelReopenings = 0
        var connectionWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// Work for the owning thread. `needsConnection` jobs wait while the connection is down.
    struct Job: Sendable {
        var needsConnection: Bool
        var run: @Sendable (ConnectionDriver) throws -> Void
        var fail: @Sendable (any Error) -> Void
    }

    /// Starts the owning thread, which connects at once and keeps trying until it succeeds or is closed.
    public init(options: AMQPConnectionOptions, logger: Logger) {
        self.options = options
        var logger = logger
        logger[metadataKey: "amqp_connection"] = "\(options.name)"
        self.logger = logger
        self.mailbox = Mutex(Mailbox())
        self.status = Mutex(Status())
        self.wakeDescriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        Self.startThread(for: self)
    }

    deinit {
        _ = Glibc.close(wakeDescriptor)
    }

    /// Thread bodies are formed here, outside any actor, so Swift's isolation checks accept them on a raw thread.
    private nonisolated static func startThread(for connection: AMQPConnection) {
        let thread = Thread {
            ConnectionDriver(connection: connection).run()
        }
        thread.name = "amqp-\(connection.options.name)"
        thread.start()
    }

    /// Which incarnation of the connection is up; it grows with every reconnect.
    var generation: UInt64 { status.withLock { $0.generation } }

    /// How often the publishing channel was opened again without a reconnect (the broker closed it, or refused a
    /// publish and it was renewed).
    var publishChannelReopenings: Int { status.withLock { $0.publishChannelReopenings } }

    func publishChannelOpened() {
        status.withLock { $0.publishChannelReopenings += 1 }
    }

    /// Whether the connection is up right now.
    public var isConnected: Bool { status.withLock { $0.connected } }

    /// Waits until the connection is up (returns at once if it is).
    public func waitUntilConnected() async {
        await withCheckedContinuation { continuation in
            let now = status.withLock { state -> Bool in
                if state.connected { return true }
                state.connectionWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Whether `delivery` is still held unacknowledged: the connection that delivered it has not dropped since.
    public func stillHolds(_ delivery: AMQPDelivery) -> Bool {
        status.withLock { $0.connected && $0.generation == delivery.generation }
    }

    func setConnected(_ connected: Bool, generation: UInt64? = nil) {
        let waiters = status.withLock { state in
            state.connected = connected
            if let generation { state.generation = generation }
            defer { state.connectionWaiters = [] }
            return connected ? state.connectionWaiters : []
        }
        waiters.forEach { $0.resume() }
    }

    // MARK: Jobs

    func submit(_ job: Job) {
        let accepted = mailbox.withLock { box -> Bool? in
            guard !box.stopped, !box.stopRequested else { return nil }
            box.jobs.append(job)
            return box.jobs.count == 1
        }
        switch accepted {
        case .none: job.fail(AMQPError.closed)
        case .some(true): wake()
        case .some(false): break
        }
    }

    func wake() {
        var one: UInt64 = 1
        _ = write(wakeDescriptor, &one, 8)
    }

    /// Runs `body` on the owning thread once connected and returns its result. A cancelled caller stops waiting
    /// at once (the job, if it runs later, finds nobody to tell).
    func perform<Result: Sendable>(
        _ body: @escaping @Sendable (ConnectionDriver) throws -> Result
    ) async throws -> Result {
        let waiter = Mutex<CheckedContinuation<Result, any Error>?>(nil)
        let take = { @Sendable in
            waiter.withLock { slot -> CheckedContinuation<Result, any Error>? in
                defer { slot = nil }
                return slot
            }
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiter.withLock { $0 = continuation }
                if Task.isCancelled { take()?.resume(throwing: CancellationError()) }
                submit(
                    Job(
                        needsConnection: true,
                        run: { driver in
                            guard waiter.withLock({ $0 != nil }) else { return }  // the caller gave up
                            // A lost connection is thrown on, so the driver runs the job again after the reconnect.
                            let result = try body(driver)
                            take()?.resume(returning: result)
                        },
                        fail: { take()?.resume(throwing: $0) }
                    )
                )
            }
        } onCancel: {
            take()?.resume(throwing: CancellationError())
        }
    }

    // MARK: Public operations

    /// Declares exchanges, queues and bindings; they are declared again after every reconnect.
    public func declare(_ topology: Topology) async throws {
        try await perform { driver in try driver.declare(topology) }
    }

    /// Keeps a topology declared through another connection, to declare it again from this one: after a reconnect,
    /// and when a queue of this connection's consumers is gone (a transient queue whose node of a cluster stopped,
    /// which the other connection may have declared again before the broker noticed).
    public func keepDeclared(_ topology: Topology) {
        submit(Job(needsConnection: false, run: { driver in driver.keepDeclared(topology) }, fail: { _ in }))
    }

    /// Publishes one message and returns once the broker confirmed it.
    ///
    /// Throws ``AMQPError/Code/unroutable`` for a mandatory message no queue took, ``AMQPError/Code/nacked``
    /// when the broker refused it, ``AMQPError/Code/closed`` when the connection was closed first.
    public func publish(_ message: OutgoingMessage) async throws {
        try await publish([message])
    }

    /// Publishes messages in order, pipelined, and returns once the broker confirmed all of them.
    /// The first failure is thrown after every message was settled.
    ///
    /// Waits at most ``AMQPConnectionOptions/publishTimeout`` (then throws ``AMQPError/Code/timedOut``) and ends at
    /// once when the calling task is cancelled; messages not sent by then are not sent at all.
    public func publish(_ messages: [OutgoingMessage]) async throws {
        if let error = await publishEach(messages).lazy.compactMap({ $0 }).first { throw error }
    }

    /// Publishes messages in one AMQP transaction: every one of them is enqueued, or none is (when this process
    /// dies half-way, say). Slower than ``publish(_:)``; for state that must never be half-written in the broker.
    public func publishAtomically(_ messages: [OutgoingMessage]) async throws {
        try await perform { driver in try driver.publishAtomically(messages) }
    }

    /// Publishes messages in order, pipelined, and tells for each whether the broker took it (`nil`) or why not.
    /// Waits like ``publish(_:)``; a cancelled caller gets `CancellationError` for every message not yet settled.
    public func publishEach(_ messages: [OutgoingMessage]) async -> [(any Error)?] {
        guard !messages.isEmpty else { return [] }
        let deadline = ContinuousClock.now + options.publishTimeout
        let outcomes = Mutex<[(any Error)?]>(Array(repeating: nil, count: messages.count))
        let waiters = Mutex<[PublishWaiter]>([])
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let remaining = Mutex(messages.count)
                let each = messages.indices.map { index in
                    PublishWaiter { error in
                        outcomes.withLock { $0[index] = error }
                        let done = remaining.withLock { count -> Bool in
                            count -= 1
                            return count == 0
                        }
                        if done { continuation.resume() }
                    }
                }
                waiters.withLock { $0 = each }
                if Task.isCancelled { each.forEach { $0.settle(CancellationError()) } }
                submit(
                    Job(
                        needsConnection: false,
                        run: { driver in
                            for (message, waiter) in zip(messages, each) { driver.enqueue(message, waiter: waiter, deadline: deadline) }
                        },
                        fail: { error in each.forEach { $0.settle(error) } }
                    )
                )
            }
        } onCancel: {
            waiters.withLock { $0 }.forEach { $0.settle(CancellationError()) }
        }
        return outcomes.withLock { $0 }
    }

    /// Subscribes to a queue once connected; deliveries arrive on the returned consumer's stream.
    ///
    /// - Parameters:
    ///   - prefetch: how many unacknowledged deliveries the broker sends ahead.
    ///   - noAck: the broker forgets a message once sent (for direct reply-to only).
    ///   - onPublishChannel: consume on the publishing channel, as direct reply-to requires.
    ///   - exclusive: no other consumer may consume the queue at the same time; the broker refuses with 403 when
    ///     one does (the lock of a leader election).
    public func consume(
        queue: String,
        prefetch: UInt16,
        noAck: Bool = false,
        onPublishChannel: Bool = false,
        exclusive: Bool = false
    ) async throws -> AMQPConsumer {
        let id = makeConsumerID()
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: AMQPDelivery.self)
        try await subscribe(
            ConsumerRegistration(
                id: id, queue: queue, prefetch: prefetch, noAck: noAck, onPublishChannel: onPublishChannel, exclusive: exclusive,
                deliver: { continuation.yield($0) },
                finish: { continuation.finish(throwing: $0) }
            )
        )
        return AMQPConsumer(id: id, queue: queue, deliveries: stream, connection: self)
    }

    /// Subscribes a consumer whose deliveries are handed to `registration.deliver` on the owning thread;
    /// for handlers as cheap as resuming a continuation.
    ///
    /// Waits until the broker accepted the subscription; a cancelled caller stops waiting (and the consumer goes).
    func subscribe(_ registration: ConsumerRegistration) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (subscribed: CheckedContinuation<Void, any Error>) in
                submit(
                    Job(
                        needsConnection: false,
                        run: { driver in driver.add(registration, subscribed: subscribed) },
                        fail: { error in
                            registration.finish(error)
                            subscribed.resume(throwing: error)
                        }
                    )
                )
                // A cancellation that came before the job was submitted found nothing to cancel yet.
                if Task.isCancelled { cancelSoon(consumerID: registration.id) }
            }
        } onCancel: {
            cancelSoon(consumerID: registration.id)
        }
    }

    /// Subscribes a consumer without waiting for the broker's answer. Jobs run in order, so whatever is published
    /// through this connection afterwards goes out after the subscription (as direct reply-to requires).
    func register(_ registration: ConsumerRegistration) {
        submit(Job(needsConnection: false, run: { driver in driver.add(registration, subscribed: nil) }, fail: registration.finish))
    }

    /// Subscribes to direct reply-to (`amq.rabbitmq.reply-to`) on the publishing channel, without waiting for the
    /// broker's answer: replies come to `deliver` on the owning thread; the subscription is renewed after a reconnect,
    /// and `finish` hears of a refusal. Requests published through this connection afterwards get their replies.
    public func subscribeToDirectReplies(
        deliver: @escaping @Sendable (AMQPDelivery) -> Void, finish: @escaping @Sendable ((any Error)?) -> Void
    ) {
        register(
            ConsumerRegistration(
                id: makeConsumerID(), queue: AMQPNames.directReplyTo, prefetch: 0, noAck: true, onPublishChannel: true,
                deliver: deliver, finish: finish))
    }

    /// A consumer identifier unique within this connection.
    func makeConsumerID() -> Int {
        mailbox.withLock { box in
            defer { box.nextConsumerID += 1 }
            return box.nextConsumerID
        }
    }

    /// Acknowledges a delivery. An ack for a delivery from before a reconnect is dropped: the broker has
    /// already requeued that message.
    public func ack(_ delivery: AMQPDelivery) {
        submit(Job(needsConnection: false, run: { $0.settle(delivery, .ack) }, fail: { _ in }))
    }

    /// Rejects a delivery; without `requeue` the broker dead-letters it.
    public func reject(_ delivery: AMQPDelivery, requeue: Bool) {
        submit(Job(needsConnection: false, run: { $0.settle(delivery, requeue ? .requeue : .reject) }, fail: { _ in }))
    }

    func cancelSoon(consumerID: Int, closingChannel: Bool = false) {
        submit(Job(needsConnection: false, run: { $0.cancel(consumerID: consumerID, closingChannel: closingChannel) }, fail: { _ in }))
    }

    func close(consumerID: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            submit(
                Job(
                    needsConnection: false,
                    run: { driver in
                        driver.cancel(consumerID: consumerID, closingChannel: true)
                        continuation.resume()
                    },
                    fail: { _ in continuation.resume() }
                )
            )
        }
    }

    /// Takes one message from `queue` and stops consuming; the message stays unacknowledged, held by the returned
    /// consumer, until it is acknowledged or the consumer is closed (which gives it back to the queue).
    public func takeOne(from queue: String) async throws -> (AMQPConsumer, AMQPDelivery) {
        let consumer = try await consume(queue: queue, prefetch: 1)
        do {
            var iterator = consumer.deliveries.makeAsyncIterator()
            guard let delivery = try await iterator.next() else { throw AMQPError.closed }
            consumer.cancelSoon()
            return (consumer, delivery)
        } catch {
            await consumer.close()
            throw error
        }
    }

    func cancel(consumerID: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            submit(
                Job(
                    needsConnection: false,
                    run: { driver in
                        driver.cancel(consumerID: consumerID)
                        continuation.resume()
                    },
                    fail: { _ in continuation.resume() }
                )
            )
        }
    }

    /// Removes every ready message from a queue; returns how many there were.
    @discardableResult
    public func purge(queue: String) async throws -> Int {
        try await perform { driver in try driver.onAdminChannel { wire, channel in try wire.purge(queue, on: channel) } }
    }

    /// Deletes a queue with its messages.
    public func delete(queue: String) async throws {
        try await perform { driver in try driver.onAdminChannel { wire, channel in try wire.deleteQueue(queue, on: channel) } }
    }

    /// The number of ready messages in a queue.
    public func messageCount(queue: String) async throws -> Int {
        try await perform { driver in
            try driver.onAdminChannel { wire, channel in try wire.messageCount(queue, on: channel) }
        }
    }

    /// Cancels the consumers, waits (bounded) for unconfirmed publishes, and closes the connection.
    /// Unacknowledged deliveries go back to their queues. Operations after this fail with `.closed`.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = mailbox.withLock { box -> Bool in
                if box.stopped { return true }
                box.stopRequested = true
                box.closeWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() } else { wake() }
        }
    }
}

/// A subscription to one queue.
public final class AMQPConsumer: Sendable {
    public let queue: String
    /// Deliveries in arrival order; finishes when the consumer is cancelled or the connection closed, and throws
    /// when the subscription was refused (for example, the queue does not exist).
    public let deliveries: AsyncThrowingStream<AMQPDelivery, any Error>
    let id: Int
    let connection: AMQPConnection

    init(id: Int, queue: String, deliveries: AsyncThrowingStream<AMQPDelivery, any Error>, connection: AMQPConnection) {
        self.id = id
        self.queue = queue
        self.deliveries = deliveries
        self.connection = connection
    }

    /// Stops deliveries; those already received can still be acknowledged until the connection closes.
    public func cancel() async {
        await connection.cancel(consumerID: id)
    }

    /// Cancels the consumer and closes its channel: deliveries not yet acknowledged go back to the queue.
    public func close() async {
        await connection.close(consumerID: id)
    }

    /// Asks for the consumer to be cancelled without waiting, for synchronous shutdown handlers.
    public func cancelSoon() {
        connection.cancelSoon(consumerID: id)
    }

    /// Like ``close()`` without waiting: acknowledgements submitted before it are sent first.
    public func closeSoon() {
        connection.cancelSoon(consumerID: id, closingChannel: true)
    }
}

/// What the driver needs to know to (re)subscribe a consumer.
struct ConsumerRegistration: Sendable {
    let id: Int
    let queue: String
    let prefetch: UInt16
    let noAck: Bool
    let onPublishChannel: Bool
    var exclusive = false
    /// Called on the owning thread for every delivery.
    let deliver: @Sendable (AMQPDelivery) -> Void
    /// Called once when the consumer ends: `nil` after a cancel or close, the error when it was refused.
    let finish: @Sendable ((any Error)?) -> Void
}
