import Crypto
import Foundation
import GRDB
import ServiceKit

/// Signed, expiring, single-use review links for email reviewers without an account.
///
/// A token is `payload.signature`: the payload holds 16 random bytes and the expiry, the signature is its
/// HMAC-SHA256 under the service's key, so a forged or expired token is refused before any lookup. Only the
/// SHA-256 of a token is stored; the token itself exists in the email alone. A decision uses the link up.
struct ReviewLinks: Sendable {
    let key: SymmetricKey

    /// Issues a link for `email` to decide `approvalID` until `expiresAt`; returns the token.
    func issue(approvalID: String, email: String, expiresAt: Date, now: Date = Date(), in db: Database) throws -> String {
        var payload = Data((0..<16).map { _ in UInt8.random(in: 0...255) })
        withUnsafeBytes(of: UInt64(max(0, expiresAt.timeIntervalSince1970)).bigEndian) { payload.append(contentsOf: $0) }
        let signature = Data(HMAC<SHA256>.authenticationCode(for: payload, using: key))
        let token = "\(payload.base64URL).\(signature.base64URL)"
        // A mail sent again (after a failed attempt, or a reminder) carries the only live link for this person.
        try ReviewLinkRecord.filter(Column("approvalID") == approvalID && Column("email") == email && Column("usedAt") == nil)
            .deleteAll(db)
        try ReviewLinkRecord(
            tokenHash: Self.hash(token), approvalID: approvalID, email: email, expiresAt: expiresAt, createdAt: now, usedAt: nil
        ).insert(db)
        return token
    }

    /// The stored link a token stands for, when its signature holds, it has not expired and it was not used.
    func link(for token: String, now: Date = Date(), in db: Database) throws -> ReviewLinkRecord {
        let parts = token.split(separator: ".")
        guard parts.count == 2, let payload = Data(base64URL: String(parts[0])), let signature = Data(base64URL: String(parts[1])),
            payload.count == 24, HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: payload, using: key)
        else {
            throw ApprovalRefusal.notAllowed("this review link is not valid; ask for a new one")
        }
        let expiry = payload.suffix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard Date(timeIntervalSince1970: TimeInterval(expiry)) > now else {
            throw ApprovalRefusal(code: "link-expired", message: "this review link expired; ask for a new one")
        }
        guard let link = try ReviewLinkRecord.fetchOne(db, key: Self.hash(token)) else {
            throw ApprovalRefusal.notAllowed("this review link is not valid; ask for a new one")
        }
        guard link.usedAt == nil else {
            throw ApprovalRefusal(code: "link-used", message: "this review link was already used to decide")
        }
        return link
    }

    static func hash(_ token: String) -> String { ContentHash.of(token) }

    /// The key from `AIWF_REVIEW_LINK_KEY` (base64), else from `file`, which is created with a new random key.
    ///
    /// The file is created in one step with mode 0600 (never readable by others, not even for a moment); a file that
    /// exists but cannot be read or holds too short a key is a start-up error, never silently replaced (that would
    /// invalidate every link already mailed).
    static func loadKey(file: URL, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SymmetricKey {
        if let encoded = environment["AIWF_REVIEW_LINK_KEY"], !encoded.isEmpty {
            guard let data = Data(base64Encoded: encoded), data.count >= 32 else {
                throw ConfigurationError("AIWF_REVIEW_LINK_KEY must be at least 32 bytes, base64-encoded")
            }
            return SymmetricKey(data: data)
        }
        if FileManager.default.fileExists(atPath: file.path) {
            guard let data = try? Data(contentsOf: file) else {
                throw ConfigurationError(
                    "\(file.path): the review-link key cannot be read; fix its permissions or set AIWF_REVIEW_LINK_KEY")
            }
            guard data.count >= 32 else {
                throw ConfigurationError(
                    "\(file.path): the review-link key is \(data.count) bytes, at least 32 are needed; restore it, or delete it to make a new one (links already sent stop working)"
                )
            }
            return SymmetricKey(data: data)
        }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let key = SymmetricKey(size: .bits256)
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ConfigurationError("\(file.path): cannot create the review-link key (\(String(cString: strerror(errno))))")
        }
        defer { close(descriptor) }
        let written = key.withUnsafeBytes { bytes in write(descriptor, bytes.baseAddress, bytes.count) }
        guard written == 32, fsync(descriptor) == 0 else {
            unlink(file.path)
            throw ConfigurationError("\(file.path): cannot write the review-link key (\(String(cString: strerror(errno))))")
        }
        return key
    }
}

extension Data {
    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    init?(base64URL: String) {
        var text = base64URL.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        self.init(base64Encoded: text)
    }
}
