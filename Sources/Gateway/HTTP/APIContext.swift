import Foundation
import Hummingbird

/// The request context of the API: who is calling, once the authenticator found out.
struct APIContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var identity: Identity?
    /// The portal session the caller signed in with, when they came with its cookie.
    var session: PortalSession?
    /// A portal form's fields, read (and its CSRF token checked) by the portal's middleware.
    var form = FormFields()

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// Bodies the API takes are small: a template's YAML is the largest.
    var maxUploadSize: Int { 1 << 20 }

    /// The caller; a 401 for a route that needs one when there is none.
    func caller() throws -> Identity {
        guard let identity else { throw APIError.unauthenticated }
        return identity
    }

    func admin() throws -> Identity {
        let identity = try caller()
        guard identity.isAdmin else { throw APIError.forbidden }
        return identity
    }
}
