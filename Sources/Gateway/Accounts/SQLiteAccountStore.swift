import Foundation
import GRDB

/// The account store in one SQLite file of the Gateway's own (a shared database follows for several hosts).
struct SQLiteAccountStore: AccountStore {
    let database: any DatabaseWriter

    static func migrate(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("gateway-v1") { db in
            try db.create(table: "user") { table in
                table.primaryKey("id", .text)
                table.column("email", .text).notNull().unique(onConflict: .abort).collate(.nocase)
                table.column("role", .text).notNull()
                table.column("passwordHash", .text).notNull()
                table.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "apiKey") { table in
                table.primaryKey("id", .text)
                table.column("userID", .text).notNull().references("user", onDelete: .cascade).indexed()
                table.column("name", .text).notNull()
                table.column("prefix", .text).notNull()
                table.column("hash", .text).notNull().unique()
                table.column("createdAt", .datetime).notNull()
                table.column("lastUsedAt", .datetime)
                table.column("revokedAt", .datetime)
            }
            try db.create(table: "idempotencyKey") { table in
                table.column("userID", .text).notNull()
                table.column("key", .text).notNull()
                table.column("bodyHash", .text).notNull()
                table.column("projectID", .text)
                table.column("createdAt", .datetime).notNull()
                table.primaryKey(["userID", "key"])
            }
        }
        migrator.registerMigration("gateway-v2-key-usage") { db in
            try db.alter(table: "apiKey") { table in
                table.add(column: "requests", .integer).notNull().defaults(to: 0)
                table.add(column: "tokensIn", .integer).notNull().defaults(to: 0)
                table.add(column: "tokensOut", .integer).notNull().defaults(to: 0)
                table.add(column: "cost", .double).notNull().defaults(to: 0)
            }
        }
        migrateSessions(&migrator)
    }

    static func migrateSessions(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("gateway-v3-sessions") { db in
            try db.create(table: "portalSession") { table in
                table.primaryKey("hash", .text)
                table.column("userID", .text).notNull().references("user", onDelete: .cascade).indexed()
                table.column("csrf", .text).notNull()
                table.column("createdAt", .datetime).notNull()
                table.column("expiresAt", .datetime).notNull().indexed()
            }
        }
    }

    func insert(_ session: PortalSession) async throws {
        try await database.write { db in
            // Expired sessions go when new ones come, so the table holds only live ones and a few stale.
            try db.execute(sql: "DELETE FROM portalSession WHERE expiresAt < ?", arguments: [session.createdAt])
            try session.insert(db)
        }
    }

    func session(hash: String, at now: Date) async throws -> PortalSession? {
        try await database.read { db in
            try PortalSession.filter(Column("hash") == hash && Column("expiresAt") > now).fetchOne(db)
        }
    }

    func deleteSession(hash: String) async throws {
        try await database.write { db in try db.execute(sql: "DELETE FROM portalSession WHERE hash = ?", arguments: [hash]) }
    }

    func recordUsage(keyID: String, requests: Int, tokensIn: Int, tokensOut: Int, cost: Double) async throws {
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE apiKey SET requests = requests + ?, tokensIn = tokensIn + ?, tokensOut = tokensOut + ?, cost = cost + ?
                    WHERE id = ?
                    """,
                arguments: [requests, tokensIn, tokensOut, cost, keyID])
        }
    }

    func userCount() async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM user") ?? 0 }
    }

    func user(id: String) async throws -> User? {
        try await database.read { db in try User.fetchOne(db, key: id) }
    }

    func user(email: String) async throws -> User? {
        try await database.read { db in try User.filter(Column("email") == email).fetchOne(db) }
    }

    func users() async throws -> [User] {
        try await database.read { db in try User.order(Column("createdAt")).fetchAll(db) }
    }

    func insert(_ user: User) async throws {
        do {
            try await database.write { db in try user.insert(db) }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw AccountError.emailTaken
        }
    }

    func insert(_ key: APIKey) async throws {
        try await database.write { db in try key.insert(db) }
    }

    func keys(of userID: String) async throws -> [APIKey] {
        try await database.read { db in try APIKey.filter(Column("userID") == userID).order(Column("createdAt")).fetchAll(db) }
    }

    func key(hash: String, usedAt now: Date) async throws -> APIKey? {
        let found = try await database.read { db in
            try APIKey.filter(Column("hash") == hash && Column("revokedAt") == nil).fetchOne(db)
        }
        guard var key = found else { return nil }
        // Written at most once a minute per key: a busy key must not make every request a write.
        if key.lastUsedAt.map({ now.timeIntervalSince($0) > 60 }) ?? true {
            key.lastUsedAt = now
            try await database.write { [key] db in
                try db.execute(sql: "UPDATE apiKey SET lastUsedAt = ? WHERE id = ?", arguments: [key.lastUsedAt, key.id])
            }
        }
        return key
    }

    func revokeKey(_ id: String, of userID: String, at now: Date) async throws -> Bool {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE apiKey SET revokedAt = ? WHERE id = ? AND userID = ? AND revokedAt IS NULL", arguments: [now, id, userID])
            return db.changesCount > 0
        }
    }

    func claimIdempotencyKey(_ key: String, userID: String, bodyHash: String, at now: Date) async throws -> IdempotencyRecord? {
        try await database.write { db in
            if let row = try Row.fetchOne(
                db, sql: "SELECT bodyHash, projectID FROM idempotencyKey WHERE userID = ? AND key = ?", arguments: [userID, key])
            {
                return IdempotencyRecord(bodyHash: row["bodyHash"], projectID: row["projectID"])
            }
            try db.execute(
                sql: "INSERT INTO idempotencyKey (userID, key, bodyHash, createdAt) VALUES (?, ?, ?, ?)",
                arguments: [userID, key, bodyHash, now])
            return nil
        }
    }

    func completeIdempotencyKey(_ key: String, userID: String, projectID: String) async throws {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE idempotencyKey SET projectID = ? WHERE userID = ? AND key = ?", arguments: [projectID, userID, key])
        }
    }

    func releaseIdempotencyKey(_ key: String, userID: String) async throws {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM idempotencyKey WHERE userID = ? AND key = ? AND projectID IS NULL", arguments: [userID, key])
        }
    }
}

extension User: FetchableRecord, PersistableRecord {}
extension APIKey: FetchableRecord, PersistableRecord {
    static let databaseTableName = "apiKey"
}
extension PortalSession: FetchableRecord, PersistableRecord {
    static let databaseTableName = "portalSession"
}
