import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore

/// Posts JSON to webhook URLs, signed so the receiver can check it came from us and was not replayed.
///
/// Headers: `X-Aiwf-Event`, `X-Aiwf-Delivery` (stable per notification), `X-Aiwf-Timestamp` (Unix seconds) and
/// `X-Aiwf-Signature: sha256=<hex>`, the HMAC-SHA256 of `<timestamp>.<body>` under the shared secret.
struct WebhookSender: Sendable {
    let client: HTTPClient
    let secret: SymmetricKey
    var timeout: Duration = .seconds(15)

    func send(to url: String, event: String, delivery: String, body: Data, now: Date = Date()) async throws {
        let timestamp = String(Int(now.timeIntervalSince1970))
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "x-aiwf-event", value: event)
        request.headers.add(name: "x-aiwf-delivery", value: delivery)
        request.headers.add(name: "x-aiwf-timestamp", value: timestamp)
        request.headers.add(name: "x-aiwf-signature", value: "sha256=" + Self.signature(timestamp: timestamp, body: body, secret: secret))
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
        guard (200..<300).contains(response.status.code) else {
            let text = String(buffer: try await response.body.collect(upTo: 64 * 1024))
            throw WebhookError(message: "\(url) answered \(response.status.code): \(text.prefix(200))")
        }
    }

    static func signature(timestamp: String, body: Data, secret: SymmetricKey) -> String {
        HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).".utf8) + body, using: secret).map { String(format: "%02x", $0) }.joined()
    }
}

struct WebhookError: Error, CustomStringConvertible {
    let message: String
    var description: String { "webhook: \(message)" }
}
