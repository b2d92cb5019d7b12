import Foundation
import HTTPTypes
import Hummingbird

/// Finds the caller from `Authorization: Bearer <key>` or HTTP Basic (e-mail and password). A credential that is
/// wrong is refused at once; none at all leaves the context anonymous for the routes that allow it.
struct Authenticator: RouterMiddleware {
    typealias Context = APIContext
    let accounts: Accounts
    /// Requests per key; a key over its rate gets a 429 with `Retry-After`.
    var limiter: RateLimiter?

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        // The Anthropic clients send their key as `x-api-key`.
        guard let header = request.headers[.authorization] ?? request.headers[.apiKey].map({ "Bearer \($0)" }) else {
            return try await next(request, context)
        }
        var context = context
        let parts = header.split(separator: " ", maxSplits: 1)
        let scheme = parts.first?.lowercased() ?? ""
        let value = parts.count == 2 ? String(parts[1]).trimmingCharacters(in: .whitespaces) : ""
        switch scheme {
        case "bearer":
            context.identity = try await accounts.identify(key: value)
        case "basic":
            if let data = Data(base64Encoded: value), let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":") {
                context.identity = try await accounts.identify(
                    email: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
            }
        default:
            break
        }
        guard let identity = context.identity else {
            throw APIError(
                .unauthorized, "unauthenticated",
                "the credentials in Authorization are not valid (a revoked or unknown key, or a wrong password)")
        }
        if let limiter, let retryAfter = limiter.admit(identity.keyID ?? identity.userID) {
            throw APIError(
                .tooManyRequests, "rate-limited",
                "this key makes more than \(Int(limiter.perMinute)) requests a minute; wait \(retryAfter) s",
                retryAfter: retryAfter)
        }
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let apiKey = Self("x-api-key")!
}

/// The authenticator of the compatible APIs: a credential that is not valid leaves the caller anonymous, and each
/// route refuses in the shape of the API it imitates.
struct CompatAuthenticator: RouterMiddleware {
    typealias Context = APIContext
    let accounts: Accounts
    var limiter: RateLimiter?

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do {
            return try await Authenticator(accounts: accounts, limiter: limiter).handle(request, context: context, next: next)
        } catch let error as APIError where error.status == .unauthorized {
            return try await next(request, context)
        } catch let error as APIError where error.status == .tooManyRequests {
            return CompatDialect(request).response(CompatFailure(error))
        }
    }
}
