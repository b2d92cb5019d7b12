import Foundation
import Hummingbird

/// `/portal/sign-in` and `/portal/sign-out`. Attempts are limited per address, so a password cannot be guessed
/// by trying.
struct SignInPages {
    let views: PortalViews
    let accounts: Accounts
    let attempts = RateLimiter(perMinute: 10, burst: 10)

    struct View {
        var chrome: Chrome
        var typedEmail: String
        var next: String
        var error: String?
    }

    func add(to portal: RouterGroup<APIContext>) {
        portal.get("sign-in") { request, context in
            if context.session != nil { return PortalViews.redirect(Self.safe(request.uri.queryParameters["next"].map(String.init))) }
            return form(request, context, email: "", next: request.uri.queryParameters["next"].map(String.init) ?? "", error: nil)
        }
        portal.post("sign-in") { request, context in
            let email = context.form.text("email") ?? ""
            let next = context.form["next"] ?? ""
            if attempts.admit("sign-in:\(email.lowercased())") != nil {
                return form(
                    request, context, email: email, next: next, error: "Too many attempts for this address. Wait a minute and try again.",
                    status: .tooManyRequests)
            }
            guard let identity = try await accounts.identify(email: email, password: context.form["password"] ?? "") else {
                return form(
                    request, context, email: email, next: next, error: "The e-mail address or the password is not right.",
                    status: .unauthorized)
            }
            let (token, _) = try await accounts.startSession(for: identity)
            var response = PortalViews.redirect(Self.safe(next))
            response.setCookie(PortalCookie.make(PortalCookie.session, token, maxAge: Int(Accounts.sessionLifetime), for: request))
            return response
        }
        portal.post("sign-out") { request, context in
            if let token = request.cookies[PortalCookie.session]?.value { try await accounts.endSession(token: token) }
            var response = PortalViews.redirect("/portal/sign-in")
            response.setCookie(PortalCookie.make(PortalCookie.session, "", maxAge: 0, for: request))
            return response
        }
    }

    private func form(
        _ request: Request, _ context: APIContext, email: String, next: String, error: String?, status: HTTPResponse.Status = .ok
    ) -> Response {
        let token = FormToken.current(request)
        var response = views.page(
            "sign-in",
            View(chrome: Chrome(title: "Sign in", context: context, formToken: token), typedEmail: email, next: next, error: error),
            status: status)
        FormToken.set(token, on: &response, for: request)
        return response
    }

    /// Where to go after signing in: only a path of this site, never another host.
    static func safe(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"), !next.hasPrefix("/portal/sign-") else {
            return "/portal"
        }
        return next
    }
}

/// The form token of the pages that have no session: kept in a cookie of its own and sent back in the form.
enum FormToken {
    static func current(_ request: Request) -> String {
        request.cookies[PortalCookie.form]?.value ?? Accounts.randomToken()
    }

    static func set(_ token: String, on response: inout Response, for request: Request) {
        guard request.cookies[PortalCookie.form]?.value != token else { return }
        response.setCookie(PortalCookie.make(PortalCookie.form, token, maxAge: 24 * 3600, for: request))
    }
}
