import AMQPClient
import Contracts
import Foundation
import GRDB
import Messaging
import ServiceStorage
import Testing

/// Many handled messages in one transaction, each in a savepoint of its own.
@Suite("Group commit", .timeLimit(.minutes(1)))
struct GroupCommitTests {
    static func incoming(_ text: String, id: UUID = UUID()) throws -> IncomingMessage {
        let envelope = Envelope(id: id, type: "test.note.v1", correlationID: "c", payload: ["text": JSONValue.string(text)])
        return try IncomingMessage(body: try MessageCoder().encode(envelope), queue: "q", routingKey: "", redelivered: false, replyTo: nil)
    }

    @Test func aFailingMessageRollsBackAloneAndARepeatHasNoSecondEffect() async throws {
        let database = try ServiceDatabase.inMemory { migrator in
            migrator.registerMigration("notes") { db in try db.create(table: "note") { $0.column("text", .text) } }
        }
        let outbox = Outbox(database: database, bus: InMemoryBus(), logger: .init(label: "test"))
        let group = GroupCommit(database: database, outbox: outbox)
        struct Refused: Error {}
        let repeated = UUID()
        let outcomes = try await withThrowingTaskGroup(of: (String, Bool?).self) { tasks in
            for text in ["a", "b", "fails", "c", "again", "again"] {
                let message = try Self.incoming(text, id: text == "again" ? repeated : UUID())
                tasks.addTask {
                    do {
                        return (
                            text,
                            try await group.handleOnce(message, consumer: "notes") { db in
                                try db.execute(sql: "INSERT INTO note (text) VALUES (?)", arguments: [text])
                                if text == "fails" { throw Refused() }
                                return []
                            }
                        )
                    } catch {
                        return (text, nil)
                    }
                }
            }
            return try await tasks.reduce(into: [(String, Bool?)]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0.0 == "fails" }.allSatisfy { $0.1 == nil }, "its handler got the error")
        #expect(outcomes.filter { $0.0 == "again" }.map(\.1).sorted { ($0 ?? false) && !($1 ?? false) } == [true, false])
        let notes = try await database.read { db in try String.fetchAll(db, sql: "SELECT text FROM note ORDER BY text") }
        #expect(notes == ["a", "again", "b", "c"], "the failing one left nothing; the repeat was applied once")
    }
}
