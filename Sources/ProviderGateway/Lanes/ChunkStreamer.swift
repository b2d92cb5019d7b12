import AMQPClient
import Contracts
import Logging
import Messaging

/// Sends the pieces of one streamed answer to the requester's queue as ``GenerationChunk`` messages, in order.
///
/// One publish is in flight at a time; pieces that arrive meanwhile are joined into the next chunk, so a fast
/// provider never queues up more messages than the broker confirms, and a slow one is passed on piece by piece.
/// Chunks are a preview: a publish that fails is logged and the stream goes on, as the result event is what counts.
actor ChunkStreamer {
    private let bus: any MessageBus
    private let requestID: String
    private let queue: String
    private let context: MessageContext
    private let logger: Logger
    private var pending: [(attempt: Int, text: String)] = []
    private var nextIndex = 0
    private var sending: Task<Void, Never>?

    init(bus: any MessageBus, requestID: String, queue: String, context: MessageContext, logger: Logger) {
        self.bus = bus
        self.requestID = requestID
        self.queue = queue
        self.context = context
        self.logger = logger
    }

    /// The number of chunk messages sent so far.
    var chunksSent: Int { nextIndex }

    /// Queues a piece of text from provider call `attempt`.
    func add(attempt: Int, text: String) {
        if let last = pending.last, last.attempt == attempt {
            pending[pending.count - 1].text += text
        } else {
            pending.append((attempt, text))
        }
        if sending == nil { sending = Task { await self.send() } }
    }

    /// Sends what is still pending, then `result` after the last chunk.
    func finish(with result: OutgoingMessage) async {
        while let sending { await sending.value }
        var message = result
        (message.exchange, message.routingKey, message.mandatory) = (Exchange.default, queue, false)
        do {
            try await bus.publish(message)
        } catch {
            logger.warning("the result could not be sent to the stream", metadata: ["queue": "\(queue)", "error": "\(error)"])
        }
    }

    private func send() async {
        while !pending.isEmpty {
            let batch = pending
            pending.removeAll()
            var messages: [OutgoingMessage] = []
            for piece in batch {
                let chunk = GenerationChunk(requestID: requestID, index: nextIndex, attempt: piece.attempt, text: piece.text)
                nextIndex += 1
                if let message = try? OutgoingMessage.direct(chunk, to: queue, context: context) { messages.append(message) }
            }
            do {
                try await bus.publish(messages)
            } catch {
                logger.warning("stream chunks not sent", metadata: ["queue": "\(queue)", "error": "\(error)"])
            }
        }
        sending = nil
    }
}
