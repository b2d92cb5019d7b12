import CRabbit
import Foundation
import Logging
import Metrics
import RuntimeSupport

/// The state and loop of one connection's owning thread. Never touched by any other thread.
final class ConnectionDriver {
    private let connection: AMQPConnection
    private var logger: Logger { connection.logger }
    private var options: AMQPConnectionOptions { connection.options }

    private var wire: AMQPWire?
    private var generation: UInt64 = 0
    private var deferred: [AMQPConnection.Job] = []
    private var topologies: [Topology] = []

    private var publishes: PublishTracker
    /// Exchanges known to exist: the default one, those declared through this connection, those looked up.
    private var knownExchanges: Set<String> = [""]
    private var nextExpirySweep = ContinuousClock.now

    private var consumers = ConsumerRegistry()
    private var adminChannelOpen = false
    /// The broker refused a publish (`basic.nack`): the publishing channel is opened afresh before the next send.
    private var renewPublishChannel = false
    /// Consumers whose queue was not there when they were subscribed again after a reconnect (its node of a cluster
    /// is down, or it is being declared again elsewhere): tried again, with the topology, until it is.
    private var resubscribeLater: Set<Int> = []
    private var nextResubscribe = ContinuousClock.now
    private var resubscribeAttempts = 0

    private static let publishChannel = ConsumerRegistry.publishChannel
    private static let adminChannel = ConsumerRegistry.adminChannel

    private let reconnects: Counter

    init(connection: AMQPConnection) {
        self.connection = connection
        self.reconnects = Counter(label: "aiwf_amqp_reconnects_total", dimensions: [("connection", connection.options.name)])
        self.publishes = PublishTracker(
            window: connection.options.publishWindow, maximumAttempts: connection.options.maximumPublishAttempts)
    }

    // MARK: Loop

    func run() {
        let backoff = Backoff(initial: options.minimumBackoff, maximum: options.maximumBackoff)
        var failedConnects = 0
        while true {
            let (jobs, stopRequested) = takeMailbox()
            jobs.forEach(execute)
            expireLatePublishes()
            if stopRequested {
                shutDown()
                return
            }
            guard let wire else {
                if connect() {
                    failedConnects = 0
                } else {
                    failedConnects += 1
                    waitForWake(timeout: backoff.delay(after: failedConnects))
                }
                continue
            }
            if !deferred.isEmpty {
                let ready = deferred
                deferred = []
                ready.forEach(execute)
            }
            flushOutbound()
            retryResubscriptions()
            if wire.broken == nil, !wire.hasBufferedInput {
                waitForInput(on: wire)
            }
            pumpInbound(limit: 512)
            if let reason = wire.broken { connectionLost(reason) } else { wire.releaseBuffers() }
        }
    }

    private func takeMailbox() -> ([AMQPConnection.Job], Bool) {
        // Reset the eventfd before taking the jobs, so a job added afterwards wakes the next poll.
        var value: UInt64 = 0
        _ = read(connection.wakeDescriptor, &value, 8)
        return connection.mailbox.withLock { box in
            defer { box.jobs = [] }
            return (box.jobs, box.stopRequested)
        }
    }

    private func execute(_ job: AMQPConnection.Job) {
        if job.needsConnection, wire == nil {
            deferred.append(job)
            return
        }
        do {
            try job.run(self)
        } catch let error as AMQPError where error.code == .connectionLost {
            deferred.append(job)  // tried again after the reconnect
        } catch {
            job.fail(error)
        }
    }

    /// Tells callers whose publish deadline passed, at most four times a second.
    private func expireLatePublishes() {
        let now = ContinuousClock.now
        guard now >= nextExpirySweep else { return }
        nextExpirySweep = now + .milliseconds(250)
        publishes.expire(now: now)
    }

    private func waitForInput(on wire: AMQPWire) {
        var descriptors = [
            pollfd(fd: wire.socketDescriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: connection.wakeDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        let timeout = Int32(max(options.heartbeatSeconds * 250, 50))
        _ = poll(&descriptors, 2, timeout)
    }

    private func waitForWake(timeout: Duration) {
        var descriptor = pollfd(fd: connection.wakeDescriptor, events: Int16(POLLIN), revents: 0)
        _ = poll(&descriptor, 1, Int32(timeout.milliseconds))
    }

    // MARK: Connecting

    /// The node of ``AMQPConnectionOptions/nodes`` to connect to next.
    private var nodeIndex = 0

    private func connect() -> Bool {
        let nodes = options.nodes
        let node = nodes[nodeIndex % nodes.count]
        do {
            let wire = try AMQPWire.connect(
                to: node, name: options.name, heartbeatSeconds: options.heartbeatSeconds, timeout: options.connectTimeout)
            try wire.openChannel(Self.publishChannel)
            try wire.enableConfirms(on: Self.publishChannel)
            try wire.openChannel(Self.adminChannel)
            for topology in topologies {
                try declareAgain(topology, using: wire)
            }
            self.wire = wire
            adminChannelOpen = true
            generation += 1
            consumers.connectionOpened()
            resubscribeLater = []
            resubscribeAttempts = 0
            for id in consumers.ids {
                subscribe(id)
            }
            if let reason = wire.broken { throw AMQPError.connectionLost(reason) }
            logger.info("connected to RabbitMQ", metadata: ["amqp_url": "\(node)", "generation": "\(generation)"])
            connection.setConnected(true, generation: generation)
            return true
        } catch {
            self.wire = nil
            nodeIndex += 1  // the next node of a cluster next time
            logger.warning(
                "cannot connect to RabbitMQ; retrying",
                metadata: ["error": "\(error)", "next": "\(nodes[nodeIndex % nodes.count])"])
            return false
        }
    }

    private func connectionLost(_ reason: String) {
        guard options.reconnects else {
            logger.warning("connection to RabbitMQ lost", metadata: ["reason": "\(reason)"])
            wire = nil
            connection.mailbox.withLock { $0.stopRequested = true }
            let lost = AMQPError.connectionLost(reason)
            for entry in consumers.removeAll() {
                entry.registration.finish(lost)
                entry.subscribed?.resume(throwing: lost)
            }
            publishes.channelLost(reason: reason)
            return
        }
        logger.warning("connection to RabbitMQ lost; reconnecting", metadata: ["reason": "\(reason)"])
        reconnects.increment()
        wire = nil
        connection.setConnected(false)
        consumers.connectionLost()
        // Unconfirmed messages may or may not have reached a queue: send them again (at least once, bounded).
        publishes.channelLost(reason: reason)
    }

    // MARK: Topology and admin

    func declare(_ topology: Topology) throws {
        guard let wire else { throw AMQPError.connectionLost("not connected") }
        try onAdminChannel { _, _ in try declare(topology, using: wire) }
        keepDeclared(topology)
    }

    func keepDeclared(_ topology: Topology) {
        if !topologies.contains(topology) { topologies.append(topology) }
    }

    private func declare(_ topology: Topology, using wire: AMQPWire) throws(AMQPError) {
        for step in DeclareStep.steps(of: topology) { try perform(step, using: wire) }
    }

    /// Declares a topology again after a reconnect, each part on its own: one the broker refuses (declared otherwise
    /// meanwhile, or a durable queue whose node of a cluster is down) is said and passed over, so the rest is in
    /// place and the connection is kept; otherwise every reconnect would fail the same way.
    private func declareAgain(_ topology: Topology, using wire: AMQPWire) throws(AMQPError) {
        for step in DeclareStep.steps(of: topology) {
            do {
                try perform(step, using: wire)
            } catch {
                guard error.code == .channelClosed else { throw error }
                logger.error("declaring again after a reconnect was refused", metadata: ["error": "\(error)"])
                try wire.openChannel(Self.adminChannel)
            }
        }
    }

    private func perform(_ step: DeclareStep, using wire: AMQPWire) throws(AMQPError) {
        switch step {
        case .exchange(let exchange):
            try wire.declare(exchange, on: Self.adminChannel)
            knownExchanges.insert(exchange.name)
        case .queue(let queue): try declare(queue, using: wire)
        case .exchangeBinding(let binding): try wire.bind(binding, on: Self.adminChannel)
        case .binding(let binding): try wire.bind(binding, on: Self.adminChannel)
        case .unbinding(let binding): try wire.unbind(binding, on: Self.adminChannel)
        }
    }

    /// Declares a queue; one that exists already as another type or durability (declared by an earlier version,
    /// which the broker cannot change in place) is kept as it is, with a warning that says how to move it.
    private func declare(_ queue: QueueSpec, using wire: AMQPWire) throws(AMQPError) {
        do {
            try wire.declare(queue, on: Self.adminChannel)
        } catch  where error.isKindMismatch {
            try wire.openChannel(Self.adminChannel)
            _ = try wire.messageCount(queue.name, on: Self.adminChannel)
            logger.warning(
                "queue kept as an earlier version declared it",
                metadata: [
                    "queue": "\(queue.name)", "wanted": "\(queue.kind.rawValue)\(queue.durable ? "" : ", transient")",
                    "how_to_move":
                        "drain it (replay its dead letters, or stop its consumers' senders until it is empty), delete it with rabbitmqctl delete_queue, and restart this service",
                    "refusal": "\(error.message)",
                ])
        }
    }

    /// Runs a synchronous broker call on the admin channel, reopening the channel after the broker closed it.
    func onAdminChannel<Result>(_ body: (AMQPWire, UInt16) throws -> Result) throws -> Result {
        guard let wire else { throw AMQPError.connectionLost("not connected") }
        if !adminChannelOpen {
            try wire.openChannel(Self.adminChannel)
            adminChannelOpen = true
        }
        do {
            return try body(wire, Self.adminChannel)
        } catch let error as AMQPError where error.code == .channelClosed {
            adminChannelOpen = false
            throw error
        }
    }

    // MARK: Publishing

    func enqueue(_ message: OutgoingMessage, waiter: PublishWaiter, deadline: ContinuousClock.Instant) {
        publishes.enqueue(PendingPublish(message: message, waiter: waiter, deadline: deadline))
    }

    /// Sends what the window has room for. A message the broker would refuse fails alone, before it is sent.
    private func flushOutbound() {
        guard let wire, wire.broken == nil else { return }
        // Nothing more goes out on the refusing channel: once the confirms still due on it are in (so none is lost
        // with it, and a steady stream of sends cannot put the renewal off), it is replaced and sending resumes.
        if renewPublishChannel {
            guard publishes.unconfirmedCount == 0 else { return }
            renewPublishChannel(using: wire)
            guard wire.broken == nil else { return }
        }
        while let pending = publishes.next() {
            if let problem = AMQPWire.problem(with: pending.message, maximumBodyBytes: options.maximumMessageBytes) {
                pending.waiter.settle(AMQPError.invalidMessage(problem))
                continue
            }
            do {
                try checkExchange(pending.message.exchange, using: wire)
                try wire.publish(pending.message, on: Self.publishChannel)
            } catch  where error.code == .unknownExchange {
                pending.waiter.settle(error)
                continue
            } catch {
                publishes.putBack(pending)
                return
            }
            publishes.sent(pending)
        }
    }

    /// Publishes `messages` in one AMQP transaction on a channel of their own: every one is enqueued, or none is.
    /// A connection that breaks half-way is reported as uncertain (the commit may have happened), not retried.
    func publishAtomically(_ messages: [OutgoingMessage]) throws {
        guard let wire else { throw AMQPError.connectionLost("not connected") }
        for message in messages {
            if let problem = AMQPWire.problem(with: message, maximumBodyBytes: options.maximumMessageBytes) {
                throw AMQPError.invalidMessage(problem)
            }
        }
        let channel = consumers.allocateChannel()
        let failure = Self.transaction(messages, on: channel, using: wire)
        consumers.release(channel)
        if let error = failure {
            guard error.code == .connectionLost else { throw error }
            throw AMQPError.transactionUncertain(
                "the connection broke during a transaction of \(messages.count) messages: \(error.message)")
        }
    }

    private static func transaction(_ messages: [OutgoingMessage], on channel: UInt16, using wire: AMQPWire) -> AMQPError? {
        do {
            try wire.openChannel(channel)
            try wire.selectTransactions(on: channel)
            try messages.forEach { message throws(AMQPError) in try wire.publish(message, on: channel) }
            try wire.commit(on: channel)
            try wire.closeChannel(channel)
            return nil
        } catch let error as AMQPError {
            return error
        } catch {
            return AMQPError.connectionLost("\(error)")
        }
    }

    /// Publishing to a missing exchange makes the broker close the channel, taking every unconfirmed message with it;
    /// an exchange not declared through this connection is looked up once on the admin channel instead.
    private func checkExchange(_ exchange: String, using wire: AMQPWire) throws(AMQPError) {
        guard !knownExchanges.contains(exchange), !exchange.hasPrefix("amq.") else { return }
        do {
            _ = try onAdminChannel { wire, channel in try wire.exchangeExists(exchange, on: channel) }
        } catch let error as AMQPError {
            // A passive declare of a missing exchange is answered by closing the channel.
            if error.code == .channelClosed || error.code == .unknownExchange { adminChannelOpen = false }
            throw error
        } catch {
            throw AMQPError.connectionLost("\(error)")
        }
        knownExchanges.insert(exchange)
    }

    /// The broker closed the publishing channel (a refusal of one message): open it again, send the unconfirmed
    /// messages again within their attempts, and subscribe again whoever consumed on it. The connection stays up.
    private func reopenPublishChannel(reason: String, using wire: AMQPWire) {
        logger.warning("the broker closed the publishing channel; opening it again", metadata: ["reason": "\(reason)"])
        publishes.channelLost(reason: reason)
        openPublishChannel(using: wire)
    }

    /// A broker that refuses a publish may keep refusing on that channel: RabbitMQ 3.10's channel remembers a quorum
    /// queue's leader from the moment it first published there, and if that was during a failover, every later
    /// publish to the queue is refused until the old leader's node returns. A fresh channel looks the leader up again.
    private func renewPublishChannel(using wire: AMQPWire) {
        renewPublishChannel = false
        logger.info("the broker refused a publish; opening the publishing channel afresh")
        do {
            try wire.closeChannel(Self.publishChannel)
        } catch {
            wire.markBroken("closing the publishing channel failed: \(error)")
            return
        }
        // Nothing is unconfirmed on it, so this only starts the delivery tags again.
        publishes.channelLost(reason: "renewed after a refused publish")
        openPublishChannel(using: wire)
    }

    private func openPublishChannel(using wire: AMQPWire) {
        do {
            try wire.openChannel(Self.publishChannel)
            try wire.enableConfirms(on: Self.publishChannel)
        } catch {
            wire.markBroken("opening the publishing channel failed: \(error)")
            return
        }
        connection.publishChannelOpened()
        for id in consumers.publishChannelReopened() { subscribe(id) }
    }

    // MARK: Consuming

    func add(_ registration: ConsumerRegistration, subscribed: CheckedContinuation<Void, any Error>?) {
        consumers.add(registration, subscribed: subscribed)
        if wire != nil { subscribe(registration.id) }
    }

    private func subscribe(_ id: Int) {
        guard let wire, let registration = consumers.entry(id)?.registration else { return }
        var channel = Self.publishChannel
        do {
            if !registration.onPublishChannel {
                channel = consumers.allocateChannel()
                try wire.openChannel(channel)
            }
            let tag = try wire.consume(
                registration.queue, on: channel, prefetch: registration.prefetch, noAck: registration.noAck,
                exclusive: registration.exclusive
            )
            consumers.subscribed(id, channel: channel, tag: tag)?.resume()
        } catch  where error.isMissingQueue && consumers.entry(id)?.subscribed == nil {
            // Subscribed before, so the queue was there: after a node of a cluster went down it comes back once
            // the topology is declared again on a surviving node (or the node returns).
            logger.warning(
                "queue not there after a reconnect; subscribing again shortly",
                metadata: ["queue": "\(registration.queue)", "error": "\(error)"])
            consumers.release(channel)
            resubscribeLater.insert(id)
        } catch  where error.code == .channelClosed {
            logger.error("consumer refused", metadata: ["queue": "\(registration.queue)", "error": "\(error)"])
            // The broker closed the channel; it can be opened again.
            let refused = consumers.refused(id, channel: channel)
            registration.finish(error)
            refused?.subscribed?.resume(throwing: error)
        } catch {
            // The connection broke; the consumer is subscribed again after the reconnect.
        }
    }

    /// Declares the topology again and subscribes the consumers waiting for their queue, at growing intervals.
    private func retryResubscriptions() {
        guard !resubscribeLater.isEmpty, ContinuousClock.now >= nextResubscribe, let wire else { return }
        resubscribeAttempts += 1
        nextResubscribe =
            ContinuousClock.now + Backoff(initial: .milliseconds(250), maximum: .seconds(5)).delay(after: resubscribeAttempts)
        do {
            for topology in topologies { try declareAgain(topology, using: wire) }
        } catch {
            return  // the connection broke; the reconnect subscribes everyone
        }
        let waiting = resubscribeLater.sorted()
        resubscribeLater = []
        for id in waiting where consumers.entry(id) != nil { subscribe(id) }
        if resubscribeLater.isEmpty { resubscribeAttempts = 0 }
    }

    func cancel(consumerID: Int, closingChannel: Bool = false) {
        if let entry = consumers.cancel(consumerID, generation: generation) {
            if let tag = entry.consumerTag, let wire { try? wire.cancel(consumerTag: tag, on: entry.channel) }
            entry.registration.finish(nil)
            entry.subscribed?.resume(throwing: AMQPError.closed)
        }
        guard closingChannel, let wire, let channel = consumers.closeLingeringChannel(of: consumerID, generation: generation) else {
            return
        }
        do {
            try wire.closeChannel(channel)
            consumers.release(channel)
        } catch {
            logger.warning("closing a consumer channel failed", metadata: ["channel": "\(channel)", "error": "\(error)"])
        }
    }

    enum Settlement {
        case ack, reject, requeue
    }

    func settle(_ delivery: AMQPDelivery, _ settlement: Settlement) {
        guard let wire, delivery.generation == generation else { return }
        switch settlement {
        case .ack: wire.ack(delivery.deliveryTag, on: delivery.channel)
        case .reject: wire.reject(delivery.deliveryTag, on: delivery.channel, requeue: false)
        case .requeue: wire.reject(delivery.deliveryTag, on: delivery.channel, requeue: true)
        }
    }

    private func pumpInbound(limit: Int) {
        guard let wire else { return }
        for _ in 0..<limit {
            switch wire.next() {
            case .nothing:
                return
            case .delivery(var delivery):
                delivery.generation = generation
                if let registration = consumers.registration(forTag: delivery.consumerTag) {
                    registration.deliver(delivery)
                } else if wire.broken == nil {
                    // Arrived after a local cancel: hand it back at once.
                    wire.reject(delivery.deliveryTag, on: delivery.channel, requeue: true)
                }
            case .confirm(let tag, let multiple, let acknowledged):
                publishes.confirm(tag, multiple: multiple, acknowledged: acknowledged)
                if !acknowledged { renewPublishChannel = true }
                flushOutbound()
            case .returned(let messageID):
                publishes.returned(messageID: messageID)
            case .channelClosed(let channel, let reason):
                channelClosed(channel, reason: reason, using: wire)
            case .consumerCancelled(let tag):
                consumerCancelledByBroker(tag)
            }
            if wire.broken != nil { return }
        }
    }

    /// The broker ended a consumer by itself: its queue was deleted, or its node of a cluster went down. An exclusive
    /// consumer (a lock) is ended, so its owner knows it holds nothing any more; any other is subscribed again once
    /// its queue is there, declared again with the topology (on a surviving node, when it lived on the lost one).
    private func consumerCancelledByBroker(_ tag: String) {
        guard let id = consumers.cancelledByBroker(tag: tag), let registration = consumers.entry(id)?.registration else { return }
        logger.warning(
            "the broker ended a consumer", metadata: ["queue": "\(registration.queue)", "exclusive": "\(registration.exclusive)"])
        if registration.exclusive {
            _ = consumers.cancel(id, generation: generation)
            registration.finish(AMQPError.consumerCancelled(queue: registration.queue))
        } else {
            resubscribeLater.insert(id)
            nextResubscribe = ContinuousClock.now
        }
    }

    /// A channel the broker closed: the publishing and admin channels are opened again; a consumer's channel held
    /// deliveries whose tags now mean nothing, so the connection starts afresh (every delivery is requeued).
    private func channelClosed(_ channel: UInt16, reason: String, using wire: AMQPWire) {
        switch channel {
        case Self.publishChannel: reopenPublishChannel(reason: reason, using: wire)
        case Self.adminChannel: adminChannelOpen = false
        default: wire.markBroken(reason)
        }
    }

    // MARK: Shutdown

    private func shutDown() {
        for id in consumers.ids { cancel(consumerID: id) }
        let deadline = ContinuousClock.now + options.closeTimeout
        while let wire, wire.broken == nil, !publishes.isIdle, ContinuousClock.now < deadline {
            flushOutbound()
            if !wire.hasBufferedInput { waitForInput(on: wire) }
            pumpInbound(limit: 512)
        }
        wire?.close()
        wire = nil
        connection.setConnected(false)
        let leftover = publishes.removeAll()
        if !leftover.isEmpty {
            logger.error("closing with unconfirmed publishes", metadata: ["count": "\(leftover.count)"])
        }
        leftover.forEach { $0.waiter.settle(AMQPError.closed) }
        let (jobs, waiters) = connection.mailbox.withLock { box in
            box.stopped = true
            defer {
                box.jobs = []
                box.closeWaiters = []
            }
            return (box.jobs, box.closeWaiters)
        }
        (deferred + jobs).forEach { $0.fail(AMQPError.closed) }
        deferred = []
        logger.debug("connection closed")
        waiters.forEach { $0.resume() }
    }
}

/// One broker call of declaring a topology.
private enum DeclareStep {
    case exchange(ExchangeSpec)
    case queue(QueueSpec)
    case exchangeBinding(ExchangeBindingSpec)
    case binding(BindingSpec)
    case unbinding(BindingSpec)

    /// The calls that declare `topology`, in order: exchanges, queues, bindings, then unbindings.
    static func steps(of topology: Topology) -> [DeclareStep] {
        topology.exchanges.map(DeclareStep.exchange) + topology.queues.map(DeclareStep.queue)
            + topology.exchangeBindings.map(DeclareStep.exchangeBinding) + topology.bindings.map(DeclareStep.binding)
            + topology.unbindings.map(DeclareStep.unbinding)
    }
}
