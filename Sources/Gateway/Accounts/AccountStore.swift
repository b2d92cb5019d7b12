import Foundation

/// Users, their API keys and the idempotency keys of their requests. Everything a Gateway replica needs to know
/// about a caller is here, so replicas that share the store are interchangeable.
protocol AccountStore: Sendable {
    func userCount() async throws -> Int
    func user(id: String) async throws -> User?
    func user(email: String) async throws -> User?
    func users() async throws -> [User]
    /// Refused with ``AccountError/emailTaken`` when the address is in use.
    func insert(_ user: User) async throws

    func insert(_ key: APIKey) async throws
    func keys(of userID: String) async throws -> [APIKey]
    /// The live key whose secret hashes to `hash`, marked as used at `now`.
    func key(hash: String, usedAt now: Date) async throws -> APIKey?
    /// Whether a live key of `userID` was revoked.
    func revokeKey(_ id: String, of userID: String, at now: Date) async throws -> Bool

    /// Adds answered generations to a key's usage.
    func recordUsage(keyID: String, requests: Int, tokensIn: Int, tokensOut: Int, cost: Double) async throws

    /// Claims `key` for `bodyHash`; returns what it was first used for when it was claimed before.
    func claimIdempotencyKey(_ key: String, userID: String, bodyHash: String, at now: Date) async throws -> IdempotencyRecord?
    /// Records the project the first request made.
    func completeIdempotencyKey(_ key: String, userID: String, projectID: String) async throws
    /// Gives a claim back when its request failed, so the key can be used again.
    func releaseIdempotencyKey(_ key: String, userID: String) async throws

    func insert(_ session: PortalSession) async throws
    /// The session whose token hashes to `hash`, if it has not expired by `now`.
    func session(hash: String, at now: Date) async throws -> PortalSession?
    func deleteSession(hash: String) async throws
}

enum AccountError: Error, Equatable {
    case emailTaken
}
