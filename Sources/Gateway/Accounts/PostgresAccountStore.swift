import Foundation
import Logging
import PostgresNIO

/// The account store on PostgreSQL, for several Gateway replicas: users, API keys, sessions and idempotency keys
/// are then the same whichever replica a request reaches (`AIWF_GATEWAY_DATABASE_URL=postgres://…`). The client
/// must be running (``PostgresClient/run()``) while the store is used.
struct PostgresAccountStore: AccountStore {
    let client: PostgresClient
    let logger: Logger

    /// `postgres://user:password@host:5432/database`, with `?sslmode=require` for TLS (verified against the
    /// system's roots).
    static func configuration(url text: String) throws -> PostgresClient.Configuration {
        guard let url = URLComponents(string: text), ["postgres", "postgresql"].contains(url.scheme ?? ""),
            let host = url.host, !host.isEmpty, let user = url.user, url.path.count > 1
        else {
            throw AccountStoreError("'\(text.prefix(200))' is not a PostgreSQL URL; expected postgres://user:password@host:5432/database")
        }
        let tls: PostgresClient.Configuration.TLS =
            url.queryItems?.first(where: { $0.name == "sslmode" })?.value == "require" ? .require(.makeClientConfiguration()) : .disable
        return PostgresClient.Configuration(
            host: host, port: url.port ?? 5432, username: user.removingPercentEncoding ?? user,
            password: url.password?.removingPercentEncoding, database: String(url.path.dropFirst()), tls: tls)
    }

    /// Creates the tables the store needs, once, whichever replica comes first (under an advisory lock).
    func migrate() async throws {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(7331001)", logger: logger)
            var failure: (any Error)?
            do {
                for statement in Self.schema { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
            } catch {
                failure = error
            }
            try await connection.query("SELECT pg_advisory_unlock(7331001)", logger: logger)
            if let failure { throw failure }
        }
    }

    static let schema = [
        """
        CREATE TABLE IF NOT EXISTS aiwf_user (
            id text PRIMARY KEY, email text NOT NULL, role text NOT NULL, password_hash text NOT NULL,
            created_at timestamptz NOT NULL)
        """,
        "CREATE UNIQUE INDEX IF NOT EXISTS aiwf_user_email ON aiwf_user (lower(email))",
        """
        CREATE TABLE IF NOT EXISTS aiwf_api_key (
            id text PRIMARY KEY, user_id text NOT NULL REFERENCES aiwf_user (id) ON DELETE CASCADE, name text NOT NULL,
            prefix text NOT NULL, hash text NOT NULL UNIQUE, created_at timestamptz NOT NULL, last_used_at timestamptz,
            revoked_at timestamptz, requests bigint NOT NULL DEFAULT 0, tokens_in bigint NOT NULL DEFAULT 0,
            tokens_out bigint NOT NULL DEFAULT 0, cost double precision NOT NULL DEFAULT 0)
        """,
        "CREATE INDEX IF NOT EXISTS aiwf_api_key_user ON aiwf_api_key (user_id)",
        """
        CREATE TABLE IF NOT EXISTS aiwf_idempotency_key (
            user_id text NOT NULL, key text NOT NULL, body_hash text NOT NULL, project_id text,
            created_at timestamptz NOT NULL, PRIMARY KEY (user_id, key))
        """,
        """
        CREATE TABLE IF NOT EXISTS aiwf_session (
            hash text PRIMARY KEY, user_id text NOT NULL REFERENCES aiwf_user (id) ON DELETE CASCADE, csrf text NOT NULL,
            created_at timestamptz NOT NULL, expires_at timestamptz NOT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS aiwf_session_expiry ON aiwf_session (expires_at)",
    ]

    // MARK: Users

    private func users(_ query: PostgresQuery) async throws -> [User] {
        var users: [User] = []
        for try await (id, email, role, hash, created) in try await client.query(query, logger: logger)
            .decode((String, String, String, String, Date).self)
        {
            users.append(User(id: id, email: email, role: Role(rawValue: role) ?? .user, passwordHash: hash, createdAt: created))
        }
        return users
    }

    func userCount() async throws -> Int {
        for try await count in try await client.query("SELECT count(*) FROM aiwf_user", logger: logger).decode(Int.self) {
            return count
        }
        return 0
    }

    func user(id: String) async throws -> User? {
        try await users("SELECT id, email, role, password_hash, created_at FROM aiwf_user WHERE id = \(id)").first
    }

    func user(email: String) async throws -> User? {
        try await users("SELECT id, email, role, password_hash, created_at FROM aiwf_user WHERE lower(email) = lower(\(email))").first
    }

    func users() async throws -> [User] {
        try await users("SELECT id, email, role, password_hash, created_at FROM aiwf_user ORDER BY created_at")
    }

    func insert(_ user: User) async throws {
        do {
            try await client.query(
                """
                INSERT INTO aiwf_user (id, email, role, password_hash, created_at)
                VALUES (\(user.id), \(user.email), \(user.role.rawValue), \(user.passwordHash), \(user.createdAt))
                """, logger: logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw AccountError.emailTaken
        }
    }

    // MARK: Keys

    private func keys(_ query: PostgresQuery) async throws -> [APIKey] {
        var keys: [APIKey] = []
        let rows = try await client.query(query, logger: logger)
        for try await (id, userID, name, prefix, hash, created, lastUsed, revoked, requests, tokensIn, tokensOut, cost) in rows.decode(
            (String, String, String, String, String, Date, Date?, Date?, Int, Int, Int, Double).self)
        {
            keys.append(
                APIKey(
                    id: id, userID: userID, name: name, prefix: prefix, hash: hash, createdAt: created, lastUsedAt: lastUsed,
                    revokedAt: revoked, requests: requests, tokensIn: tokensIn, tokensOut: tokensOut, cost: cost))
        }
        return keys
    }

    func insert(_ key: APIKey) async throws {
        try await client.query(
            """
            INSERT INTO aiwf_api_key (id, user_id, name, prefix, hash, created_at, last_used_at, revoked_at)
            VALUES (\(key.id), \(key.userID), \(key.name), \(key.prefix), \(key.hash), \(key.createdAt), \(key.lastUsedAt),
                    \(key.revokedAt))
            """, logger: logger)
    }

    func keys(of userID: String) async throws -> [APIKey] {
        try await keys(
            """
            SELECT id, user_id, name, prefix, hash, created_at, last_used_at, revoked_at, requests, tokens_in, tokens_out, cost
            FROM aiwf_api_key WHERE user_id = \(userID) ORDER BY created_at
            """)
    }

    func key(hash: String, usedAt now: Date) async throws -> APIKey? {
        guard
            var key = try await keys(
                """
                SELECT id, user_id, name, prefix, hash, created_at, last_used_at, revoked_at, requests, tokens_in, tokens_out, cost
                FROM aiwf_api_key WHERE hash = \(hash) AND revoked_at IS NULL
                """
            ).first
        else { return nil }
        // Written at most once a minute per key: a busy key must not make every request a write.
        if key.lastUsedAt.map({ now.timeIntervalSince($0) > 60 }) ?? true {
            key.lastUsedAt = now
            try await client.query("UPDATE aiwf_api_key SET last_used_at = \(now) WHERE id = \(key.id)", logger: logger)
        }
        return key
    }

    func revokeKey(_ id: String, of userID: String, at now: Date) async throws -> Bool {
        let rows = try await client.query(
            "UPDATE aiwf_api_key SET revoked_at = \(now) WHERE id = \(id) AND user_id = \(userID) AND revoked_at IS NULL RETURNING id",
            logger: logger)
        for try await _ in rows { return true }
        return false
    }

    func recordUsage(keyID: String, requests: Int, tokensIn: Int, tokensOut: Int, cost: Double) async throws {
        try await client.query(
            """
            UPDATE aiwf_api_key SET requests = requests + \(requests), tokens_in = tokens_in + \(tokensIn),
                tokens_out = tokens_out + \(tokensOut), cost = cost + \(cost)
            WHERE id = \(keyID)
            """, logger: logger)
    }

    // MARK: Idempotency

    func claimIdempotencyKey(_ key: String, userID: String, bodyHash: String, at now: Date) async throws -> IdempotencyRecord? {
        // One statement decides between two replicas claiming the same key at once: the row is someone's or ours.
        let inserted = try await client.query(
            """
            INSERT INTO aiwf_idempotency_key (user_id, key, body_hash, created_at) VALUES (\(userID), \(key), \(bodyHash), \(now))
            ON CONFLICT (user_id, key) DO NOTHING RETURNING key
            """, logger: logger)
        for try await _ in inserted { return nil }
        let rows = try await client.query(
            "SELECT body_hash, project_id FROM aiwf_idempotency_key WHERE user_id = \(userID) AND key = \(key)", logger: logger)
        for try await (hash, projectID) in rows.decode((String, String?).self) {
            return IdempotencyRecord(bodyHash: hash, projectID: projectID)
        }
        // Released between the two statements: claim it again.
        return try await claimIdempotencyKey(key, userID: userID, bodyHash: bodyHash, at: now)
    }

    func completeIdempotencyKey(_ key: String, userID: String, projectID: String) async throws {
        try await client.query(
            "UPDATE aiwf_idempotency_key SET project_id = \(projectID) WHERE user_id = \(userID) AND key = \(key)", logger: logger)
    }

    func releaseIdempotencyKey(_ key: String, userID: String) async throws {
        try await client.query(
            "DELETE FROM aiwf_idempotency_key WHERE user_id = \(userID) AND key = \(key) AND project_id IS NULL", logger: logger)
    }

    // MARK: Sessions

    func insert(_ session: PortalSession) async throws {
        // Expired sessions go when new ones come, so the table holds only live ones and a few stale.
        try await client.query("DELETE FROM aiwf_session WHERE expires_at < \(session.createdAt)", logger: logger)
        try await client.query(
            """
            INSERT INTO aiwf_session (hash, user_id, csrf, created_at, expires_at)
            VALUES (\(session.hash), \(session.userID), \(session.csrf), \(session.createdAt), \(session.expiresAt))
            """, logger: logger)
    }

    func session(hash: String, at now: Date) async throws -> PortalSession? {
        let rows = try await client.query(
            "SELECT hash, user_id, csrf, created_at, expires_at FROM aiwf_session WHERE hash = \(hash) AND expires_at > \(now)",
            logger: logger)
        for try await (hash, userID, csrf, created, expires) in rows.decode((String, String, String, Date, Date).self) {
            return PortalSession(hash: hash, userID: userID, csrf: csrf, createdAt: created, expiresAt: expires)
        }
        return nil
    }

    func deleteSession(hash: String) async throws {
        try await client.query("DELETE FROM aiwf_session WHERE hash = \(hash)", logger: logger)
    }
}

struct AccountStoreError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
