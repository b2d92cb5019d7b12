import Foundation

/// Bytes to publish and where to, with the AMQP properties the runtime uses.
public struct OutgoingMessage: Sendable, Equatable {
    public var exchange: String
    public var routingKey: String
    public var body: Data
    /// Unique per message; also how a returned (unroutable) message is matched to its publish.
    public var messageID: String
    /// Refuse the publish when no queue is bound for it (commands and requests).
    public var mandatory: Bool
    /// Written to disk by the broker (delivery mode 2).
    public var persistent: Bool
    public var replyTo: String?
    public var correlationID: String?
    public var type: String?
    /// Per-message TTL; a request that nobody took before its deadline is dropped, not answered late.
    public var expirationMilliseconds: Int?
    /// Messages of one stream (one project, one approval) leave the outbox in the order they were committed; not
    /// sent to the broker. Messages made from an envelope take its correlation id.
    public var stream: String?
    /// The key a consistent-hash exchange routes by (the `aiwf-shard` header): the project a message concerns, so
    /// every message about one project reaches the same StageService shard.
    public var shardKey: String?

    public init(
        exchange: String,
        routingKey: String,
        body: Data,
        messageID: String = UUID().uuidString,
        mandatory: Bool = false,
        persistent: Bool = true,
        replyTo: String? = nil,
        correlationID: String? = nil,
        type: String? = nil,
        expirationMilliseconds: Int? = nil,
        shardKey: String? = nil
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.messageID = messageID
        self.mandatory = mandatory
        self.persistent = persistent
        self.replyTo = replyTo
        self.correlationID = correlationID
        self.type = type
        self.expirationMilliseconds = expirationMilliseconds
        self.shardKey = shardKey
    }
}
