import Foundation

/// The wrapper every message travels in (DESIGN.md §4).
public struct Envelope<Payload: Codable & Sendable>: Codable, Sendable {
    /// Unique per message; the inbox records it so a redelivery has no second effect.
    public var id: UUID
    /// The payload's versioned type name.
    public var type: String
    /// When the sender created the message.
    public var occurredAt: Date
    /// Ties every message of one user action or project together; logged with every line.
    public var correlationID: String
    /// The id of the message that caused this one, if any.
    public var causationID: UUID?
    /// Identifies the intent, so a retried send of the same intent can be recognised.
    public var idempotencyKey: String?
    /// Who the Gateway authenticated for the action behind this message; services decide permissions by it, never
    /// by ids or roles in the payload.
    public var actor: Actor?
    /// The project the message concerns, for routing to its StageService shard; carried on to the messages it causes.
    public var shardKey: String?
    /// The message itself.
    public var payload: Payload

    public init(
        id: UUID = UUID(),
        type: String,
        occurredAt: Date = Date(),
        correlationID: String,
        causationID: UUID? = nil,
        idempotencyKey: String? = nil,
        actor: Actor? = nil,
        shardKey: String? = nil,
        payload: Payload
    ) {
        self.actor = actor
        self.shardKey = shardKey
        self.id = id
        self.type = type
        self.occurredAt = occurredAt
        self.correlationID = correlationID
        self.causationID = causationID
        self.idempotencyKey = idempotencyKey
        self.payload = payload
    }
}

extension Envelope where Payload: Message {
    /// Wraps `payload` with its own type name.
    public init(
        _ payload: Payload,
        correlationID: String,
        causationID: UUID? = nil,
        idempotencyKey: String? = nil,
        actor: Actor? = nil,
        shardKey: String? = nil
    ) {
        self.init(
            type: Payload.type,
            correlationID: correlationID,
            causationID: causationID,
            idempotencyKey: idempotencyKey,
            actor: actor,
            shardKey: payload.shardKey ?? shardKey,
            payload: payload
        )
    }
}

/// The envelope's fields without the payload: read first to route a message before decoding its payload.
public struct EnvelopeHeader: Codable, Sendable {
    public var id: UUID
    public var type: String
    public var occurredAt: Date
    public var correlationID: String
    public var causationID: UUID?
    public var idempotencyKey: String?
    public var actor: Actor?
    public var shardKey: String?
}

/// A user the Gateway authenticated: who acts, and the roles they hold.
public struct Actor: Codable, Sendable, Equatable, Hashable {
    public var userID: String
    public var roles: [String]

    public init(userID: String, roles: [String] = []) {
        self.userID = userID
        self.roles = roles
    }
}
