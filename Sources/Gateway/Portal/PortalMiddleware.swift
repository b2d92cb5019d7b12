import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// The portal's cookies: the session and, before a sign-in, the form token of the pages that need no session.
enum PortalCookie {
    static let session = "aiwf_session"
    static let form = "aiwf_form"

    /// `HttpOnly`, `SameSite=Lax`, and `Secure` when the browser came over TLS (directly or through a proxy).
    static func make(_ name: String, _ value: String, maxAge: Int, for request: Request) -> Cookie {
        let secure = request.head.scheme == "https" || request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https"
        return Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }
}

/// Finds the portal user from the session cookie, and checks every form sent with POST: its `_csrf` field must be
/// the session's form token (or, with no session, the one the page's cookie holds), and a browser's `Origin`, when it
/// sends one, must be this host. The fields are kept on the context for the route.
struct PortalSessionMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let accounts: Accounts

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        var context = context
        if let token = request.cookies[PortalCookie.session]?.value, let found = try await accounts.session(token: token) {
            context.identity = found.0
            context.session = found.1
        }
        guard request.method == .post else { return try await next(request, context) }
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        context.form = FormFields(String(buffer: body))
        if let origin = request.headers[.origin], let host = request.head.authority,
            URL(string: origin)?.host.map({ host == $0 || host.hasPrefix($0 + ":") }) != true
        {
            throw PortalRefusal.forgedForm
        }
        let expected = context.session?.csrf ?? request.cookies[PortalCookie.form]?.value
        guard let expected, let sent = context.form["_csrf"], Self.same(expected, sent) else { throw PortalRefusal.forgedForm }
        return try await next(request, context)
    }

    /// Compares in time that does not depend on where the two differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let (a, b) = (Array(a.utf8), Array(b.utf8))
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Why the portal turned a request away, as a page says it.
struct PortalRefusal: Error {
    let status: HTTPResponse.Status
    let title: String
    let message: String

    static let forgedForm = PortalRefusal(
        status: .forbidden, title: "This form has expired",
        message: "The form was not sent from this site, or it is too old. Go back, reload the page and send it again.")
}

/// Renders what a portal route throws as a page: with no sign-in, the sign-in page (then back to where the person
/// was going); a refusal from behind as a page that says what to do.
struct PortalErrorMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let views: PortalViews

    struct ErrorView {
        var chrome: Chrome
        var status: Int
        var heading: String
        var message: String
    }

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let refusal as PortalRefusal {
            return page(refusal.status, refusal.title, refusal.message, context: context)
        } catch {
            let failure = (error as? APIError) ?? APIErrorMiddleware<APIContext>.apiError(for: error, context: context)
            if failure.status == .unauthorized, context.identity == nil {
                let next = request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
                return PortalViews.redirect(
                    "/portal/sign-in?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
            }
            let heading =
                switch failure.status {
                case .notFound: "Not found"
                case .forbidden: "Not allowed"
                case .conflict: "This changed meanwhile"
                case .serviceUnavailable: "Busy, try again"
                case .tooManyRequests: "Too many requests"
                default: "Something is not right"
                }
            return page(failure.status, heading, failure.message, context: context)
        }
    }

    private func page(_ status: HTTPResponse.Status, _ heading: String, _ message: String, context: APIContext) -> Response {
        views.page(
            "error",
            ErrorView(chrome: Chrome(title: heading, context: context), status: Int(status.code), heading: heading, message: message),
            status: status)
    }
}
