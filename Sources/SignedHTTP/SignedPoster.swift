import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore

/// Posts JSON to an outside URL, signed so the receiver can check it came from aiwf and was not replayed: the
/// approval webhooks and the `http.post` stage action.
///
/// Headers: `X-Aiwf-Event`, `X-Aiwf-Delivery` (stable per delivery, so a retried one can be recognised),
/// `X-Aiwf-Timestamp` (Unix seconds) and `X-Aiwf-Signature: sha256=<hex>`, the HMAC-SHA256 of `<timestamp>.<body>`
/// under the shared secret.
public struct SignedPoster: Sendable {
    public let client: HTTPClient
    public let secret: SymmetricKey
    public var timeout: Duration
    /// The most of an answer that is read.
    public var maximumResponseBytes: Int

    public init(client: HTTPClient, secret: SymmetricKey, timeout: Duration = .seconds(15), maximumResponseBytes: Int = 1 << 20) {
        self.client = client
        self.secret = secret
        self.timeout = timeout
        self.maximumResponseBytes = maximumResponseBytes
    }

    /// Posts `body`; returns the answer's body when the status is 2xx, else throws ``SignedPostError``.
    @discardableResult
    public func send(to url: String, event: String, delivery: String, body: Data, now: Date = Date()) async throws -> Data {
        let timestamp = String(Int(now.timeIntervalSince1970))
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "x-aiwf-event", value: event)
        request.headers.add(name: "x-aiwf-delivery", value: delivery)
        request.headers.add(name: "x-aiwf-timestamp", value: timestamp)
        request.headers.add(name: "x-aiwf-signature", value: "sha256=" + Self.signature(timestamp: timestamp, body: body, secret: secret))
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
        } catch {
            throw SignedPostError(status: nil, message: "\(url) could not be reached: \(error)")
        }
        let answer: ByteBuffer
        do {
            answer = try await response.body.collect(upTo: maximumResponseBytes)
        } catch {
            throw SignedPostError(status: Int(response.status.code), message: "\(url) answered more than \(maximumResponseBytes) bytes")
        }
        guard (200..<300).contains(response.status.code) else {
            throw SignedPostError(
                status: Int(response.status.code), message: "\(url) answered \(response.status.code): \(String(buffer: answer).prefix(200))"
            )
        }
        return Data(answer.readableBytesView)
    }

    public static func signature(timestamp: String, body: Data, secret: SymmetricKey) -> String {
        HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).".utf8) + body, using: secret).map { String(format: "%02x", $0) }.joined()
    }
}

/// A post that did not get a 2xx answer.
public struct SignedPostError: Error, CustomStringConvertible, Sendable {
    /// The answer's status; nil when there was none (unreachable, timed out).
    public let status: Int?
    public let message: String

    public var description: String { message }

    /// Whether the same post later may succeed: no answer, a server error, or too many requests.
    public var isRetryable: Bool { status.map { $0 >= 500 || $0 == 429 || $0 == 408 } ?? true }
}
