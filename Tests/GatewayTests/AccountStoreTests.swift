import Foundation
import GRDB
import Logging
import PostgresNIO
import ServiceStorage
import Testing

@testable import Gateway

/// The same checks against both account stores: SQLite (one Gateway) and PostgreSQL (several replicas share it),
/// the latter against the real server `scripts/test.sh` starts (`AIWF_TEST_POSTGRES_URL`), each test in a schema
/// of its own.
@Suite("Account stores")
struct AccountStoreTests {
    enum Kind: String, CaseIterable, CustomStringConvertible {
        case sqlite, postgres
        var description: String { rawValue }
    }

    /// A store of `kind`, empty, and what stops it.
    static func store(_ kind: Kind) async throws -> (any AccountStore, @Sendable () async -> Void) {
        switch kind {
        case .sqlite:
            return (SQLiteAccountStore(database: try ServiceDatabase.inMemory(migrations: SQLiteAccountStore.migrate)), {})
        case .postgres:
            guard let url = ProcessInfo.processInfo.environment["AIWF_TEST_POSTGRES_URL"] else {
                throw AccountStoreError("set AIWF_TEST_POSTGRES_URL to a PostgreSQL database (scripts/test.sh starts one and sets it)")
            }
            let schema = "test_\(UUID().uuidString.prefix(8).lowercased())"
            var configuration = try PostgresAccountStore.configuration(url: url)
            configuration.options.additionalStartupParameters = [("search_path", schema)]
            let client = PostgresClient(configuration: configuration, backgroundLogger: quiet)
            let running = Task { await client.run() }
            try await client.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(schema)"), logger: quiet)
            let store = PostgresAccountStore(client: client, logger: quiet)
            try await store.migrate()
            return (
                store,
                {
                    _ = try? await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"), logger: quiet)
                    running.cancel()
                }
            )
        }
    }

    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func user(_ id: String, _ email: String, minutes: Double = 0) -> User {
        User(id: id, email: email, role: .user, passwordHash: "hash-\(id)", createdAt: start.addingTimeInterval(minutes * 60))
    }

    @Test(arguments: Kind.allCases)
    func usersAreFoundByIdAndByAddressWhateverItsCaseAndAnAddressIsTakenOnce(kind: Kind) async throws {
        let (store, stop) = try await Self.store(kind)
        defer { Task { await stop() } }
        #expect(try await store.userCount() == 0)
        try await store.insert(Self.user("u1", "Ana@Example.com"))
        try await store.insert(Self.user("u2", "bo@example.com", minutes: 1))
        #expect(try await store.userCount() == 2)
        #expect(try await store.user(id: "u1")?.email == "Ana@Example.com")
        #expect(try await store.user(email: "ana@example.com")?.id == "u1")
        #expect(try await store.user(id: "nobody") == nil)
        #expect(try await store.users().map(\.id) == ["u1", "u2"], "oldest first")
        await #expect(throws: AccountError.emailTaken) { try await store.insert(Self.user("u3", "ANA@example.com")) }
        #expect(try await store.user(id: "u1") == Self.user("u1", "Ana@Example.com"), "every field comes back as stored")
    }

    @Test(arguments: Kind.allCases)
    func keysAreFoundByHashMarkedUsedAtMostOnceAMinuteCountedAndRevokedOnce(kind: Kind) async throws {
        let (store, stop) = try await Self.store(kind)
        defer { Task { await stop() } }
        try await store.insert(Self.user("u1", "ana@example.com"))
        let key = APIKey(id: "k1", userID: "u1", name: "laptop", prefix: "aiwf_abc", hash: "h1", createdAt: Self.start)
        try await store.insert(key)
        let used = try await store.key(hash: "h1", usedAt: Self.start.addingTimeInterval(10))
        #expect(used?.id == "k1" && used?.lastUsedAt == Self.start.addingTimeInterval(10))
        _ = try await store.key(hash: "h1", usedAt: Self.start.addingTimeInterval(30))
        #expect(try await store.keys(of: "u1").first?.lastUsedAt == Self.start.addingTimeInterval(10), "not written again within a minute")
        try await store.recordUsage(keyID: "k1", requests: 2, tokensIn: 100, tokensOut: 50, cost: 0.25)
        try await store.recordUsage(keyID: "k1", requests: 1, tokensIn: 10, tokensOut: 5, cost: 0.5)
        let counted = try #require(try await store.keys(of: "u1").first)
        #expect(counted.requests == 3 && counted.tokensIn == 110 && counted.tokensOut == 55 && counted.cost == 0.75)
        #expect(try await store.revokeKey("k1", of: "u2", at: Self.start) == false, "only its owner revokes it")
        #expect(try await store.revokeKey("k1", of: "u1", at: Self.start.addingTimeInterval(60)) == true)
        #expect(try await store.revokeKey("k1", of: "u1", at: Self.start.addingTimeInterval(61)) == false, "once")
        #expect(try await store.key(hash: "h1", usedAt: Self.start) == nil, "a revoked key lets nobody in")
        #expect(try await store.keys(of: "u1").first?.revokedAt == Self.start.addingTimeInterval(60))
    }

    @Test(arguments: Kind.allCases)
    func anIdempotencyKeyIsClaimedByOneOfManyAtOnceAndKeepsItsProject(kind: Kind) async throws {
        let (store, stop) = try await Self.store(kind)
        defer { Task { await stop() } }
        let claims = try await withThrowingTaskGroup(of: IdempotencyRecord?.self) { group in
            for _ in 0..<20 { group.addTask { try await store.claimIdempotencyKey("k", userID: "u1", bodyHash: "b", at: Self.start) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(claims.filter { $0 == nil }.count == 1, "exactly one request makes the project")
        #expect(claims.compactMap { $0 }.allSatisfy { $0 == IdempotencyRecord(bodyHash: "b", projectID: nil) })
        try await store.completeIdempotencyKey("k", userID: "u1", projectID: "p1")
        try await store.releaseIdempotencyKey("k", userID: "u1")
        #expect(try await store.claimIdempotencyKey("k", userID: "u1", bodyHash: "other", at: Self.start)?.projectID == "p1")
        #expect(try await store.claimIdempotencyKey("k", userID: "u2", bodyHash: "b", at: Self.start) == nil, "keys are per user")
        try await store.releaseIdempotencyKey("k", userID: "u2")
        #expect(try await store.claimIdempotencyKey("k", userID: "u2", bodyHash: "b", at: Self.start) == nil, "released: free again")
    }

    @Test(arguments: Kind.allCases)
    func aSessionLastsUntilItExpiresOrEndsAndExpiredOnesAreSwept(kind: Kind) async throws {
        let (store, stop) = try await Self.store(kind)
        defer { Task { await stop() } }
        try await store.insert(Self.user("u1", "ana@example.com"))
        let old = PortalSession(
            hash: "s0", userID: "u1", csrf: "c0", createdAt: Self.start, expiresAt: Self.start.addingTimeInterval(60))
        try await store.insert(old)
        #expect(try await store.session(hash: "s0", at: Self.start.addingTimeInterval(59)) == old)
        #expect(try await store.session(hash: "s0", at: Self.start.addingTimeInterval(61)) == nil, "expired")
        let later = Self.start.addingTimeInterval(3_600)
        let current = PortalSession(hash: "s1", userID: "u1", csrf: "c1", createdAt: later, expiresAt: later.addingTimeInterval(600))
        try await store.insert(current)
        #expect(try await store.session(hash: "s0", at: Self.start) == nil, "swept when a new one came")
        #expect(try await store.session(hash: "s1", at: later) == current)
        try await store.deleteSession(hash: "s1")
        #expect(try await store.session(hash: "s1", at: later) == nil, "signed out")
    }

    /// Gateway replicas started together against one database all find no user: one makes the first admin, the
    /// others start as well instead of failing on its address.
    @Test(arguments: Kind.allCases)
    func replicasStartingTogetherMakeOneFirstAdminAndNoneFails(kind: Kind) async throws {
        let (store, stop) = try await Self.store(kind)
        defer { Task { await stop() } }
        let passwords = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    try await Accounts(store: store, bcryptCost: 4).ensureFirstAdmin(email: nil, password: nil, logger: quiet)
                }
            }
            return try await group.reduce(into: [String]()) { made, password in password.map { made.append($0) } }
        }
        #expect(passwords.count == 1, "one replica made the admin and showed its password")
        #expect(try await store.userCount() == 1)
        let admin = try await Accounts(store: store, bcryptCost: 4).identify(email: Accounts.defaultAdmin, password: passwords[0])
        #expect(admin?.role == .admin)
    }
}
