import Contracts
import Crypto
import Foundation
import HummingbirdBcrypt
import Logging

/// Sign-in, users and API keys over an ``AccountStore``.
struct Accounts: Sendable {
    let store: any AccountStore
    /// bcrypt's cost; lower in tests.
    var bcryptCost: UInt8 = 11
    var clock: @Sendable () -> Date = { Date() }
    let keys = KeyCache()
    let usage = UsageCounter()

    /// The first admin's address when none is given (`.localhost` is reserved for this kind of use).
    static let defaultAdmin = "admin@aiwf.localhost"

    /// Keys look like `aiwf_` and 43 URL-safe characters (32 random bytes).
    static let keyPrefix = "aiwf_"

    /// The caller of a `Bearer` key, if the key is live.
    func identify(key secret: String) async throws -> Identity? {
        guard secret.hasPrefix(Self.keyPrefix), secret.count < 200 else { return nil }
        let hash = Self.hash(secret)
        let now = clock()
        if let known = keys.identity(for: hash, at: now) { return known }
        guard let key = try await store.key(hash: hash, usedAt: now), let user = try await store.user(id: key.userID) else { return nil }
        let identity = Identity(userID: user.id, email: user.email, role: user.role, keyID: key.id)
        keys.remember(identity, for: hash, at: now)
        return identity
    }

    /// The caller of an e-mail address and password, if they match.
    func identify(email: String, password: String) async throws -> Identity? {
        guard password.utf8.count <= 72, let user = try await store.user(email: email) else { return nil }
        let hash = user.passwordHash
        let matches = await Task.detached { Bcrypt.verify(password, hash: hash) }.value
        return matches ? Identity(userID: user.id, email: user.email, role: user.role, keyID: nil) : nil
    }

    func createUser(email: String, password: String, role: Role) async throws -> User {
        let email = email.trimmingCharacters(in: .whitespaces)
        var problems: [APIError.Detail] = []
        if !EmailAddress.isValid(email) {
            problems.append(.init(pointer: "/email", message: "give an e-mail address such as ana@example.com"))
        }
        if password.count < 10 || password.utf8.count > 72 {
            problems.append(.init(pointer: "/password", message: "a password has 10 to 72 characters"))
        }
        guard problems.isEmpty else { throw APIError.invalid("the user is not valid", details: problems) }
        let cost = bcryptCost
        let hash = await Task.detached { Bcrypt.hash(password, cost: cost) }.value
        let user = User(id: UUID().uuidString.lowercased(), email: email, role: role, passwordHash: hash, createdAt: clock())
        do {
            try await store.insert(user)
        } catch AccountError.emailTaken {
            throw APIError(.conflict, "email-taken", "a user with the address \(email) exists already")
        }
        return user
    }

    /// Revokes a key of `userID`'s; false when they have no live key of that id.
    func revokeKey(_ id: String, of userID: String) async throws -> Bool {
        let revoked = try await store.revokeKey(id, of: userID, at: clock())
        keys.forget(keyID: id)
        return revoked
    }

    /// A new key for `userID`; the secret is returned this once and never stored.
    func createKey(for userID: String, name: String) async throws -> (APIKey, secret: String) {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard (1...100).contains(name.count) else {
            throw APIError.invalid(
                "the key is not valid", details: [.init(pointer: "/name", message: "name the key in 1 to 100 characters")])
        }
        let secret = Self.keyPrefix + Self.randomToken()
        let key = APIKey(
            id: UUID().uuidString.lowercased(), userID: userID, name: name, prefix: String(secret.prefix(12)), hash: Self.hash(secret),
            createdAt: clock())
        try await store.insert(key)
        return (key, secret)
    }

    /// With no user at all, makes the first admin: from `email`/`password` when given, else ``defaultAdmin`` with a
    /// one-time password, which is returned (and logged) this once.
    @discardableResult
    func ensureFirstAdmin(email: String?, password: String?, logger: Logger) async throws -> String? {
        guard try await store.userCount() == 0 else { return nil }
        let address = email ?? Self.defaultAdmin
        let secret = password ?? Self.randomToken()
        do {
            _ = try await createUser(email: address, password: secret, role: .admin)
        } catch let error as APIError where error.code == "email-taken" {
            // Replicas that start together against one shared database all saw no users; one of them made it.
            logger.info("the first admin was made by another Gateway replica", metadata: ["email": "\(address)"])
            return nil
        }
        guard password == nil else {
            logger.info("first admin created", metadata: ["email": "\(address)"])
            return nil
        }
        logger.notice(
            "first admin created; this password is shown once: sign in and create an API key",
            metadata: ["email": "\(address)", "password": "\(secret)"])
        return secret
    }

    // MARK: Portal sessions

    /// How long a portal sign-in lasts.
    static let sessionLifetime: TimeInterval = 7 * 24 * 3600

    /// A new session for `identity`: the cookie's token (returned this once) and the session as stored.
    func startSession(for identity: Identity) async throws -> (token: String, session: PortalSession) {
        let token = Self.randomToken()
        let now = clock()
        let session = PortalSession(
            hash: Self.hash(token), userID: identity.userID, csrf: Self.randomToken(), createdAt: now,
            expiresAt: now.addingTimeInterval(Self.sessionLifetime))
        try await store.insert(session)
        return (token, session)
    }

    /// The signed-in user of a session cookie's token, while the session lasts.
    func session(token: String) async throws -> (Identity, PortalSession)? {
        guard (20...100).contains(token.count) else { return nil }
        guard let session = try await store.session(hash: Self.hash(token), at: clock()),
            let user = try await store.user(id: session.userID)
        else { return nil }
        return (Identity(userID: user.id, email: user.email, role: user.role, keyID: nil), session)
    }

    func endSession(token: String) async throws {
        try await store.deleteSession(hash: Self.hash(token))
    }

    /// A person's keys, with the usage counted so far (not yet written by the periodic flush) included.
    func keys(of userID: String) async throws -> [APIKey] {
        await usage.flush(to: store)
        return try await store.keys(of: userID)
    }

    static func hash(_ secret: String) -> String { hash(Data(secret.utf8)) }

    /// SHA-256 in lower-case hex.
    static func hash(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    static func randomToken() -> String {
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

}
