import Contracts
import Foundation

/// What a person may do: a `user` sees and acts on their own projects and approvals; an `admin` on everyone's.
enum Role: String, Codable, Sendable, CaseIterable {
    case admin, user
}

/// A person who signs in.
struct User: Codable, Sendable, Equatable {
    var id: String
    var email: String
    var role: Role
    /// bcrypt.
    var passwordHash: String
    var createdAt: Date
}

/// An API key as stored: only the SHA-256 of the secret is kept, the secret is shown once when it is made.
struct APIKey: Codable, Sendable, Equatable {
    var id: String
    var userID: String
    var name: String
    /// The secret's first characters, so a person can tell their keys apart.
    var prefix: String
    var hash: String
    var createdAt: Date
    var lastUsedAt: Date?
    var revokedAt: Date?
    /// What the OpenAI- and Anthropic-compatible endpoints generated with the key.
    var requests = 0
    var tokensIn = 0
    var tokensOut = 0
    var cost = 0.0
}

/// Who is calling, as the routes see it.
struct Identity: Sendable, Equatable {
    var userID: String
    var email: String
    var role: Role
    /// The key the request came with; nil for a password (HTTP Basic).
    var keyID: String?

    var isAdmin: Bool { role == .admin }

    /// The acting user as the services behind the Gateway receive it.
    var actor: Actor { Actor(userID: userID, roles: [role.rawValue]) }
}

/// What an `Idempotency-Key` was first used for.
struct IdempotencyRecord: Sendable, Equatable {
    var bodyHash: String
    /// Nil while the first request with the key is still being handled.
    var projectID: String?
}

/// A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, with the form token every
/// form of the session must send back (CSRF).
struct PortalSession: Codable, Sendable, Equatable {
    var hash: String
    var userID: String
    var csrf: String
    var createdAt: Date
    var expiresAt: Date
}
