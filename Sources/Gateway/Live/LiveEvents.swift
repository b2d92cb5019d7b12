import AMQPClient
import Contracts
import Foundation
import Messaging
import Synchronization

/// What a live view of a project hears: a new entry of its log, or a piece of a task's text.
enum LiveEvent: Sendable {
    case logged(ProjectEvent)
    case text(TaskTextStreamed)
    /// A new entry of the log of one of an owner's projects.
    case owned(projectID: String, ProjectEvent)
}

/// A piece of an interactive generation's text, or its end.
enum StreamPiece: Sendable {
    case text(attempt: Int, String)
    case end
}

/// Fans the events of `aiwf.events` out to the live views of this replica, by project. Each replica has a queue of
/// its own that lives as long as it does; what a view misses (a reconnect of the broker, a slow reader) it reads
/// back from StageService's log, so this is only the fast path.
final class LiveEvents: Sendable {
    let queue: String
    private let subscribers = Mutex<[String: [UUID: AsyncStream<LiveEvent>.Continuation]]>([:])
    private let streams = Mutex<[String: AsyncStream<StreamPiece>.Continuation]>([:])

    init(replica: String = UUID().uuidString.lowercased()) {
        queue = "gateway.live.\(replica)"
    }

    var topology: Topology {
        var spec = QueueSpec(name: queue, kind: .classic)
        spec.durable = false
        spec.autoDelete = true
        spec.messageTTLMilliseconds = 60_000
        spec.maxLength = 100_000
        spec.overflow = "drop-head"
        return Topology(
            queues: [spec],
            bindings: [ProjectEventRecorded.type, TaskTextStreamed.type].map {
                BindingSpec(queue: queue, exchange: Exchange.events, routingKey: $0)
            })
    }

    func consume(_ bus: any MessageBus) async throws {
        try await bus.consume(queue: queue, options: ConsumeOptions(prefetch: 256, concurrency: 1)) { [self] message in
            switch message.header.type {
            case ProjectEventRecorded.type:
                let recorded = try message.decode(ProjectEventRecorded.self).payload
                deliver(.logged(recorded.event), to: recorded.projectID)
                deliver(.owned(projectID: recorded.projectID, recorded.event), to: Self.ownerKey(recorded.ownerID))
            case TaskTextStreamed.type:
                let text = try message.decode(TaskTextStreamed.self).payload
                deliver(.text(text), to: text.projectID)
            case GenerationChunk.type:
                let chunk = try message.decode(GenerationChunk.self).payload
                _ = streams.withLock { $0[chunk.requestID] }?.yield(.text(attempt: chunk.attempt, chunk.text))
            case ContentGenerated.type:
                end(try message.decode(ContentGenerated.self).payload.requestID)
            case GenerationFailed.type:
                end(try message.decode(GenerationFailed.self).payload.requestID)
            default:
                return
            }
        }
    }

    /// The log entries of every project of `ownerID` from now on (the portal's dashboard), until the stream is
    /// dropped; a dashboard that missed some shows them when it is loaded again.
    func subscribe(owner ownerID: String) -> AsyncStream<LiveEvent> {
        subscribe(Self.ownerKey(ownerID))
    }

    private static func ownerKey(_ ownerID: String) -> String { "owner:\(ownerID)" }

    /// Events of `projectID` from now on, until the stream is dropped. A reader that falls 1,000 events behind
    /// loses the oldest, and reads them back from the log by their sequence numbers.
    func subscribe(_ projectID: String) -> AsyncStream<LiveEvent> {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: LiveEvent.self, bufferingPolicy: .bufferingNewest(1000))
        subscribers.withLock { $0[projectID, default: [:]][id] = continuation }
        continuation.onTermination = { [weak self] _ in
            self?.subscribers.withLock { subscribers in
                subscribers[projectID]?[id] = nil
                if subscribers[projectID]?.isEmpty == true { subscribers[projectID] = nil }
            }
        }
        return stream
    }

    /// The text of the interactive generation `requestID` as ProviderGateway streams it to this replica's queue
    /// (`streamTo` = ``queue``), until its end.
    func stream(_ requestID: String) -> AsyncStream<StreamPiece> {
        let (stream, continuation) = AsyncStream.makeStream(of: StreamPiece.self)
        streams.withLock { $0[requestID] = continuation }
        continuation.onTermination = { [weak self] _ in _ = self?.streams.withLock { $0.removeValue(forKey: requestID) } }
        return stream
    }

    private func end(_ requestID: String) {
        let continuation = streams.withLock { $0.removeValue(forKey: requestID) }
        continuation?.yield(.end)
        continuation?.finish()
    }

    private func deliver(_ event: LiveEvent, to projectID: String) {
        let listeners = subscribers.withLock { $0[projectID].map { Array($0.values) } ?? [] }
        for listener in listeners { listener.yield(event) }
    }
}
