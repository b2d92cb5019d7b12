import AMQPClient
import Foundation
import Hummingbird
import Messaging
import NIOCore

/// Every refusal of the API: `{"error": {"code", "message", "details"}}` with the status that fits.
struct APIError: HTTPResponseError, CustomStringConvertible {
    /// A field that was wrong, by its JSON pointer.
    struct Detail: Codable, Sendable, Equatable {
        var pointer: String
        var message: String
    }

    let status: HTTPResponse.Status
    let code: String
    let message: String
    var details: [Detail] = []
    var retryAfter: Int?
    /// For a 416: the size the range missed.
    var contentRange: String?

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, details: [Detail] = [], retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.retryAfter = retryAfter
    }

    var description: String { "\(status.code) \(code): \(message)" }

    static func invalid(_ message: String, details: [Detail] = []) -> APIError {
        APIError(.unprocessableContent, "invalid", message, details: details)
    }

    static func badRequest(_ message: String, details: [Detail] = []) -> APIError {
        APIError(.badRequest, "bad-request", message, details: details)
    }

    static func notFound(_ what: String) -> APIError { APIError(.notFound, "not-found", what) }

    static let unauthenticated = APIError(
        .unauthorized, "unauthenticated", "send an API key as 'Authorization: Bearer aiwf_…' (or an e-mail and password with HTTP Basic)")

    static let forbidden = APIError(.forbidden, "forbidden", "this needs the admin role")

    /// A refusal from a service behind the Gateway, by its code.
    init(remote: RemoteError) {
        switch remote.code {
        case "not-found": self.init(.notFound, remote.code, remote.message)
        case "invalid", "bad_request", "invalid-template", "validation": self.init(.unprocessableContent, "invalid", remote.message)
        case "wrong-state", "conflict", "stale", "not-pending", "content-changed": self.init(.conflict, remote.code, remote.message)
        case "unauthenticated": self.init(.unauthorized, remote.code, remote.message)
        case "not-allowed", "forbidden": self.init(.forbidden, remote.code, remote.message)
        case "unavailable": self.init(.serviceUnavailable, remote.code, remote.message, retryAfter: 5)
        default: self.init(.unprocessableContent, remote.code, remote.message)
        }
    }

    /// The body as the API sends it.
    struct Body: Codable, Sendable {
        struct Inner: Codable, Sendable {
            var code: String
            var message: String
            var details: [Detail]
        }
        var error: Inner
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if status == .unauthorized { headers[.wwwAuthenticate] = #"Bearer realm="aiwf""# }
        if let contentRange { headers[.contentRange] = contentRange }
        let data = try JSONEncoder().encode(Body(error: Body.Inner(code: code, message: message, details: details)))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns whatever a route throws into an ``APIError``: Hummingbird's own (unknown route, body too large), a service
/// that did not answer in time (503 with `Retry-After`), a refusal from behind; anything else is a logged 500.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch {
            return try Self.apiError(for: error, context: context).response(from: request, context: context)
        }
    }

    static func apiError(for error: any Error, context: Context) -> APIError {
        switch error {
        case let error as RemoteError:
            return APIError(remote: error)
        case let error as RequestTimeoutError:
            return APIError(
                .serviceUnavailable, "unavailable", "a service did not answer in time (\(error.routingKey)); try again shortly",
                retryAfter: 5)
        case let error as AMQPError where error.code == .unroutable:
            return APIError(
                .serviceUnavailable, "unavailable", "the service that answers this is not running; try again once it is", retryAfter: 5)
        case is NIOTooManyBytesError:
            return APIError(.contentTooLarge, "too-large", "the body is larger than the 1 MiB this route takes")
        case let error as HTTPError:
            let code =
                switch error.status {
                case .notFound: "not-found"
                case .contentTooLarge: "too-large"
                case .methodNotAllowed: "method-not-allowed"
                case .unsupportedMediaType: "unsupported-media-type"
                default: "bad-request"
                }
            let message =
                switch error.status {
                case .notFound: "no such route; the API is described at /api/v1/openapi.yaml"
                case .contentTooLarge: "the body is larger than this route takes"
                default: error.body ?? error.status.reasonPhrase
                }
            return APIError(error.status, code, message)
        default:
            context.logger.error("unexpected error: \(error)")
            return APIError(.internalServerError, "internal", "something went wrong on our side; it has been logged")
        }
    }
}
