import AMQPClient
import Foundation
import GRDB
import Messaging
import Synchronization

/// Applies many handled messages in one SQLite transaction: the usual lever when every message is its own small
/// write and they queue for the one writer.
///
/// Each message's change runs in a savepoint of its own, so one that throws is rolled back alone and its handler
/// gets the error (its message is retried or dead-lettered as usual); the others commit. Like
/// ``Outbox/handleOnce(_:consumer:_:)``, the inbox claim, the change and the messages it publishes commit together,
/// and a message handled before has no second effect.
public final class GroupCommit: Sendable {
    private struct Pending {
        let messageID: String
        let consumer: String
        let body: @Sendable (Database) throws -> [OutgoingMessage]
        let continuation: CheckedContinuation<Bool, any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var writing = false
    }

    private let database: any DatabaseWriter
    private let outbox: Outbox
    private let state = Mutex(State())
    /// The most messages one transaction applies.
    private let batchLimit: Int

    public init(database: any DatabaseWriter, outbox: Outbox, batchLimit: Int = 128) {
        self.database = database
        self.outbox = outbox
        self.batchLimit = max(1, batchLimit)
    }

    /// Applies `body` once per message and consumer, together with whatever else is waiting; returns false when the
    /// message had been handled before.
    @discardableResult
    public func handleOnce(
        _ message: IncomingMessage, consumer: String, _ body: @escaping @Sendable (Database) throws -> [OutgoingMessage]
    ) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            let startWriter = state.withLock { state -> Bool in
                state.pending.append(
                    Pending(messageID: message.header.id.uuidString, consumer: consumer, body: body, continuation: continuation))
                defer { state.writing = true }
                return !state.writing
            }
            if startWriter { Task { await self.write() } }
        }
    }

    /// Writes batches until nothing waits.
    private func write() async {
        while true {
            let batch = state.withLock { state -> [Pending] in
                let batch = Array(state.pending.prefix(batchLimit))
                state.pending.removeFirst(batch.count)
                if batch.isEmpty { state.writing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            let outcomes: [Result<Bool, any Error>]
            do {
                outcomes = try await database.write { db in
                    batch.map { pending in
                        Result {
                            var applied = false
                            try db.inSavepoint {
                                applied = try Outbox.applyOnce(
                                    messageID: pending.messageID, consumer: pending.consumer, pending.body, in: db)
                                return .commit
                            }
                            return applied
                        }
                    }
                }
            } catch {
                outcomes = batch.map { _ in .failure(error) }
            }
            if outcomes.contains(where: { (try? $0.get()) == true }) { outbox.wake() }
            for (pending, outcome) in zip(batch, outcomes) { pending.continuation.resume(with: outcome) }
        }
    }
}
