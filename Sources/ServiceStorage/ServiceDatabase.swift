import Foundation
import GRDB

/// Opens a service's own SQLite database with the messaging tables and the service's migrations applied.
public enum ServiceDatabase {
    /// A WAL-mode pool at `path` (its folder is created); `migrations` adds the service's own, never-edited steps.
    public static func open(
        at path: String,
        migrations: (inout DatabaseMigrator) -> Void = { _ in }
    ) throws -> DatabasePool {
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true
        )
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let pool = try DatabasePool(path: path, configuration: configuration)
        try migrator(migrations).migrate(pool)
        return pool
    }

    /// An in-memory database with the same schema, for tests.
    public static func inMemory(migrations: (inout DatabaseMigrator) -> Void = { _ in }) throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try migrator(migrations).migrate(queue)
        return queue
    }

    private static func migrator(_ migrations: (inout DatabaseMigrator) -> Void) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        MessagingSchema.register(in: &migrator)
        migrations(&migrator)
        return migrator
    }
}

/// The outbox and inbox tables every service database has.
enum MessagingSchema {
    static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("messaging-v1") { db in
            try db.create(table: "outbox") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("messageID", .text).notNull().unique()
                table.column("exchange", .text).notNull()
                table.column("routingKey", .text).notNull()
                table.column("body", .blob).notNull()
                table.column("mandatory", .boolean).notNull()
                table.column("persistent", .boolean).notNull()
                table.column("type", .text)
                table.column("correlationID", .text)
                table.column("createdAt", .datetime).notNull()
                table.column("attempts", .integer).notNull().defaults(to: 0)
                table.column("lastError", .text)
            }
            try db.create(table: "inbox") { table in
                table.column("messageID", .text).notNull()
                table.column("consumer", .text).notNull()
                table.column("processedAt", .datetime).notNull().indexed()
                table.primaryKey(["messageID", "consumer"])
            }
        }
        // Ordered streams, backoff per record, and records parked for an operator.
        migrator.registerMigration("messaging-v2") { db in
            try db.alter(table: "outbox") { table in
                table.add(column: "stream", .text)
                table.add(column: "nextAttemptAt", .datetime)
                table.add(column: "parkedAt", .datetime)
            }
            try db.create(index: "outbox_stream", on: "outbox", columns: ["stream", "id"])
        }
        // The shard key a consistent-hash exchange routes by (StageService shards).
        migrator.registerMigration("messaging-v3") { db in
            try db.alter(table: "outbox") { table in table.add(column: "shardKey", .text) }
        }
    }
}
