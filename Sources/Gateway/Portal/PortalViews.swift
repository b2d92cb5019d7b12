import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The portal's Mustache templates, its stylesheet and its script, read once from the Gateway's resources.
/// Every value a template shows with `{{…}}` is HTML-escaped by Mustache; only the sanitised previews use `{{{…}}}`.
struct PortalViews: Sendable {
    let library: MustacheLibrary
    /// By file name: `portal.css`, `portal.js`.
    let assets: [String: ByteBuffer]

    static func load() throws -> PortalViews {
        guard let resources = Bundle.module.resourceURL else { throw PortalViewsError("the Gateway's resources are missing") }
        let templates = resources.appendingPathComponent("Templates")
        var library = MustacheLibrary()
        for name in try FileManager.default.contentsOfDirectory(atPath: templates.path) where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: templates.appendingPathComponent(name), encoding: .utf8)
            do {
                library.register(try MustacheTemplate(string: text), named: String(name.dropLast(".mustache".count)))
            } catch {
                throw PortalViewsError("\(name): \(error)")
            }
        }
        var assets: [String: ByteBuffer] = [:]
        let folder = resources.appendingPathComponent("Assets")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            assets[name] = ByteBuffer(bytes: try Data(contentsOf: folder.appendingPathComponent(name)))
        }
        return PortalViews(library: library, assets: assets)
    }

    /// `template` rendered with `view` as an HTML page the browser must not cache or frame.
    func page(_ template: String, _ view: Any, status: HTTPResponse.Status = .ok) -> Response {
        let text = library.render(view, withTemplate: template) ?? "template \(template) is missing"
        return Response(status: status, headers: Self.pageHeaders, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// Scripts and styles only from the Gateway itself, nothing framed, forms only to the Gateway.
    static let pageHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
        .contentSecurityPolicy:
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff", HTTPField.Name("Referrer-Policy")!: "same-origin",
    ]

    /// A redirect after a form: the browser asks for `location` with a GET.
    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }
}

struct PortalViewsError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What every portal page shows around its content: the title, who is signed in, the navigation and the form token.
struct Chrome: Sendable {
    struct Link: Sendable {
        var label: String
        var href: String
        var current: Bool
    }

    var title: String
    var signedInAs: String?
    var csrf: String
    var links: [Link]

    /// `formToken` is for the pages without a session (sign-in, review links): the one their cookie holds.
    init(title: String, context: APIContext, path: String = "", formToken: String? = nil) {
        self.title = title
        signedInAs = context.session == nil ? nil : context.identity?.email
        csrf = context.session?.csrf ?? formToken ?? ""
        var links: [(String, String)] = []
        if let identity = context.identity {
            links = [
                ("Projects", "/portal"), ("New project", "/portal/create"), ("Approvals", "/portal/approvals"),
                ("API keys", "/portal/keys"),
            ]
            if identity.isAdmin { links.append(("Admin", "/portal/admin")) }
            links.append(("Docs", "/docs"))
        }
        self.links = links.map { label, href in
            Link(label: label, href: href, current: href == path || (href != "/portal" && path.hasPrefix(href + "/")))
        }
    }
}
