import Foundation
import Hummingbird

/// `/portal/keys`: the signed-in person's API keys (make one, shown once; revoke one); and for admins
/// `/portal/admin/users`: everyone who can sign in, and a form to add someone.
struct AccountPages {
    let views: PortalViews
    let accounts: Accounts

    struct KeysView {
        struct Key {
            var id: String
            var name: String
            var prefix: String
            var created: String
            var lastUsed: String?
            var revoked: String?
            var requests: Int
            var cost: String
            let live: Bool
        }
        var chrome: Chrome
        var keys: [Key]
        /// The secret of the key just made: shown this once.
        var made: String?
        var nameError: String?
        let any: Bool
    }

    struct UsersView {
        struct Person {
            var email: String
            var role: String
            var created: String
        }
        var chrome: Chrome
        var people: [Person]
        var email: String
        var emailError: String?
        var passwordError: String?
        var admin: Bool
        var added: String?
    }

    func add(to portal: RouterGroup<APIContext>) {
        portal.get("keys") { _, context in try await keys(context) }
        portal.post("keys") { _, context in
            let caller = try context.caller()
            guard let name = context.form.text("name"), name.count <= 100 else {
                return try await keys(context, nameError: "Give the key a name of up to 100 characters, like “laptop”.")
            }
            let (_, secret) = try await accounts.createKey(for: caller.userID, name: name)
            return try await keys(context, made: secret)
        }
        portal.post("keys/:id/revoke") { _, context in
            _ = try await accounts.revokeKey(try context.parameters.require("id"), of: try context.caller().userID)
            return PortalViews.redirect("/portal/keys")
        }
        portal.get("admin/users") { _, context in try await users(context) }
        portal.post("admin/users") { _, context in
            _ = try context.admin()
            let email = context.form.text("email") ?? ""
            let role: Role = context.form["role"] == "admin" ? .admin : .user
            do {
                let user = try await accounts.createUser(email: email, password: context.form["password"] ?? "", role: role)
                return try await users(context, added: user.email)
            } catch let refusal as APIError where refusal.status == .unprocessableContent || refusal.status == .conflict {
                let problems = Dictionary(refusal.details.map { ($0.pointer, $0.message) }, uniquingKeysWith: { first, _ in first })
                return try await users(
                    context, email: email, admin: role == .admin,
                    emailError: problems["/email"].map(WizardAnswers.sentence)
                        ?? (problems.isEmpty ? WizardAnswers.sentence(refusal.message) : nil),
                    passwordError: problems["/password"].map(WizardAnswers.sentence), status: .unprocessableContent)
            }
        }
    }

    private func keys(_ context: APIContext, made: String? = nil, nameError: String? = nil) async throws -> Response {
        let caller = try context.caller()
        let keys = try await accounts.keys(of: caller.userID).map { key in
            KeysView.Key(
                id: key.id, name: key.name, prefix: key.prefix, created: Dates.short(key.createdAt),
                lastUsed: key.lastUsedAt.map(Dates.short),
                revoked: key.revokedAt.map(Dates.short), requests: key.requests, cost: Money.format(key.cost), live: key.revokedAt == nil)
        }
        let view = KeysView(
            chrome: Chrome(title: "API keys", context: context, path: "/portal/keys"), keys: keys, made: made, nameError: nameError,
            any: !keys.isEmpty)
        return views.page("keys", view, status: nameError == nil ? (made == nil ? .ok : .created) : .unprocessableContent)
    }

    private func users(
        _ context: APIContext, email: String = "", admin: Bool = false, emailError: String? = nil, passwordError: String? = nil,
        added: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        _ = try context.admin()
        let people = try await accounts.store.users().map {
            UsersView.Person(email: $0.email, role: $0.role == .admin ? "Admin" : "User", created: Dates.short($0.createdAt))
        }
        let view = UsersView(
            chrome: Chrome(title: "People", context: context, path: "/portal/admin/users"), people: people, email: email,
            emailError: emailError, passwordError: passwordError, admin: admin, added: added)
        return views.page("users", view, status: status)
    }
}
