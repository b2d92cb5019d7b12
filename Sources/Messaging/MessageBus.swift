import AMQPClient
import Contracts
import Foundation

/// The seam between a service's handlers and the messaging transport.
///
/// ``AMQPBus`` is the product's implementation over RabbitMQ; ``InMemoryBus`` runs the same routing and the same
/// failure policy in process, so handlers are tested in milliseconds.
public protocol MessageBus: Sendable {
    /// Declares exchanges, queues and bindings; idempotent, and kept across reconnects.
    func declare(_ topology: Topology) async throws

    /// Publishes in order and returns once every message is safely with the broker.
    func publish(_ messages: [OutgoingMessage]) async throws

    /// Publishes in order and tells for each message whether the broker took it (`nil`) or why not.
    func publishEach(_ messages: [OutgoingMessage]) async -> [(any Error)?]

    /// Handles the messages of `queue` until the task is cancelled or the service shuts down gracefully.
    ///
    /// A message is acknowledged after `handler` returns; a handler that throws is retried with backoff up to the
    /// policy's limit and then dead-lettered; a message that does not decode is dead-lettered at once.
    func consume(queue: String, options: ConsumeOptions, handler: @escaping MessageHandler) async throws

    /// Sends a request and returns the body of its reply, or throws ``RequestTimeoutError`` after `timeout`.
    func request(_ message: OutgoingMessage, timeout: Duration) async throws -> Data

    /// The number of messages ready in a queue (for the admin page and tests).
    func messageCount(queue: String) async throws -> Int

    /// Moves up to `limit` ready messages from `source` to the queue `destination` (through the default exchange,
    /// so only that queue gets them), oldest first, each published and confirmed before it is removed from
    /// `source`: a crash in between leaves it in both, never in neither. Returns how many moved. For replaying a
    /// dead-letter queue once what made its messages fail is fixed.
    func moveMessages(from source: String, to destination: String, limit: Int) async throws -> Int
}

/// How a queue is consumed.
public struct ConsumeOptions: Sendable {
    /// Unacknowledged deliveries the broker sends ahead.
    public var prefetch: UInt16
    /// Handlers that run at once; at most `prefetch`.
    public var concurrency: Int
    public var policy: DeliveryPolicy

    public init(prefetch: UInt16 = 32, concurrency: Int = 1, policy: DeliveryPolicy = DeliveryPolicy()) {
        self.prefetch = prefetch
        self.concurrency = max(1, min(concurrency, Int(prefetch)))
        self.policy = policy
    }
}

/// What ties an outgoing message to what caused it.
public struct MessageContext: Sendable {
    public var correlationID: String
    public var causationID: UUID?
    public var idempotencyKey: String?
    /// The authenticated user the message acts for, carried on to the messages it causes.
    public var actor: Actor?
    /// The project the message concerns, for a payload that does not name it (a generation result names only its
    /// request): routes it to the project's StageService shard.
    public var shardKey: String?

    public init(
        correlationID: String = UUID().uuidString, causationID: UUID? = nil, idempotencyKey: String? = nil, actor: Actor? = nil,
        shardKey: String? = nil
    ) {
        self.correlationID = correlationID
        self.causationID = causationID
        self.idempotencyKey = idempotencyKey
        self.actor = actor
        self.shardKey = shardKey
    }

    /// The context of a message sent because `message` arrived: same correlation, actor and shard key, caused by it.
    public init(causedBy message: IncomingMessage, idempotencyKey: String? = nil) {
        self.init(
            correlationID: message.header.correlationID, causationID: message.header.id, idempotencyKey: idempotencyKey,
            actor: message.header.actor, shardKey: message.header.shardKey)
    }
}

extension OutgoingMessage {
    /// A command for its one consuming service: mandatory, so a missing consumer queue is an error, not a loss.
    public static func command<C: Command>(_ command: C, context: MessageContext) throws -> OutgoingMessage {
        try wrap(command, exchange: Exchange.commands, mandatory: true, context: context)
    }

    /// An event for whoever subscribed.
    public static func event<E: Event>(_ event: E, context: MessageContext) throws -> OutgoingMessage {
        try wrap(event, exchange: Exchange.events, mandatory: false, context: context)
    }

    /// A message straight to one queue through the default exchange, as a reply or a stream; not an error when the
    /// queue is gone (its reader left).
    public static func direct<M: Message>(_ message: M, to queue: String, context: MessageContext) throws -> OutgoingMessage {
        try wrap(message, exchange: Exchange.default, routingKey: queue, mandatory: false, context: context)
    }

    static func wrap<M: Message>(
        _ payload: M, exchange: String, routingKey: String? = nil, mandatory: Bool, context: MessageContext
    ) throws -> OutgoingMessage {
        let envelope = Envelope(
            payload, correlationID: context.correlationID, causationID: context.causationID,
            idempotencyKey: context.idempotencyKey, actor: context.actor, shardKey: context.shardKey
        )
        var message = OutgoingMessage(
            exchange: exchange, routingKey: routingKey ?? payload.routingKey, body: try MessageCoder().encode(envelope),
            messageID: envelope.id.uuidString, mandatory: mandatory, type: M.type, shardKey: envelope.shardKey
        )
        message.stream = context.correlationID
        return message
    }
}

extension MessageBus {
    /// One message at a time, in order: for transports without pipelined confirms.
    public func publishEach(_ messages: [OutgoingMessage]) async -> [(any Error)?] {
        var outcomes: [(any Error)?] = []
        for message in messages {
            do {
                try await publish([message])
                outcomes.append(nil)
            } catch {
                outcomes.append(error)
            }
        }
        return outcomes
    }

    /// Publishes one message and returns once the broker confirmed it.
    public func publish(_ message: OutgoingMessage) async throws {
        try await publish([message])
    }

    /// Sends a command to the service that consumes it.
    public func send<C: Command>(_ command: C, context: MessageContext) async throws {
        try await publish(.command(command, context: context))
    }

    /// Publishes an event.
    public func publish<E: Event>(_ event: E, context: MessageContext) async throws {
        try await publish(.event(event, context: context))
    }

    /// Consumes a queue with default options.
    public func consume(queue: String, handler: @escaping MessageHandler) async throws {
        try await consume(queue: queue, options: ConsumeOptions(), handler: handler)
    }

    /// Sends a typed request and decodes its reply; a refusal arrives as ``RemoteError``.
    ///
    /// The request goes to `aiwf.requests` with its type as routing key, or straight to `queue` when given.
    public func request<R: Request>(
        _ request: R,
        context: MessageContext = MessageContext(),
        timeout: Duration = .seconds(10),
        queue: String? = nil
    ) async throws -> R.Reply {
        var message = try OutgoingMessage.wrap(request, exchange: Exchange.commands, mandatory: true, context: context)
        if let queue {
            message.exchange = Exchange.default
            message.routingKey = queue
        }
        message.persistent = false
        let body = try await self.request(message, timeout: timeout)
        return try MessageCoder().decode(ReplyEnvelope<R.Reply>.self, from: body).result.get()
    }

    /// Answers requests of type `R` from `queue`. The reply is sent after `handler` returned, so after its state
    /// change committed; a ``ReplyableError`` goes back to the caller as a ``RemoteError`` with its code, any
    /// other error as `internal`.
    public func respond<R: Request>(
        to type: R.Type,
        queue: String,
        options: ConsumeOptions = ConsumeOptions(),
        handler: @escaping @Sendable (Envelope<R>, IncomingMessage) async throws -> R.Reply
    ) async throws {
        var handlers = RequestHandlers()
        handlers.on(type, handler)
        try await serve(handlers, queue: queue, options: options)
    }

    /// Answers every request type in `handlers` from one queue, dispatching by the envelope's type.
    public func serve(_ handlers: RequestHandlers, queue: String, options: ConsumeOptions = ConsumeOptions()) async throws {
        try await consume(queue: queue, options: options) { message in
            let body = await handlers.reply(to: message)
            guard let replyTo = message.replyTo else { return }
            try await publish(
                OutgoingMessage(
                    exchange: Exchange.default, routingKey: replyTo, body: body, persistent: false,
                    correlationID: message.header.id.uuidString
                )
            )
        }
    }
}

/// Request handlers by message type, served from one queue.
public struct RequestHandlers: Sendable {
    private var handlers: [String: @Sendable (IncomingMessage) async throws -> Data] = [:]

    public init() {}

    private var acrossShards: Set<String> = []

    /// The routing keys to bind the serving queue to `aiwf.requests` with.
    public var types: [String] { handlers.keys.sorted() }

    /// The types that concern one project, which reach its shard by their shard key; the others (``AcrossShards``)
    /// are sent to each shard's queue by name.
    public var typesForOneProject: [String] { types.filter { !acrossShards.contains($0) } }

    /// Handles requests of type `R`.
    public mutating func on<R: Request>(
        _: R.Type,
        _ handler: @escaping @Sendable (Envelope<R>, IncomingMessage) async throws -> R.Reply
    ) {
        if R.self is any AcrossShards.Type { acrossShards.insert(R.type) }
        handlers[R.type] = { message in
            let envelope = try message.decode(R.self)
            return try MessageCoder().encode(ReplyEnvelope(result: .success(try await handler(envelope, message))))
        }
    }

    /// The encoded reply: the handler's result, or its error for the caller.
    func reply(to message: IncomingMessage) async -> Data {
        let result: Result<Data, RemoteError>
        if let handler = handlers[message.header.type] {
            do {
                result = .success(try await handler(message))
            } catch let error as any ReplyableError {
                result = .failure(RemoteError(code: error.code, message: error.message))
            } catch let error as MessageDecodingError {
                result = .failure(RemoteError(code: "invalid", message: error.description))
            } catch {
                result = .failure(RemoteError(code: "internal", message: "\(error)"))
            }
        } else {
            result = .failure(RemoteError(code: "unknown-request", message: "this service does not answer \(message.header.type)"))
        }
        switch result {
        case .success(let body): return body
        case .failure(let error): return (try? MessageCoder().encode(ReplyEnvelope<Bool>(result: .failure(error)))) ?? Data()
        }
    }
}
