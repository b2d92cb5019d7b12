import AMQPClient
import DequeModule
import Foundation
import Logging
import Synchronization

/// The message bus in process: the same routing (direct, topic, default exchange, dead-letter exchange, exchanges bound
/// to exchanges, consistent hashing by shard key, with its own hash),
/// mandatory returns, request/reply and failure policy as ``AMQPBus``, without a broker. For handler tests.
public final class InMemoryBus: MessageBus {
    private let state = Mutex(State())
    private let replies = ReplyWaiters()
    private let logger: Logger
    private static let replyPrefix = "in-memory.reply-to."

    private struct State {
        var exchanges: [String: ExchangeSpec.Kind] = [:]
        var queues: [String: QueueState] = [:]
        var bindings: [BindingSpec] = []
        var exchangeBindings: [ExchangeBindingSpec] = []
    }

    private struct QueueState {
        var spec: QueueSpec
        var ready: Deque<StoredMessage> = []
        var waiting: Deque<(id: UUID, continuation: CheckedContinuation<StoredMessage?, Never>)> = []
    }

    private struct StoredMessage {
        var message: OutgoingMessage
        var redelivered = false
    }

    public init(logger: Logger = Logger(label: "in-memory-bus")) {
        self.logger = logger
        state.withLock { $0.exchanges[Exchange.default] = .direct }
    }

    public func declare(_ topology: Topology) async throws {
        try state.withLock { state in
            for exchange in topology.exchanges {
                if let existing = state.exchanges[exchange.name], existing != exchange.kind {
                    throw AMQPError.channelClosed("exchange '\(exchange.name)' exists as \(existing), not \(exchange.kind)")
                }
                state.exchanges[exchange.name] = exchange.kind
            }
            for queue in topology.queues {
                if let existing = state.queues[queue.name]?.spec, existing != queue {
                    throw AMQPError.channelClosed("queue '\(queue.name)' exists with other arguments")
                }
                if state.queues[queue.name] == nil { state.queues[queue.name] = QueueState(spec: queue) }
            }
            for binding in topology.bindings {
                guard state.exchanges[binding.exchange] != nil, state.queues[binding.queue] != nil else {
                    throw AMQPError.channelClosed("cannot bind '\(binding.queue)' to '\(binding.exchange)': declare both first")
                }
                if !state.bindings.contains(binding) { state.bindings.append(binding) }
            }
            state.bindings.removeAll { topology.unbindings.contains($0) }
            for binding in topology.exchangeBindings {
                guard state.exchanges[binding.source] != nil, state.exchanges[binding.destination] != nil else {
                    throw AMQPError.channelClosed(
                        "cannot bind '\(binding.destination)' to '\(binding.source)': declare both exchanges first")
                }
                if !state.exchangeBindings.contains(binding) { state.exchangeBindings.append(binding) }
            }
        }
    }

    public func publish(_ messages: [OutgoingMessage]) async throws {
        var firstError: (any Error)?
        for message in messages {
            do {
                try route(StoredMessage(message: message))
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    public func messageCount(queue: String) async throws -> Int {
        try state.withLock { state in
            guard let queueState = state.queues[queue] else {
                throw AMQPError.channelClosed("no queue '\(queue)'")
            }
            return queueState.ready.count
        }
    }

    public func moveMessages(from source: String, to destination: String, limit: Int) async throws -> Int {
        var moved = 0
        while moved < limit {
            let taken = try state.withLock { state -> StoredMessage? in
                guard state.queues[source] != nil else { throw AMQPError.channelClosed("no queue '\(source)'") }
                guard state.queues[destination] != nil else { throw AMQPError.channelClosed("no queue '\(destination)'") }
                return state.queues[source]?.ready.popFirst()
            }
            guard let taken else { break }
            var message = taken.message
            (message.exchange, message.routingKey) = (Exchange.default, destination)
            try route(StoredMessage(message: message))
            moved += 1
        }
        return moved
    }

    /// The bodies of the messages ready in a queue, oldest first (to inspect dead-letter queues in tests).
    public func messages(in queue: String) -> [Data] {
        state.withLock { $0.queues[queue]?.ready.map(\.message.body) ?? [] }
    }

    public func consume(queue: String, options: ConsumeOptions, handler: @escaping MessageHandler) async throws {
        guard state.withLock({ $0.queues[queue] != nil }) else {
            throw AMQPError.channelClosed("consume from queue '\(queue)': no such queue; declare it first")
        }
        let processor = DeliveryProcessor(queue: queue, policy: options.policy, logger: logger, handler: handler)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<options.concurrency {
                group.addTask {
                    while let stored = await self.next(from: queue) {
                        let message = stored.message
                        let outcome = await processor.process(
                            body: message.body, routingKey: message.routingKey, redelivered: stored.redelivered,
                            replyTo: message.replyTo
                        )
                        switch outcome {
                        case .handled: break
                        case .deadLetter: self.deadLetter(stored, from: queue)
                        case .requeue: self.requeue(stored, in: queue)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    public func request(_ message: OutgoingMessage, timeout: Duration) async throws -> Data {
        var message = message
        message.replyTo = Self.replyPrefix + message.messageID
        message.mandatory = true
        let request = message
        return try await replies.wait(for: message.messageID, routingKey: message.routingKey, timeout: timeout) {
            try await self.publish(request)
        }
    }

    // MARK: Routing

    private func route(_ stored: StoredMessage) throws {
        let message = stored.message
        if message.exchange == Exchange.default, message.routingKey.hasPrefix(Self.replyPrefix) {
            if let correlationID = message.correlationID { replies.deliver(message.body, correlationID: correlationID) }
            return
        }
        let resumed = try state.withLock { state -> [(CheckedContinuation<StoredMessage?, Never>, StoredMessage)] in
            guard let kind = state.exchanges[message.exchange] else {
                throw AMQPError.channelClosed("publish to exchange '\(message.exchange)': no such exchange")
            }
            let targets: [String]
            if message.exchange == Exchange.default {
                targets = state.queues[message.routingKey] == nil ? [] : [message.routingKey]
            } else {
                targets = Self.queues(for: message, through: message.exchange, kind: kind, in: state)
            }
            if targets.isEmpty, message.mandatory {
                throw AMQPError.unroutable(exchange: message.exchange, routingKey: message.routingKey)
            }
            var resumed: [(CheckedContinuation<StoredMessage?, Never>, StoredMessage)] = []
            for name in Set(targets) {
                if let waiter = state.queues[name]?.waiting.popFirst() {
                    resumed.append((waiter.continuation, stored))
                } else {
                    state.queues[name]?.ready.append(stored)
                }
            }
            return resumed
        }
        for (continuation, stored) in resumed { continuation.resume(returning: stored) }
    }

    /// The queues `exchange` routes `message` to, through the exchanges bound to it.
    private static func queues(for message: OutgoingMessage, through exchange: String, kind: ExchangeSpec.Kind, in state: State)
        -> [String]
    {
        func matches(_ key: String) -> Bool {
            switch kind {
            case .topic: TopicPattern.matches(key, message.routingKey)
            case .fanout: true
            case .direct, .headers, .consistentHash: key == message.routingKey
            }
        }
        let bound = state.bindings.filter { $0.exchange == exchange }
        if kind == .consistentHash {
            // One queue per message, the same for every message with the same key (not RabbitMQ's ring, but as stable).
            let queues = Set(bound.map(\.queue)).sorted()
            guard !queues.isEmpty else { return [] }
            let hash = (message.shardKey ?? "").utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
            return [queues[Int(hash % UInt64(queues.count))]]
        }
        let onward = state.exchangeBindings.filter { $0.source == exchange && matches($0.routingKey) }.flatMap { binding in
            state.exchanges[binding.destination].map { queues(for: message, through: binding.destination, kind: $0, in: state) } ?? []
        }
        return bound.filter { matches($0.routingKey) }.map(\.queue) + onward
    }

    private func next(from queue: String) async -> StoredMessage? {
        let id = UUID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> StoredMessage?? in
                    if Task.isCancelled { return .some(nil) }
                    if let stored = state.queues[queue]?.ready.popFirst() { return stored }
                    state.queues[queue]?.waiting.append((id, continuation))
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<StoredMessage?, Never>? in
                guard let index = state.queues[queue]?.waiting.firstIndex(where: { $0.id == id }) else { return nil }
                return state.queues[queue]?.waiting.remove(at: index).continuation
            }
            waiter?.resume(returning: nil)
        }
    }

    private func requeue(_ stored: StoredMessage, in queue: String) {
        var stored = stored
        stored.redelivered = true
        let waiter = state.withLock { state -> CheckedContinuation<StoredMessage?, Never>? in
            if let waiter = state.queues[queue]?.waiting.popFirst() { return waiter.continuation }
            state.queues[queue]?.ready.prepend(stored)
            return nil
        }
        waiter?.resume(returning: stored)
    }

    private func deadLetter(_ stored: StoredMessage, from queue: String) {
        let spec = state.withLock { $0.queues[queue]?.spec }
        guard let spec, let exchange = spec.deadLetterExchange else {
            logger.warning("dead letter dropped: the queue has no dead-letter exchange", metadata: ["queue": "\(queue)"])
            return
        }
        var message = stored.message
        message.exchange = exchange
        message.routingKey = spec.deadLetterRoutingKey ?? message.routingKey
        message.mandatory = false
        try? route(StoredMessage(message: message))
    }
}

/// AMQP topic matching: words separated by dots, `*` matches one word, `#` zero or more.
enum TopicPattern {
    static func matches(_ pattern: String, _ key: String) -> Bool {
        matches(
            pattern.split(separator: ".", omittingEmptySubsequences: false)[...],
            key.split(separator: ".", omittingEmptySubsequences: false)[...])
    }

    private static func matches(_ pattern: ArraySlice<Substring>, _ words: ArraySlice<Substring>) -> Bool {
        guard let head = pattern.first else { return words.isEmpty }
        if head == "#" {
            let rest = pattern.dropFirst()
            return (0...words.count).contains { matches(rest, words.dropFirst($0)) }
        }
        guard let word = words.first, head == "*" || head == word else { return false }
        return matches(pattern.dropFirst(), words.dropFirst())
    }
}
