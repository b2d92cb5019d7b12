import Contracts
import Foundation

/// A message as a handler receives it: the raw envelope plus what the transport knows about it.
public struct IncomingMessage: Sendable {
    /// The envelope's fields, already read.
    public let header: EnvelopeHeader
    /// The whole envelope as JSON.
    public let body: Data
    public let queue: String
    public let routingKey: String
    /// The broker delivered this message before (to this or another consumer).
    public let redelivered: Bool
    /// Where a request wants its reply.
    public let replyTo: String?

    /// Reads the envelope header; a body that is not an envelope is a ``MessageDecodingError``.
    public init(body: Data, queue: String, routingKey: String, redelivered: Bool, replyTo: String?) throws(MessageDecodingError) {
        do {
            self.header = try MessageCoder().decode(EnvelopeHeader.self, from: body)
        } catch {
            throw MessageDecodingError(queue: queue, reason: "not an aiwf envelope: \(error)")
        }
        self.body = body
        self.queue = queue
        self.routingKey = routingKey
        self.redelivered = redelivered
        self.replyTo = replyTo
    }

    /// Decodes the payload as `M`; a type or shape mismatch is a ``MessageDecodingError``, which is never retried.
    public func decode<M: Message>(_: M.Type) throws(MessageDecodingError) -> Envelope<M> {
        guard header.type == M.type else {
            throw MessageDecodingError(queue: queue, reason: "expected a \(M.type) message, got \(header.type)")
        }
        return try decodeEnvelope(Envelope<M>.self)
    }

    /// Decodes the body as any envelope shape.
    public func decodeEnvelope<E: Decodable>(_: E.Type) throws(MessageDecodingError) -> E {
        do {
            return try MessageCoder().decode(E.self, from: body)
        } catch {
            throw MessageDecodingError(queue: queue, reason: "\(header.type) \(header.id) does not decode: \(error)")
        }
    }
}

/// A message that can never be handled as it is: it goes to the dead-letter queue at once.
public struct MessageDecodingError: Error, CustomStringConvertible, Sendable {
    public let queue: String
    public let reason: String
    public var description: String { "undecodable message on \(queue): \(reason)" }

    /// A message that decodes but can never be handled as it is (it goes to the dead-letter queue with `reason`).
    public init(queue: String, reason: String) {
        self.queue = queue
        self.reason = reason
    }
}

/// A handler for messages from one queue. Throwing means "try again later", up to the policy's limit.
public typealias MessageHandler = @Sendable (IncomingMessage) async throws -> Void
