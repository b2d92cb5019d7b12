import Foundation

/// A payload that travels between services inside an ``Envelope``.
///
/// `type` names the shape and its version (`stage.generate-content.v1`); a shipped type is never changed in
/// place, a new version gets a new name.
public protocol Message: Codable, Sendable {
    /// The versioned name of this message shape.
    static var type: String { get }
    /// Where the exchange routes this message; its type unless a message routes by its content.
    var routingKey: String { get }
    /// The project this message concerns, when it says so itself: a consistent-hash exchange routes it to the
    /// StageService shard that owns the project (see ``StageShards``). Without one, the message takes the shard key
    /// of the message that caused it, if any.
    var shardKey: String? { get }
}

extension Message {
    public var routingKey: String { Self.type }
    public var shardKey: String? { nil }
}

/// A message about one project, named by `projectID`: it routes to that project's StageService shard.
public protocol ProjectScoped: Message {
    var projectID: String { get }
}

extension ProjectScoped {
    public var shardKey: String? { projectID }
}

/// A message with exactly one consuming service, sent to `aiwf.requests` with its type as the routing key.
public protocol Command: Message {}

/// A fact that already happened, published to `aiwf.events`; every interested handler has its own queue.
public protocol Event: Message {}

/// A request answered over request/reply with a typed reply.
public protocol Request: Message {
    /// What the responder sends back.
    associatedtype Reply: Codable & Sendable
}
