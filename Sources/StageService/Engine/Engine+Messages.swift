import AMQPClient
import Contracts
import Foundation
import GRDB
import Messaging
import ServiceStorage
import Synchronization

/// Results from ProviderGateway and decisions from ApprovalService. Each is applied once (the inbox), in the same
/// transaction as the change it causes; one for a task or approval that has moved on is acknowledged and ignored.
extension Engine {
    func handleResult(_ message: IncomingMessage, at time: Date? = nil) async throws {
        let now = time ?? clock()
        let settings = self.settings
        let prices = self.prices.current()
        // The next task of the project is sent in the same transaction; the pass is woken only for what it alone does.
        let passNeeded = Flag()
        switch message.header.type {
        case ContentGenerated.type:
            let result = try message.decode(ContentGenerated.self).payload
            try await results.handleOnce(message, consumer: "results") { db in
                guard let (work, task) = try Self.waitingTask(result.requestID, db: db, now: now, settings: settings, prices: prices) else {
                    return []
                }
                try work.generated(result, task: task)
                if work.needsPass { passNeeded.set() }
                return try work.finish()
            }
        case GenerationFailed.type:
            let failure = try message.decode(GenerationFailed.self).payload
            try await results.handleOnce(message, consumer: "results") { db in
                guard let (work, task) = try Self.waitingTask(failure.requestID, db: db, now: now, settings: settings, prices: prices)
                else { return [] }
                try work.generationFailed(failure, task: task)
                if work.needsPass { passNeeded.set() }
                return try work.finish()
            }
        default:
            throw MessageDecodingError(queue: message.queue, reason: "StageService does not take \(message.header.type) here")
        }
        if passNeeded.isSet { workAdded.signal() }
    }

    /// A piece of an answer as it is written: passed on to live views at once; the first piece of a generation
    /// also marks its task `processing` (once, through the inbox).
    func handleChunk(_ message: IncomingMessage, at time: Date? = nil) async throws {
        // ProviderGateway ends a stream with the result itself, which comes on the results queue as well.
        guard message.header.type != ContentGenerated.type, message.header.type != GenerationFailed.type else { return }
        let now = time ?? clock()
        let chunk = try message.decode(GenerationChunk.self).payload
        let settings = self.settings
        if chunk.index == 0 {
            try await results.handleOnce(message, consumer: "chunks") { db in
                guard let (work, task) = try Self.waitingTask(chunk.requestID, db: db, now: now, settings: settings, prices: nil) else {
                    return []
                }
                try work.streaming(task)
                return try work.finish()
            }
        }
        let found = try await database.read { db -> (task: String, project: String, owner: String)? in
            try Row.fetchOne(
                db, sql: "SELECT t.id, t.projectID, p.ownerID FROM task t JOIN project p ON p.id = t.projectID WHERE t.requestID = ?",
                arguments: [chunk.requestID]
            ).map { ($0["id"], $0["projectID"], $0["ownerID"]) }
        }
        guard let found else { return }
        var text = try OutgoingMessage.event(
            TaskTextStreamed(
                projectID: found.project, ownerID: found.owner, taskID: found.task, attempt: chunk.attempt, index: chunk.index,
                text: chunk.text), context: MessageContext(correlationID: found.project))
        text.persistent = false
        try await bus.publish(text)
    }

    func handleApproval(_ message: IncomingMessage, at time: Date? = nil) async throws {
        let now = time ?? clock()
        let settings = self.settings
        let prices = self.prices.current()
        switch message.header.type {
        case ApprovalDecided.type:
            let decision = try message.decode(ApprovalDecided.self).payload
            try await outbox.handleOnce(message, consumer: "approvals") { db in
                guard let work = try ProjectWork.load(decision.projectID, db: db, now: now, settings: settings, prices: prices) else {
                    return []
                }
                try work.decided(decision)
                return try work.finish()
            }
        case ApprovalExpired.type:
            let expiry = try message.decode(ApprovalExpired.self).payload
            try await outbox.handleOnce(message, consumer: "approvals") { db in
                guard let work = try ProjectWork.load(expiry.projectID, db: db, now: now, settings: settings) else { return [] }
                try work.expired(expiry)
                return try work.finish()
            }
        case ApprovalRequested.type:
            return  // ApprovalService's own record of the request; the stage run knows already
        default:
            throw MessageDecodingError(queue: message.queue, reason: "StageService does not take \(message.header.type) here")
        }
        workAdded.signal()
    }

    /// The task a result is for, if it still waits for this very request.
    private static func waitingTask(
        _ requestID: String, db: Database, now: Date, settings: EngineSettings, prices: PriceList?
    ) throws -> (ProjectWork, TaskRecord)? {
        guard let task = try TaskRecord.filter(Column("requestID") == requestID).fetchOne(db),
            task.state == .queued || task.state == .processing,
            let work = try ProjectWork.load(task.projectID, db: db, now: now, settings: settings, prices: prices),
            work.project.state != .failed, work.project.state != .done
        else { return nil }
        return (work, task)
    }
}

/// Set once from inside a transaction, read after it.
final class Flag: Sendable {
    private let value = Atomic(false)

    func set() { value.store(true, ordering: .relaxed) }

    var isSet: Bool { value.load(ordering: .relaxed) }
}
